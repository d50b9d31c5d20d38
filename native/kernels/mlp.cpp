// The small MLP of mlp.h on the dense-layer kernels.
#include "mlp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "rng.h"

namespace rb {

size_t MlpShape::param_count() const {
  size_t n = 0;
  for (size_t l = 0; l < layers; ++l) n += static_cast<size_t>(sizes[l + 1]) * (static_cast<size_t>(sizes[l]) + 1);
  return n;
}

size_t MlpShape::act_width() const {
  size_t n = 0;
  for (size_t l = 1; l <= layers; ++l) n += static_cast<size_t>(sizes[l]);
  return n;
}

namespace {

// Offsets of layer l's weight in the parameter array and of its output in a row of activations.
struct LayerAt {
  size_t in, out, w, act;
};

LayerAt layer_at(const MlpShape& s, size_t l, size_t rows) {
  LayerAt a{static_cast<size_t>(s.sizes[l]), static_cast<size_t>(s.sizes[l + 1]), 0, 0};
  for (size_t k = 0; k < l; ++k) {
    a.w += static_cast<size_t>(s.sizes[k + 1]) * (static_cast<size_t>(s.sizes[k]) + 1);
    a.act += rows * static_cast<size_t>(s.sizes[k + 1]);
  }
  return a;
}

}  // namespace

void mlp_forward(const MlpShape& s, const float* params, const float* x, size_t rows, float* acts, size_t threads,
                 MlpScratch& scratch) {
  if (rows == 0) return;
  const float* in = x;
  for (size_t l = 0; l < s.layers; ++l) {
    const LayerAt a = layer_at(s, l, rows);
    float* y = acts + a.act;
    const float* w = params + a.w;
    dense_forward(in, rows, a.in, w, w + a.out * a.in, a.out, y, /*relu=*/l + 1 < s.layers, false, threads,
                  scratch.pack);
    in = y;
  }
}

void mlp_backward(const MlpShape& s, const float* params, float* grads, const float* x, const float* acts, size_t rows,
                  const float* d_out, float* d_in, size_t threads, MlpScratch& scratch) {
  if (rows == 0) return;
  // dy: dLoss/d(layer l's output before its ReLU); the two buffers take turns as dy and dx.
  size_t width = s.out();
  float* dy = scratch.grad_a.get(rows * width);
  std::memcpy(dy, d_out, rows * width * sizeof(float));
  bool in_a = true;
  for (size_t l = s.layers; l-- > 0;) {
    const LayerAt a = layer_at(s, l, rows);
    const float* input = l == 0 ? x : acts + layer_at(s, l - 1, rows).act;
    const float* w = params + a.w;
    float* gw = grads + a.w;
    dense_backward_params(dy, input, rows, a.out, a.in, gw, gw + a.out * a.in, threads, scratch.pack);
    if (l == 0) {
      if (d_in) dense_backward_input(dy, rows, a.out, w, a.in, d_in, false, threads, scratch.pack);
      break;
    }
    // The other buffer may grow (moving its data); dy's is left alone, so dy stays valid.
    AlignedBuffer& next = in_a ? scratch.grad_b : scratch.grad_a;
    float* dx = next.get(rows * a.in);
    dense_backward_input(dy, rows, a.out, w, a.in, dx, false, threads, scratch.pack);
    relu_backward(input, dx, rows * a.in);
    dy = dx;
    in_a = !in_a;
  }
}

void mlp_adam(const MlpShape& s, float* params, float* grads, float* m, float* v, uint64_t step, const AdamConfig& o) {
  const double t = static_cast<double>(step == 0 ? 1 : step);
  const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(o.beta1), t));
  const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(o.beta2), t));
  const float b1 = o.beta1, b2 = o.beta2, lr = o.lr, eps = o.eps;
  auto update = [&](size_t begin, size_t end, float decay) {
    for (size_t i = begin; i < end; ++i) {
      const float g = grads[i] + decay * params[i];
      m[i] = b1 * m[i] + (1.f - b1) * g;
      v[i] = b2 * v[i] + (1.f - b2) * g * g;
      params[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
      grads[i] = 0.f;
    }
  };
  size_t at = 0;
  for (size_t l = 0; l < s.layers; ++l) {
    const size_t in = static_cast<size_t>(s.sizes[l]), out = static_cast<size_t>(s.sizes[l + 1]);
    update(at, at + out * in, o.l2);
    update(at + out * in, at + out * (in + 1), 0.f);
    at += out * (in + 1);
  }
}

void outer_rows(const float* left, size_t a, const float* right, size_t b, size_t rows, float* out) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < a; ++i) {
      const float g = left[r * a + i];
      const float* br = right + r * b;
      float* o = out + (r * a + i) * b;
      for (size_t j = 0; j < b; ++j) o[j] = g * br[j];
    }
}

double mlp_fit_mse(const MlpShape& s, float* params, float* grads, float* m, float* v, uint64_t first_step,
                   const float* x, const float* y, const int32_t* order, size_t count, const MseOptions& o,
                   size_t threads, MlpScratch& scratch) {
  const size_t in = s.in(), out = s.out(), batch = std::max<size_t>(1, o.batch);
  Rng rng(o.seed, first_step, 0x6d6c70);
  std::vector<float> d_out;
  double total = 0;
  uint64_t step = first_step;
  for (size_t start = 0; start < count; start += batch, ++step) {
    const size_t rows = std::min(batch, count - start);
    float* bx = scratch.batch_x.get(rows * in);
    for (size_t r = 0; r < rows; ++r) {
      const size_t src = static_cast<size_t>(order[start + r]);
      std::memcpy(bx + r * in, x + src * in, in * sizeof(float));
      if (o.drop_cols && rng.uniform() < o.drop_prob)
        std::fill(bx + r * in, bx + r * in + std::min(o.drop_cols, in), 0.f);
    }
    float* acts = scratch.acts.get(rows * s.act_width());
    mlp_forward(s, params, bx, rows, acts, threads, scratch);
    const float* pred = acts + rows * (s.act_width() - out);
    d_out.resize(rows * out);
    const float scale = 2.f / static_cast<float>(rows * out);
    for (size_t r = 0; r < rows; ++r) {
      const float* yr = y + static_cast<size_t>(order[start + r]) * out;
      for (size_t c = 0; c < out; ++c) {
        const float diff = pred[r * out + c] - yr[c];
        total += static_cast<double>(diff) * diff;
        d_out[r * out + c] = scale * diff;
      }
    }
    mlp_backward(s, params, grads, bx, acts, rows, d_out.data(), nullptr, threads, scratch);
    mlp_adam(s, params, grads, m, v, step, o.adam);
  }
  return total;
}

}  // namespace rb

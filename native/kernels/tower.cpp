#include "tower.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rb {

bool entity_ok(const Tower& t, int64_t e) {
  if (e < 0 || static_cast<uint64_t>(e) >= t.entities) return false;
  const size_t u = static_cast<size_t>(e);
  if (t.embedding.w && u >= t.embedding.rows) return false;
  if (t.features.w) {
    if (u + 1 >= t.bag_off_len) return false;
    const int32_t b = t.bag_off[u], en = t.bag_off[u + 1];
    if (b < 0 || en < b || static_cast<size_t>(en) > t.bag_idx_len) return false;
  }
  if (t.dense_values && (u + 1) * t.dense_dim > t.dense_len) return false;
  return true;
}

float* TowerPass::forward(const int32_t* ids, size_t n, size_t threads) {
  n_ = n;
  ids_.assign(ids, ids + n);
  bad_features_ = 0;
  id_rows_.clear();
  feat_rows_.clear();
  const size_t d = t_.dim;
  float* h0 = h0_.get(n * d);
  std::fill(h0, h0 + n * d, 0.f);
  if (t_.embedding.w) {
    for (size_t r = 0; r < n; ++r) {
      const int32_t e = ids[r];
      if (e < 0 || static_cast<size_t>(e) >= t_.embedding.rows) continue;  // re-checked at use
      std::memcpy(h0 + r * d, t_.embedding.w + static_cast<size_t>(e) * d, d * sizeof(float));
      id_rows_.push_back({e, static_cast<uint32_t>(r), 1.f});
    }
  }
  if (t_.features.w) {
    for (size_t r = 0; r < n; ++r) {
      const size_t e = static_cast<size_t>(ids[r]);
      if (e + 1 >= t_.bag_off_len) continue;
      const int32_t b = t_.bag_off[e], en = t_.bag_off[e + 1];
      if (b < 0 || en <= b || static_cast<size_t>(en) > t_.bag_idx_len) continue;
      const float s = 1.f / static_cast<float>(en - b);  // mean pooling; an empty bag adds nothing
      float* hr = h0 + r * d;
      for (int32_t q = b; q < en; ++q) {
        const int32_t f = t_.bag_idx[q];
        if (f < 0 || static_cast<size_t>(f) >= t_.features.rows) {
          ++bad_features_;
          continue;
        }
        const float* fr = t_.features.w + static_cast<size_t>(f) * d;
        for (size_t k = 0; k < d; ++k) hr[k] += s * fr[k];
        feat_rows_.push_back({f, static_cast<uint32_t>(r), s});
      }
    }
  }
  if (t_.dense_values) {
    const size_t dd = t_.dense_dim;
    float* x = x_.get(n * dd);
    for (size_t r = 0; r < n; ++r) {
      const size_t e = static_cast<size_t>(ids[r]);
      if ((e + 1) * dd <= t_.dense_len)
        std::memcpy(x + r * dd, t_.dense_values + e * dd, dd * sizeof(float));
      else
        std::fill(x + r * dd, x + (r + 1) * dd, 0.f);
    }
    dense_forward(x, n, dd, t_.projection.weight.w, t_.projection.bias.w, d, h0, false, /*accumulate=*/true, threads,
                  scratch_);
  }
  const size_t L = t_.mlp.size();
  if (acts_.size() < L) acts_.resize(L);
  const float* in = h0;
  size_t in_dim = d;
  float* y = h0;
  for (size_t l = 0; l < L; ++l) {
    const DenseLayer& layer = t_.mlp[l];
    const size_t out = layer.weight.rows;
    y = acts_[l].get(n * out);
    dense_forward(in, n, in_dim, layer.weight.w, layer.bias.w, out, y, /*relu=*/l + 1 < L, false, threads, scratch_);
    in = y;
    in_dim = out;
  }
  return y;
}

void TowerPass::backward(float* d_out, size_t threads) {
  const size_t n = n_, d = t_.dim, L = t_.mlp.size();
  if (dacts_.size() < L) dacts_.resize(L);
  dw_.resize(L);
  db_.resize(L);
  float* dy = d_out;
  for (size_t l = L; l-- > 0;) {
    const DenseLayer& layer = t_.mlp[l];
    const size_t out = layer.weight.rows, in_dim = layer.weight.dim;
    const float* in = l == 0 ? h0_.get(n * d) : acts_[l - 1].get(n * in_dim);
    if (l + 1 < L) relu_backward(acts_[l].get(n * out), dy, n * out);
    dw_[l].assign(out * in_dim, 0.f);
    db_[l].assign(out, 0.f);
    dense_backward_params(dy, in, n, out, in_dim, dw_[l].data(), db_[l].data(), threads, scratch_);
    float* dx = l == 0 ? dh0_.get(n * d) : dacts_[l - 1].get(n * in_dim);
    dense_backward_input(dy, n, out, layer.weight.w, in_dim, dx, false, threads, scratch_);
    dy = dx;
  }
  if (L == 0) {
    float* dh0 = dh0_.get(n * d);
    std::memcpy(dh0, d_out, n * d * sizeof(float));
  }
  if (t_.dense_values) {
    const size_t dd = t_.dense_dim;
    dpw_.assign(d * dd, 0.f);
    dpb_.assign(d, 0.f);
    dense_backward_params(dh0_.get(n * d), x_.get(n * dd), n, d, dd, dpw_.data(), dpb_.data(), threads, scratch_);
  }
}

void dense_update(TTParam& p, const float* g, const OptimizerConfig& o) {
  const float lr = o.dense_lr * p.lr_mult, l2 = o.dense_l2;
  const size_t total = p.rows * p.dim;
  const float b1 = o.beta1, b2 = o.beta2, eps = o.dense_eps;
  for (size_t r = 0; r < p.rows; ++r) {
    if (p.frozen_rows && p.frozen_rows[r]) continue;
    float* w = p.w + r * p.dim;
    const float* gr = g + r * p.dim;
    if (o.dense == DenseOptimizer::Sgd) {
      for (size_t k = 0; k < p.dim; ++k) w[k] -= lr * (gr[k] + l2 * w[k]);
      continue;
    }
    float* m = p.state + r * p.dim;
    float* v = p.state + total + r * p.dim;
    const double t = (p.state[2 * total + r] += 1.f);
    // Bias corrections 1/(1-β^t), computed in double.
    const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(b1), t)));
    const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(b2), t)));
    for (size_t k = 0; k < p.dim; ++k) {
      const float gk = gr[k] + l2 * w[k];
      m[k] = b1 * m[k] + (1.f - b1) * gk;
      v[k] = b2 * v[k] + (1.f - b2) * gk * gk;
      w[k] -= lr * (m[k] * c1) / (std::sqrt(v[k] * c2) + eps);
    }
  }
}

void TowerPass::sparse_update(TTParam& p, std::vector<Contribution>& c, const float* grads, const OptimizerConfig& o) {
  // Sum each row's contributions in batch order (deterministic), then one optimizer step per row,
  // as a dense optimizer would for the batch gradient.
  std::sort(c.begin(), c.end(), [](const Contribution& a, const Contribution& b) {
    return a.row != b.row ? a.row < b.row : a.src < b.src;
  });
  const size_t d = p.dim;
  starts_.clear();
  for (size_t i = 0; i < c.size(); ++i)
    if (i == 0 || c[i].row != c[i - 1].row) starts_.push_back(i);
  starts_.push_back(c.size());
  g_.resize(d);
  float* g = g_.data();
  const float lr = o.lr * p.lr_mult;
  const size_t groups = starts_.size() - 1;
  // The rows are scattered over tables far larger than the caches: prefetch a few rows ahead.
  constexpr size_t kAhead = 6;
  auto prefetch = [&](size_t grp) {
    const size_t row = static_cast<size_t>(c[starts_[grp]].row);
    if (row >= p.rows) return;
    for (size_t off = 0; off < d; off += 16) {
      __builtin_prefetch(p.w + row * d + off, 1, 3);
      if (p.state && o.emb == EmbOptimizer::Adagrad) __builtin_prefetch(p.state + row * d + off, 1, 3);
    }
  };
  for (size_t q = 0; q < std::min(kAhead, groups); ++q) prefetch(q);
  for (size_t grp = 0; grp < groups; ++grp) {
    if (grp + kAhead < groups) prefetch(grp + kAhead);
    const int32_t row = c[starts_[grp]].row;
    std::fill(g, g + d, 0.f);
    for (size_t i = starts_[grp]; i < starts_[grp + 1]; ++i) {
      const float* src = grads + static_cast<size_t>(c[i].src) * d;
      const float sc = c[i].scale;
      for (size_t k = 0; k < d; ++k) g[k] += sc * src[k];
    }
    if (static_cast<size_t>(row) >= p.rows || (p.frozen_rows && p.frozen_rows[row])) continue;
    float* __restrict__ w = p.w + static_cast<size_t>(row) * d;
    const float l2 = o.l2;
    const float eps = o.eps;
    switch (o.emb) {
      case EmbOptimizer::Sgd:
        for (size_t k = 0; k < d; ++k) w[k] += lr * (-g[k] - l2 * w[k]);
        break;
      case EmbOptimizer::Adagrad: {
        float* __restrict__ a = p.state + static_cast<size_t>(row) * d;
        for (size_t k = 0; k < d; ++k) {
          const float s = -g[k] - l2 * w[k];
          const float acc = a[k] + s * s;
          a[k] = acc;
          w[k] += lr * s / (std::sqrt(acc) + eps);
        }
        break;
      }
      case EmbOptimizer::RowwiseAdagrad: {
        // One accumulator per row: acc += mean(step²); every element moves by lr·step/(√acc + eps).
        float q = 0.f;
        for (size_t k = 0; k < d; ++k) {
          const float s = -g[k] - l2 * w[k];
          q += s * s;
        }
        float& acc = p.state[row];
        acc += q / static_cast<float>(d ? d : 1);
        const float c = lr / (std::sqrt(acc) + eps);
        for (size_t k = 0; k < d; ++k) w[k] += c * (-g[k] - l2 * w[k]);
        break;
      }
      case EmbOptimizer::Adam: {
        // Lazy Adam: only this batch's rows update their moments; bias correction by the row's own
        // step count (state: m rows × d, v rows × d, t rows), ε̂ form as for matrix factorization.
        float* __restrict__ m = p.state + static_cast<size_t>(row) * d;
        float* __restrict__ v = p.state + (p.rows + static_cast<size_t>(row)) * d;
        float& t = p.state[2 * p.rows * d + static_cast<size_t>(row)];
        t += 1.f;
        const float rate = lr * std::sqrt(1.f - std::pow(o.beta2, t)) / (1.f - std::pow(o.beta1, t));
        for (size_t k = 0; k < d; ++k) {
          const float s = -g[k] - l2 * w[k];
          m[k] = o.beta1 * m[k] + (1.f - o.beta1) * s;
          v[k] = o.beta2 * v[k] + (1.f - o.beta2) * s * s;
          w[k] += rate * m[k] / (std::sqrt(v[k]) + eps);
        }
        break;
      }
    }
  }
}

void TowerPass::update(const OptimizerConfig& o, size_t /*threads*/) {
  auto dense = [&](TTParam& p, const std::vector<float>& g) {
    if (p.trainable()) dense_update(p, g.data(), o);
  };
  for (size_t l = 0; l < t_.mlp.size(); ++l) {
    dense(t_.mlp[l].weight, dw_[l]);
    dense(t_.mlp[l].bias, db_[l]);
  }
  if (t_.dense_values) {
    dense(t_.projection.weight, dpw_);
    dense(t_.projection.bias, dpb_);
  }
  const float* dh0 = dh0_.get(n_ * t_.dim);
  if (t_.embedding.trainable()) sparse_update(t_.embedding, id_rows_, dh0, o);
  if (t_.features.trainable()) sparse_update(t_.features, feat_rows_, dh0, o);
}

void TowerPass::sparse_grad(TTParam& p, const std::vector<Contribution>& c, const float* grads) {
  if (!p.grad) return;
  const size_t d = p.dim;
  for (const Contribution& x : c) {
    if (static_cast<size_t>(x.row) >= p.rows) continue;
    float* g = p.grad + static_cast<size_t>(x.row) * d;
    const float* src = grads + static_cast<size_t>(x.src) * d;
    for (size_t k = 0; k < d; ++k) g[k] += x.scale * src[k];
  }
}

void TowerPass::write_grads() {
  auto dense = [](TTParam& p, const std::vector<float>& g) {
    if (!p.grad) return;
    for (size_t i = 0; i < g.size(); ++i) p.grad[i] += g[i];
  };
  for (size_t l = 0; l < t_.mlp.size(); ++l) {
    dense(t_.mlp[l].weight, dw_[l]);
    dense(t_.mlp[l].bias, db_[l]);
  }
  if (t_.dense_values) {
    dense(t_.projection.weight, dpw_);
    dense(t_.projection.bias, dpb_);
  }
  const float* dh0 = dh0_.get(n_ * t_.dim);
  sparse_grad(t_.embedding, id_rows_, dh0);
  sparse_grad(t_.features, feat_rows_, dh0);
}

}  // namespace rb

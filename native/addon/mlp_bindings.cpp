// Small-MLP entry points (mlp.h), all synchronous: one call is one minibatch or one pass over a few
// thousand rows (milliseconds), and the transfer code calls them between its own JS steps.
//   mlpForward({ sizes, params, x, rows, acts, threads })
//   mlpBackward({ sizes, params, grads, x, acts, rows, dOut, dIn?, threads }), where dOut may instead
//     be { left, right }: row r of the output gradient is left[r] ⊗ right[r] (rows × a and rows × b
//     with a·b the output width), built here rather than in JS
//   mlpAdam({ sizes, params, grads, m, v, step, lr, l2, beta1, beta2, eps })
//   mlpFitMse({ sizes, params, grads, m, v, step, x, y, order, batch, lr, l2, beta1, beta2, eps,
//               dropCols, dropProb, seed, threads }) -> Σ squared error
#include <cmath>
#include <string>
#include <vector>

#include "../kernels/mlp.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

constexpr int64_t kMaxWidth = 1 << 20;
constexpr int64_t kMaxLayers = 64;
constexpr int64_t kMaxRows = INT32_MAX;

struct Net {
  rb::MlpShape shape;
  View<int32_t> sizes;
  View<float> params;
};

Net net_arg(Napi::Env env, const Napi::Object& spec) {
  Net n;
  n.sizes = i32_value(env, spec.Get("sizes"), "spec.sizes");
  if (n.sizes.length < 2 || n.sizes.length > static_cast<size_t>(kMaxLayers) + 1)
    throw_length(env, "spec.sizes", "Expected spec.sizes to hold 2 to 65 layer widths");
  for (size_t l = 0; l < n.sizes.length; ++l)
    if (n.sizes.data[l] < 1 || n.sizes.data[l] > kMaxWidth)
      throw_range(env, "spec.sizes",
                  "Expected every width in spec.sizes to lie in [1, 2^20] but spec.sizes[" + std::to_string(l) +
                      "] is " + std::to_string(n.sizes.data[l]));
  n.shape.sizes = n.sizes.data;
  n.shape.layers = n.sizes.length - 1;
  n.params = f32_value(env, spec.Get("params"), "spec.params");
  expect_length(env, n.params.length, n.shape.param_count(), "spec.params");
  return n;
}

float* same_length(Napi::Env env, const Napi::Object& spec, const char* field, const std::string& name, size_t n) {
  const View<float> v = f32_value(env, spec.Get(field), name.c_str());
  expect_length(env, v.length, n, name.c_str());
  return v.data;
}

size_t rows_arg(Napi::Env env, const Napi::Object& spec) {
  return static_cast<size_t>(integer_value(env, spec.Get("rows"), "spec.rows", 0, kMaxRows));
}

size_t threads_arg(Napi::Env env, const Napi::Object& spec) {
  return static_cast<size_t>(integer_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads));
}

rb::AdamConfig adam_arg(Napi::Env env, const Napi::Object& spec) {
  rb::AdamConfig a;
  a.lr = static_cast<float>(number_value(env, spec.Get("lr"), "spec.lr", 0, 1e6));
  a.l2 = static_cast<float>(number_value(env, spec.Get("l2"), "spec.l2", 0, 1e6));
  a.beta1 = static_cast<float>(number_value(env, spec.Get("beta1"), "spec.beta1", 0, 0.999999));
  a.beta2 = static_cast<float>(number_value(env, spec.Get("beta2"), "spec.beta2", 0, 0.999999999));
  a.eps = static_cast<float>(number_value(env, spec.Get("eps"), "spec.eps", 0, 1));
  return a;
}

uint64_t step_arg(Napi::Env env, const Napi::Object& spec) {
  return static_cast<uint64_t>(integer_value(env, spec.Get("step"), "spec.step", 1, (int64_t{1} << 53) - 1));
}

// Buffers reused by every call on this thread (the addon loads in worker threads too).
rb::MlpScratch& scratch() {
  thread_local rb::MlpScratch s;
  return s;
}

}  // namespace

Napi::Value MlpForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const Net n = net_arg(env, spec);
    const size_t rows = rows_arg(env, spec);
    const float* x = same_length(env, spec, "x", "spec.x", rows * n.shape.in());
    float* acts = same_length(env, spec, "acts", "spec.acts", rows * n.shape.act_width());
    rb::mlp_forward(n.shape, n.params.data, x, rows, acts, threads_arg(env, spec), scratch());
    return env.Undefined();
  });
}

Napi::Value MlpBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const Net n = net_arg(env, spec);
    const size_t rows = rows_arg(env, spec);
    float* grads = same_length(env, spec, "grads", "spec.grads", n.params.length);
    const float* x = same_length(env, spec, "x", "spec.x", rows * n.shape.in());
    const float* acts = same_length(env, spec, "acts", "spec.acts", rows * n.shape.act_width());
    const Napi::Value d_out_v = spec.Get("dOut");
    const float* d_out = nullptr;
    std::vector<float> built;
    if (d_out_v.IsTypedArray()) {
      d_out = same_length(env, spec, "dOut", "spec.dOut", rows * n.shape.out());
    } else {
      if (!d_out_v.IsObject()) throw_type(env, "spec.dOut", "Float32Array or { left, right }");
      const Napi::Object f = d_out_v.As<Napi::Object>();
      const View<float> left = f32_value(env, f.Get("left"), "spec.dOut.left");
      const View<float> right = f32_value(env, f.Get("right"), "spec.dOut.right");
      const size_t a = rows ? left.length / rows : 0, b = rows ? right.length / rows : 0;
      if (rows && (a * rows != left.length || b * rows != right.length || a * b != n.shape.out()))
        throw_length(env, "spec.dOut",
                     "Expected spec.dOut.left (rows × a) and spec.dOut.right (rows × b) with a·b = " +
                         std::to_string(n.shape.out()));
      built.resize(rows * n.shape.out());
      rb::outer_rows(left.data, a, right.data, b, rows, built.data());
      d_out = built.data();
    }
    const View<float> d_in = f32_value(env, spec.Get("dIn"), "spec.dIn", /*optional=*/true);
    if (d_in.present) expect_length(env, d_in.length, rows * n.shape.in(), "spec.dIn");
    rb::mlp_backward(n.shape, n.params.data, grads, x, acts, rows, d_out, d_in.present ? d_in.data : nullptr,
                     threads_arg(env, spec), scratch());
    return env.Undefined();
  });
}

Napi::Value MlpAdam(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const Net n = net_arg(env, spec);
    float* grads = same_length(env, spec, "grads", "spec.grads", n.params.length);
    float* m = same_length(env, spec, "m", "spec.m", n.params.length);
    float* v = same_length(env, spec, "v", "spec.v", n.params.length);
    rb::mlp_adam(n.shape, n.params.data, grads, m, v, step_arg(env, spec), adam_arg(env, spec));
    return env.Undefined();
  });
}

Napi::Value MlpFitMse(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const Net n = net_arg(env, spec);
    float* grads = same_length(env, spec, "grads", "spec.grads", n.params.length);
    float* m = same_length(env, spec, "m", "spec.m", n.params.length);
    float* v = same_length(env, spec, "v", "spec.v", n.params.length);
    const View<float> x = f32_value(env, spec.Get("x"), "spec.x");
    if (x.length % n.shape.in() != 0)
      throw_length(env, "spec.x", "Expected spec.x to hold whole rows of " + std::to_string(n.shape.in()));
    const size_t entities = x.length / n.shape.in();
    const float* y = same_length(env, spec, "y", "spec.y", entities * n.shape.out());
    const View<int32_t> order = i32_value(env, spec.Get("order"), "spec.order");
    for (size_t k = 0; k < order.length; ++k)
      if (order.data[k] < 0 || static_cast<size_t>(order.data[k]) >= entities)
        throw_range(env, "spec.order",
                    "Expected spec.order[" + std::to_string(k) + "] in [0, " + std::to_string(entities) +
                        ") but it is " + std::to_string(order.data[k]));
    rb::MseOptions o;
    o.batch = static_cast<size_t>(integer_value(env, spec.Get("batch"), "spec.batch", 1, 1 << 20));
    o.adam = adam_arg(env, spec);
    o.drop_cols = static_cast<size_t>(integer_value(env, spec.Get("dropCols"), "spec.dropCols", 0, kMaxWidth));
    o.drop_prob = static_cast<float>(number_value(env, spec.Get("dropProb"), "spec.dropProb", 0, 1));
    o.seed = static_cast<uint64_t>(integer_value(env, spec.Get("seed"), "spec.seed", 0, (int64_t{1} << 53) - 1));
    const double loss = rb::mlp_fit_mse(n.shape, n.params.data, grads, m, v, step_arg(env, spec), x.data, y, order.data,
                                        order.length, o, threads_arg(env, spec), scratch());
    return Napi::Number::New(env, loss);
  });
}

}  // namespace rbnapi

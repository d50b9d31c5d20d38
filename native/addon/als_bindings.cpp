// alsSolve: one implicit-ALS half-iteration (native/kernels/als.h) as async work. The constructor
// (JS thread) checks shapes and pins every buffer; Work runs only the kernel.
#include <string>
#include <vector>

#include "../kernels/als.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

// alsSolve({ x, y, dim, offsets, indices, values?, frozen?, confidence, alpha, eps, l2, solver, cgSteps,
//            threads, loss, cancel? }) -> Promise<{ loss, solved, invalid, diverged, cancelled }>
class AlsWorker : public PromiseWorker {
 public:
  explicit AlsWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "alsSolve") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    d_ = static_cast<size_t>(integer_value(env, spec.Get("dim"), "spec.dim", 1, kMaxDim));
    const View<float> x = f32_value(env, spec.Get("x"), "spec.x");
    const View<float> y = f32_value(env, spec.Get("y"), "spec.y");
    if (x.length % d_) throw_length(env, "spec.x", "Expected spec.x length to be a multiple of spec.dim");
    if (y.length % d_) throw_length(env, "spec.y", "Expected spec.y length to be a multiple of spec.dim");
    // x is written while y is read by every thread.
    if (x.length && y.length && x.data < y.data + y.length && y.data < x.data + x.length)
      throw_type(env, "spec.x and spec.y", "separate (non-overlapping) tables", "spec.x");
    x_ = x.data;
    y_ = y.data;
    x_rows_ = x.length / d_;
    y_rows_ = y.length / d_;
    pin(x.value, "spec.x");
    pin(y.value, "spec.y");

    const View<int32_t> off = i32_value(env, spec.Get("offsets"), "spec.offsets");
    const View<int32_t> idx = i32_value(env, spec.Get("indices"), "spec.indices");
    expect_length(env, off.length, x_rows_ + 1, "spec.offsets");
    rows_.off = off.data;
    rows_.idx = idx.data;
    rows_.rows = x_rows_;
    rows_.nnz = idx.length;
    pin(off.value, "spec.offsets");
    pin(idx.value, "spec.indices");
    const View<float> val = f32_value(env, spec.Get("values"), "spec.values", true);
    if (val.present) {
      expect_length(env, val.length, idx.length, "spec.values");
      rows_.val = val.data;
      pin(val.value, "spec.values");
    }
    const View<uint8_t> frozen = u8_value(env, spec.Get("frozen"), "spec.frozen", true);
    if (frozen.present) {
      expect_length(env, frozen.length, x_rows_, "spec.frozen");
      frozen_ = frozen.data;
      pin(frozen.value, "spec.frozen");
    }

    cfg_.confidence =
        enum_value(env, spec.Get("confidence"), "spec.confidence", rb::AlsConfidence::Linear, rb::AlsConfidence::Log);
    cfg_.alpha = static_cast<float>(number_value(env, spec.Get("alpha"), "spec.alpha", 0, 1e9));
    cfg_.eps = static_cast<float>(number_value(env, spec.Get("eps"), "spec.eps", 1e-30, 1e30));
    cfg_.l2 = static_cast<float>(number_value(env, spec.Get("l2"), "spec.l2", 0, 1e9));
    cfg_.solver = enum_value(env, spec.Get("solver"), "spec.solver", rb::AlsSolver::Cg, rb::AlsSolver::Cholesky);
    cfg_.cg_steps = static_cast<int>(integer_value(env, spec.Get("cgSteps"), "spec.cgSteps", 1, 1000));
    cfg_.threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads));
    const Napi::Value loss = spec.Get("loss");
    if (!loss.IsBoolean()) throw_type(env, "spec.loss", "boolean");
    cfg_.loss = loss.As<Napi::Boolean>().Value();
    read_cancel(env, spec.Get("cancel"), "spec.cancel");
  }

 private:
  void pin(Napi::Value v, const std::string& name) {
    require_shared(Env(), v, name);
    if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  void Work() override { result_ = rb::als_solve(x_, x_rows_, y_, y_rows_, d_, rows_, frozen_, cfg_, cancelled()); }

  Napi::Value Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", Napi::Number::New(env, result_.loss));
    o.Set("solved", Napi::Number::New(env, static_cast<double>(result_.solved)));
    o.Set("invalid", Napi::Number::New(env, static_cast<double>(result_.invalid)));
    o.Set("diverged", Napi::Boolean::New(env, result_.diverged));
    o.Set("cancelled", Napi::Boolean::New(env, result_.cancelled));
    return o;
  }

  std::vector<Napi::ObjectReference> pins_;
  float* x_ = nullptr;
  const float* y_ = nullptr;
  size_t d_ = 0, x_rows_ = 0, y_rows_ = 0;
  rb::AlsRows rows_;
  const uint8_t* frozen_ = nullptr;
  rb::AlsConfig cfg_;
  rb::AlsResult result_;
};

}  // namespace

Napi::Value AlsSolve(const Napi::CallbackInfo& info) { return queue<AlsWorker>(info); }

}  // namespace rbnapi

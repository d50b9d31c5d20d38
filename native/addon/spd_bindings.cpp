// Symmetric positive-definite linear algebra (kernels/spd.h), all asynchronous: csrCrossProduct,
// spdFactor, spdSolve and spdInverse. Dense matrices are written in place, so they must live on a
// SharedArrayBuffer (pinned for the call); CSR inputs are copied and checked on the JS thread.
#include <string>
#include <vector>

#include "../kernels/spd.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

class SpdWorker : public PromiseWorker {
 protected:
  using PromiseWorker::PromiseWorker;

  // A shared float matrix of exactly `length` values, pinned for the call.
  float* matrix(const Napi::Object& spec, const char* field, const std::string& name, size_t length) {
    const View<float> v = f32_value(Env(), spec.Get(field), name.c_str());
    expect_length(Env(), v.length, length, name.c_str());
    require_shared(Env(), v.value, name);
    if (v.value.IsObject()) pins_.push_back(Napi::Persistent(v.value.As<Napi::Object>()));
    return v.data;
  }

  size_t size_field(const Napi::Object& spec, const char* field, const std::string& name) {
    return static_cast<size_t>(integer_value(Env(), spec.Get(field), name, 0, 1 << 20));
  }

  size_t threads_field(const Napi::Object& spec) {
    return static_cast<size_t>(integer_value(Env(), spec.Get("threads"), "spec.threads", 1, kMaxThreads));
  }

 private:
  std::vector<Napi::ObjectReference> pins_;
};

// A copied, checked CSR over `rows` rows whose column indices lie in [0, cols).
struct CsrCopy {
  std::vector<int32_t> off, cols;
  std::vector<float> vals;
  size_t count = 0;

  rb::CsrView view() const { return {off.data(), cols.data(), vals.empty() ? nullptr : vals.data(), count}; }
};

CsrCopy csr_field(Napi::Env env, const Napi::Object& spec, const std::string& prefix, size_t rows) {
  CsrCopy c;
  const std::string o = prefix + "Offsets", i = prefix + "Indices", v = prefix + "Values", n = prefix + "Cols";
  c.count = static_cast<size_t>(integer_value(env, spec.Get(n), "spec." + n, 0, 1 << 20));
  const View<int32_t> off = i32_value(env, spec.Get(o), ("spec." + o).c_str());
  const View<int32_t> idx = i32_value(env, spec.Get(i), ("spec." + i).c_str());
  const View<float> val = f32_value(env, spec.Get(v), ("spec." + v).c_str(), true);
  c.off.assign(off.data, off.data + off.length);
  c.cols.assign(idx.data, idx.data + idx.length);
  expect_length(env, c.off.size(), rows + 1, ("spec." + o).c_str());
  if (c.off[0] != 0 || static_cast<size_t>(c.off[rows]) != c.cols.size())
    throw_range(env, "spec." + o, "Expected spec." + o + " to start at 0 and end at " + std::to_string(c.cols.size()));
  for (size_t r = 0; r < rows; ++r)
    if (c.off[r + 1] < c.off[r]) throw_range(env, "spec." + o, "Expected non-decreasing spec." + o);
  check_indices(env, c.cols, c.count, ("spec." + i).c_str());
  if (val.present) {
    c.vals.assign(val.data, val.data + val.length);
    expect_length(env, c.vals.size(), c.cols.size(), ("spec." + v).c_str());
  }
  return c;
}

// csrCrossProduct({ rows, aOffsets, aIndices, aValues?, aCols, bOffsets?, …, out, accumulate, threads })
// -> Promise<void>: out (aCols × bCols) (+)= AᵀB; without bOffsets, B is A (the Gram matrix).
class CrossWorker : public SpdWorker {
 public:
  explicit CrossWorker(const Napi::CallbackInfo& info) : SpdWorker(info.Env(), "csrCrossProduct") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    rows_ = static_cast<size_t>(integer_value(env, spec.Get("rows"), "spec.rows", 0, INT32_MAX));
    a_ = csr_field(env, spec, "a", rows_);
    same_ = spec.Get("bOffsets").IsUndefined() || spec.Get("bOffsets").IsNull();
    if (!same_) b_ = csr_field(env, spec, "b", rows_);
    const size_t bc = same_ ? a_.count : b_.count;
    out_ = matrix(spec, "out", "spec.out", a_.count * bc);
    accumulate_ = spec.Get("accumulate").ToBoolean().Value();
    threads_ = threads_field(spec);
  }

 private:
  void Work() override {
    const rb::CsrView a = a_.view();
    rb::csr_cross_product(a, same_ ? a : b_.view(), rows_, out_, accumulate_, threads_);
  }
  Napi::Value Result() override { return Env().Undefined(); }

  CsrCopy a_, b_;
  bool same_ = true, accumulate_ = false;
  size_t rows_ = 0, threads_ = 1;
  float* out_ = nullptr;
};

// spdFactor({ matrix, n, threads }) and spdInverse({ matrix, n, threads }) -> Promise<number>: 0,
// or the failing pivot + 1 when the matrix is not positive definite.
class FactorWorker : public SpdWorker {
 public:
  FactorWorker(const Napi::CallbackInfo& info, bool inverse)
      : SpdWorker(info.Env(), inverse ? "spdInverse" : "spdFactor"), inverse_(inverse) {
    const Napi::Object spec = spec_arg(info);
    n_ = size_field(spec, "n", "spec.n");
    a_ = matrix(spec, "matrix", "spec.matrix", n_ * n_);
    threads_ = threads_field(spec);
  }

 private:
  void Work() override {
    status_ = inverse_ ? rb::spd_inverse(a_, n_, threads_) : rb::cholesky_factor(a_, n_, threads_);
  }
  Napi::Value Result() override { return Napi::Number::New(Env(), static_cast<double>(status_)); }

  bool inverse_;
  size_t n_ = 0, threads_ = 1, status_ = 0;
  float* a_ = nullptr;
};

class FactorOnly : public FactorWorker {
 public:
  explicit FactorOnly(const Napi::CallbackInfo& info) : FactorWorker(info, false) {}
};
class InverseOnly : public FactorWorker {
 public:
  explicit InverseOnly(const Napi::CallbackInfo& info) : FactorWorker(info, true) {}
};

// spdSolve({ factor, n, rhs, m, threads }) -> Promise<void>: rhs (n × m) ← (L Lᵀ)⁻¹ rhs.
class SolveWorker : public SpdWorker {
 public:
  explicit SolveWorker(const Napi::CallbackInfo& info) : SpdWorker(info.Env(), "spdSolve") {
    const Napi::Object spec = spec_arg(info);
    n_ = size_field(spec, "n", "spec.n");
    m_ = static_cast<size_t>(integer_value(Env(), spec.Get("m"), "spec.m", 0, INT32_MAX));
    if (n_ && m_ > static_cast<size_t>(INT32_MAX) / n_) throw_range(Env(), "spec.m", "Expected n × m below 2^31");
    l_ = matrix(spec, "factor", "spec.factor", n_ * n_);
    b_ = matrix(spec, "rhs", "spec.rhs", n_ * m_);
    threads_ = threads_field(spec);
  }

 private:
  void Work() override { rb::cholesky_solve(l_, n_, b_, m_, threads_); }
  Napi::Value Result() override { return Env().Undefined(); }

  size_t n_ = 0, m_ = 0, threads_ = 1;
  const float* l_ = nullptr;
  float* b_ = nullptr;
};

}  // namespace

Napi::Value CsrCrossProduct(const Napi::CallbackInfo& info) { return queue<CrossWorker>(info); }
Napi::Value SpdFactor(const Napi::CallbackInfo& info) { return queue<FactorOnly>(info); }
Napi::Value SpdSolve(const Napi::CallbackInfo& info) { return queue<SolveWorker>(info); }
Napi::Value SpdInverse(const Napi::CallbackInfo& info) { return queue<InverseOnly>(info); }

}  // namespace rbnapi

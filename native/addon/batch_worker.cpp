// topKBatch: blocked exact top-K for many queries, off the event loop. The constructor (JS thread)
// checks and copies everything small, pins every JS buffer it will touch, and the worker's Execute
// runs only the kernel (no Node-API); the promise settles in OnOK/OnError.
#include <algorithm>

#include "../kernels/scoring.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(const Napi::CallbackInfo& info, Napi::Promise::Deferred deferred)
      : Napi::AsyncWorker(info.Env(), "recbridge:topKBatch"), deferred_(deferred) {
    Napi::Env env = info.Env();
    View<float> tv;
    table_ = table_arg(info, 0, &tv);
    pin(tv.value);
    const View<float> q = f32_arg(info, 2, "queries");
    if (q.length % table_.dim != 0)
      throw_range(env, "Expected queries length to be a multiple of dim (" + std::to_string(table_.dim) +
                           ") but it is " + std::to_string(q.length));
    queries_ = q.data;
    nq_ = q.length / table_.dim;
    pin(q.value);
    opt_.k = static_cast<size_t>(int_arg(info, 3, "k", 1, INT32_MAX));

    const View<int32_t> off = i32_arg(info, 4, "excludeOffsets", true);
    const View<int32_t> ids = i32_arg(info, 5, "excludeIndices", true);
    if (off.present != ids.present) throw_type(env, "excludeOffsets and excludeIndices", "both or neither");
    if (off.present) copy_exclusions(env, off, ids);

    const View<int32_t> block_v = i32_arg(info, 6, "block", true);
    block_ = sorted_indices(env, block_v, table_.rows, "block");
    if (block_v.present) pin(block_v.value);
    opt_.block = block_.data;
    opt_.block_len = block_.size;
    const View<int32_t> allow_v = i32_arg(info, 7, "allow", true);
    allow_ = sorted_indices(env, allow_v, table_.rows, "allow", true);
    if (allow_v.present) {
      opt_.has_allow = true;
      opt_.allow = allow_.data;
      opt_.allow_len = allow_.size;
    }
    opt_.threads = static_cast<size_t>(int_arg(info, 8, "threads", 1, kMaxThreads));

    const View<int32_t> oi = i32_arg(info, 9, "outIndices");
    const View<float> os = f32_arg(info, 10, "outScores");
    const View<int32_t> oc = i32_arg(info, 11, "outCounts");
    expect_min_length(env, oi.length, nq_ * opt_.k, "outIndices");
    expect_min_length(env, os.length, nq_ * opt_.k, "outScores");
    expect_min_length(env, oc.length, nq_, "outCounts");
    out_idx_ = oi.data;
    out_scores_ = os.data;
    out_counts_ = oc.data;
    pin(oi.value);
    pin(os.value);
    pin(oc.value);
    const View<int32_t> cancel = i32_arg(info, 12, "cancel", true);
    if (cancel.present) {
      expect_min_length(env, cancel.length, 1, "cancel");
      cancel_ = cancel.data;
      pin(cancel.value);
    }
  }

  void Execute() override {
    try {
      for (size_t q = 0; q + 1 < excl_off_.size(); ++q)
        std::sort(excl_idx_.begin() + excl_off_[q], excl_idx_.begin() + excl_off_[q + 1]);
      completed_ = rb::topk_batch(table_, queries_, nq_, opt_, excl_off_.empty() ? nullptr : excl_off_.data(),
                                  excl_idx_.data(), cancel_, out_idx_, out_scores_, out_counts_);
    } catch (const std::bad_alloc&) {
      SetError("recbridge: out of memory in topKBatch");
    } catch (const std::exception& e) {
      SetError(std::string("recbridge: native failure in topKBatch: ") + e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), completed_)); }
  void OnError(const Napi::Error& e) override {
    e.Value().Set("code", Napi::String::New(Env(), "ERR_NATIVE"));
    deferred_.Reject(e.Value());
  }

 private:
  void pin(Napi::Value v) { pins_.push_back(Napi::Persistent(v.As<Napi::Object>())); }

  // Copies the CSR exclusions after checking offsets and ranges; segments are sorted in Execute.
  // Duplicates inside a segment are harmless (binary search only asks membership).
  void copy_exclusions(Napi::Env env, const View<int32_t>& off, const View<int32_t>& ids) {
    expect_length(env, off.length, nq_ + 1, "excludeOffsets");
    if (off.data[0] != 0 || static_cast<size_t>(off.data[nq_]) != ids.length)
      throw_range(env, "Expected excludeOffsets to start at 0 and end at excludeIndices.length (" +
                           std::to_string(ids.length) + ")");
    for (size_t q = 0; q < nq_; ++q)
      if (off.data[q + 1] < off.data[q])
        throw_range(env, "Expected non-decreasing excludeOffsets but excludeOffsets[" + std::to_string(q + 1) +
                             "] < excludeOffsets[" + std::to_string(q) + "]");
    for (size_t j = 0; j < ids.length; ++j)
      if (ids.data[j] < 0 || static_cast<size_t>(ids.data[j]) >= table_.rows)
        throw_range(env, "Expected indices in [0, " + std::to_string(table_.rows) +
                             ") for excludeIndices but excludeIndices[" + std::to_string(j) + "] is " +
                             std::to_string(ids.data[j]));
    excl_off_.assign(off.data, off.data + off.length);
    excl_idx_.assign(ids.data, ids.data + ids.length);
  }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> pins_;
  rb::ItemTable table_{};
  const float* queries_ = nullptr;
  size_t nq_ = 0;
  rb::TopKOptions opt_;
  std::vector<int32_t> excl_off_, excl_idx_;
  IndexList block_, allow_;  // may point into pinned JS arrays
  int32_t* out_idx_ = nullptr;
  float* out_scores_ = nullptr;
  int32_t* out_counts_ = nullptr;
  const volatile int32_t* cancel_ = nullptr;
  bool completed_ = false;
};

}  // namespace

// topKBatch(table, dim, queries, k, excludeOffsets | null, excludeIndices | null, block | null,
//           allow | null, threads, outIndices, outScores, outCounts, cancel | null) -> Promise<boolean>
// Resolves true when finished, false when cancel[0] was set before the end.
Napi::Value TopKBatch(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto deferred = Napi::Promise::Deferred::New(info.Env());
    auto* worker = new BatchWorker(info, deferred);  // throws (and is not queued) on bad arguments
    worker->Queue();
    return deferred.Promise();
  });
}

}  // namespace rbnapi

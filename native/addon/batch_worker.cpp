// topKBatch: blocked exact top-K for many queries, off the event loop. The constructor (JS thread)
// copies everything small (queries, exclusions, block and allow lists) and checks the copies, so no
// other thread can change them after the check and no detach can free them mid-run; results are
// computed into native buffers and handed to JS in Result(). The table is read in place when it
// lives on a SharedArrayBuffer (it cannot be detached) and copied first otherwise.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "../kernels/scoring.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

class BatchWorker : public PromiseWorker {
 public:
  explicit BatchWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "topKBatch") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    View<float> tv;
    table_ = table_arg(env, spec, &tv);
    table_pin_ = Napi::Persistent(tv.value.As<Napi::Object>());
    // The table is read in place while JS runs on. A SharedArrayBuffer cannot be detached; a plain
    // ArrayBuffer could be transferred mid-batch and freed under the kernel, so that table is
    // copied here, on the JS thread (tables from EmbeddingTable.create are shared and never copied).
    if (!is_shared(env, tv.value) && tv.length) {
      table_copy_.reset(static_cast<float*>(std::aligned_alloc(64, ((tv.length * sizeof(float) + 63) / 64) * 64)));
      if (!table_copy_) throw std::bad_alloc();
      std::copy(tv.data, tv.data + tv.length, table_copy_.get());
      table_.data = table_copy_.get();
    }
    const View<float> q = f32_value(env, spec.Get("queries"), "queries");
    if (q.length % table_.dim != 0)
      throw_length(env, "queries",
                   "Expected queries length to be a multiple of dim (" + std::to_string(table_.dim) + ") but it is " +
                       std::to_string(q.length));
    queries_.assign(q.data, q.data + q.length);
    nq_ = q.length / table_.dim;
    opt_.k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    if (nq_ && opt_.k > static_cast<size_t>(INT32_MAX) / nq_) throw_range(env, "k", "Expected nq * k below 2^31 for k");

    const View<int32_t> off = i32_value(env, spec.Get("excludeOffsets"), "excludeOffsets", true);
    const View<int32_t> ids = i32_value(env, spec.Get("excludeIndices"), "excludeIndices", true);
    if (off.present != ids.present)
      throw_type(env, "excludeOffsets and excludeIndices", "both or neither", "excludeOffsets");
    if (off.present) copy_exclusions(env, off, ids);

    block_ = sorted_indices(env, i32_value(env, spec.Get("block"), "block", true), table_.rows, "block", true);
    opt_.block = block_.data;
    opt_.block_len = block_.size;
    const View<int32_t> allow_v = i32_value(env, spec.Get("allow"), "allow", true);
    allow_ = sorted_indices(env, allow_v, table_.rows, "allow", true);
    if (allow_v.present) {
      opt_.has_allow = true;
      opt_.allow = allow_.data;
      opt_.allow_len = allow_.size;
    }
    opt_.threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    read_cancel(env, spec.Get("cancel"), "cancel");
  }

 private:
  void Work() override {
    for (size_t q = 0; q + 1 < excl_off_.size(); ++q)
      std::sort(excl_idx_.begin() + excl_off_[q], excl_idx_.begin() + excl_off_[q + 1]);
    out_idx_.resize(nq_ * opt_.k);
    out_scores_.resize(nq_ * opt_.k);
    out_counts_.resize(nq_);
    completed_ = rb::topk_batch(table_, queries_.data(), nq_, opt_, excl_off_.empty() ? nullptr : excl_off_.data(),
                                excl_idx_.data(), cancelled(), out_idx_.data(), out_scores_.data(), out_counts_.data());
  }

  Napi::Value Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("completed", Napi::Boolean::New(env, completed_));
    auto idx = Napi::Int32Array::New(env, out_idx_.size());
    auto scores = Napi::Float32Array::New(env, out_scores_.size());
    auto counts = Napi::Int32Array::New(env, out_counts_.size());
    std::copy(out_idx_.begin(), out_idx_.end(), idx.Data());
    std::copy(out_scores_.begin(), out_scores_.end(), scores.Data());
    std::copy(out_counts_.begin(), out_counts_.end(), counts.Data());
    o.Set("indices", idx);
    o.Set("scores", scores);
    o.Set("counts", counts);
    return o;
  }

  // Copies the CSR exclusions first and checks the copies (a shared buffer could change between a
  // check and a copy). Duplicates inside a segment are harmless: binary search only asks membership.
  void copy_exclusions(Napi::Env env, const View<int32_t>& off, const View<int32_t>& ids) {
    excl_off_.assign(off.data, off.data + off.length);
    excl_idx_.assign(ids.data, ids.data + ids.length);
    expect_length(env, excl_off_.size(), nq_ + 1, "excludeOffsets");
    if (excl_off_[0] != 0 || static_cast<size_t>(excl_off_[nq_]) != excl_idx_.size())
      throw_range(env, "excludeOffsets",
                  "Expected excludeOffsets to start at 0 and end at excludeIndices.length (" +
                      std::to_string(excl_idx_.size()) + ")");
    for (size_t q = 0; q < nq_; ++q)
      if (excl_off_[q + 1] < excl_off_[q])
        throw_range(env, "excludeOffsets",
                    "Expected non-decreasing excludeOffsets but excludeOffsets[" + std::to_string(q + 1) +
                        "] < excludeOffsets[" + std::to_string(q) + "]");
    check_indices(env, excl_idx_, table_.rows, "excludeIndices");
  }

  Napi::ObjectReference table_pin_;
  struct FreeFloats {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], FreeFloats> table_copy_;  // only for tables on a plain ArrayBuffer
  rb::ItemTable table_{};
  std::vector<float> queries_;
  size_t nq_ = 0;
  rb::TopKOptions opt_;
  std::vector<int32_t> excl_off_, excl_idx_;
  IndexList block_, allow_;
  std::vector<int32_t> out_idx_, out_counts_;
  std::vector<float> out_scores_;
  bool completed_ = false;
};

}  // namespace

// topKBatch({ table, dim, queries, k, excludeOffsets | null, excludeIndices | null, block | null,
//             allow | null, threads, cancel | null })
//   -> Promise<{ completed, indices: Int32Array(nq*k), scores: Float32Array(nq*k), counts: Int32Array(nq) }>
// completed is false when the token was cancelled before the end.
Napi::Value TopKBatch(const Napi::CallbackInfo& info) { return queue<BatchWorker>(info); }

Napi::Value CreateCancelToken(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return make_cancel_token(info.Env()); });
}

// cancel(token): work holding the token stops at its next check.
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    CancelFlag flag = cancel_token_value(info.Env(), info[0], "token");
    if (!flag) throw_type(info.Env(), "token", "cancel token (from createCancelToken)");
    flag->store(1, std::memory_order_relaxed);
    return info.Env().Undefined();
  });
}

}  // namespace rbnapi

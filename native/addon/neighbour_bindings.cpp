// Neighbourhood models. A built neighbour graph lives in native memory behind a type-tagged External
// (immutable once made, shared by reference with async work), so queries neither copy nor
// re-validate it: it was checked once, when it was built or imported.
#include <cmath>
#include <memory>
#include <string>

#include "../kernels/item_knn.h"
#include "async_work.h"
#include "bindings.h"
#include "hot_fields.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

using GraphPtr = std::shared_ptr<const rb::KnnGraph>;
const napi_type_tag kGraphTag = {0x7265636272696467ull, 0x6b6e6e6772617068ull};  // "recbridg" "knngraph"

Napi::Value wrap_graph(Napi::Env env, GraphPtr g) {
  auto* holder = new GraphPtr(std::move(g));
  auto ext = Napi::External<GraphPtr>::New(env, holder, [](Napi::Env, GraphPtr* p) { delete p; });
  if (napi_type_tag_object(env, ext, &kGraphTag) != napi_ok)
    throw_state(env, "ERR_NATIVE", "could not tag a neighbour graph");
  return ext;
}

GraphPtr graph_arg(Napi::Env env, Napi::Value v, const char* name) {
  bool ok = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kGraphTag, &ok) != napi_ok || !ok)
    throw_type(env, name, "neighbour graph handle");
  return *v.As<Napi::External<GraphPtr>>().Data();
}

// Checks a CSR offsets array (already copied) against the length of what it indexes.
void check_offsets(Napi::Env env, const std::vector<int32_t>& off, size_t rows, size_t nnz, const char* name) {
  expect_length(env, off.size(), rows + 1, name);
  if (off[0] != 0 || static_cast<size_t>(off[rows]) != nnz)
    throw_range(env, name, std::string("Expected ") + name + " to start at 0 and end at " + std::to_string(nnz));
  for (size_t r = 0; r < rows; ++r)
    if (off[r + 1] < off[r])
      throw_range(env, name,
                  std::string("Expected non-decreasing ") + name + " but " + name + "[" + std::to_string(r + 1) +
                      "] < " + name + "[" + std::to_string(r) + "]");
}

float finite_float(Napi::Env env, Napi::Value v, const char* name, double min, double max) {
  return static_cast<float>(number_value(env, v, name, min, max));
}

// knnBuild(spec) -> Promise<{ completed, graph }>. The constructor copies the interaction CSR and
// checks the copy.
class BuildWorker : public PromiseWorker {
 public:
  explicit BuildWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "knnBuild") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    users_ = static_cast<size_t>(integer_value(env, spec.Get("users"), "spec.users", 0, INT32_MAX));
    items_ = static_cast<size_t>(integer_value(env, spec.Get("items"), "spec.items", 0, INT32_MAX));
    const View<int32_t> off = i32_value(env, spec.Get("offsets"), "spec.offsets");
    const View<int32_t> idx = i32_value(env, spec.Get("indices"), "spec.indices");
    const View<float> val = f32_value(env, spec.Get("values"), "spec.values", true);
    offsets_.assign(off.data, off.data + off.length);
    indices_.assign(idx.data, idx.data + idx.length);
    check_offsets(env, offsets_, users_, indices_.size(), "spec.offsets");
    check_indices(env, indices_, items_, "spec.indices");
    for (size_t u = 0; u < users_; ++u)
      for (int32_t p = offsets_[u] + 1; p < offsets_[u + 1]; ++p)
        if (indices_[static_cast<size_t>(p)] <= indices_[static_cast<size_t>(p) - 1])
          throw_range(
              env, "spec.indices",
              "Expected strictly increasing items within each user for spec.indices (user " + std::to_string(u) + ")");
    if (val.present) {
      values_.assign(val.data, val.data + val.length);
      expect_length(env, values_.size(), indices_.size(), "spec.values");
      for (size_t p = 0; p < values_.size(); ++p)
        if (!(values_[p] > 0 && std::isfinite(values_[p])))
          throw_range(env, "spec.values",
                      "Expected finite positive numbers for spec.values but spec.values[" + std::to_string(p) +
                          "] is " + std::to_string(values_[p]));
    }
    opt_.weighting =
        enum_value(env, spec.Get("weighting"), "spec.weighting", rb::KnnWeighting::Cosine, rb::KnnWeighting::Bm25);
    opt_.k1 = finite_float(env, spec.Get("k1"), "spec.k1", 0, 1e9);
    opt_.b = finite_float(env, spec.Get("b"), "spec.b", 0, 1);
    opt_.shrink = finite_float(env, spec.Get("shrink"), "spec.shrink", 0, 1e9);
    opt_.neighbours = static_cast<size_t>(integer_value(env, spec.Get("neighbours"), "spec.neighbours", 1, INT32_MAX));
    opt_.query_begin = static_cast<size_t>(
        integer_value(env, spec.Get("queryBegin"), "spec.queryBegin", 0, static_cast<int64_t>(items_)));
    opt_.query_end =
        static_cast<size_t>(integer_value(env, spec.Get("queryEnd"), "spec.queryEnd",
                                          static_cast<int64_t>(opt_.query_begin), static_cast<int64_t>(items_)));
    opt_.cand_begin = static_cast<size_t>(
        integer_value(env, spec.Get("candidateBegin"), "spec.candidateBegin", 0, static_cast<int64_t>(items_)));
    opt_.cand_end =
        static_cast<size_t>(integer_value(env, spec.Get("candidateEnd"), "spec.candidateEnd",
                                          static_cast<int64_t>(opt_.cand_begin), static_cast<int64_t>(items_)));
    const size_t keep = std::min(opt_.neighbours, opt_.cand_end - opt_.cand_begin);
    if (keep && (opt_.query_end - opt_.query_begin) > static_cast<size_t>(INT32_MAX) / keep)
      throw_range(env, "spec.neighbours", "Expected rows x neighbours below 2^31 for spec.neighbours");
    opt_.threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads));
    read_cancel(env, spec.Get("cancel"), "spec.cancel");
  }

 private:
  void Work() override {
    rb::KnnMatrix m;
    m.users = users_;
    m.items = items_;
    m.offsets = offsets_.data();
    m.indices = indices_.data();
    m.values = values_.empty() ? nullptr : values_.data();
    auto g = std::make_shared<rb::KnnGraph>();
    completed_ = rb::knn_build(m, opt_, cancelled(), g.get());
    graph_ = std::move(g);
  }

  Napi::Value Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("completed", Napi::Boolean::New(env, completed_));
    o.Set("graph", completed_ ? wrap_graph(env, graph_) : env.Null());
    return o;
  }

  size_t users_ = 0, items_ = 0;
  std::vector<int32_t> offsets_, indices_;
  std::vector<float> values_;
  rb::KnnBuildOptions opt_;
  GraphPtr graph_;
  bool completed_ = false;
};

// knnRecommendBatch({ graph, historyOffsets, historyIndices, historyWeights | null,
//                     excludeOffsets | null, excludeIndices | null, k, mean, shrink, excludeHistory,
//                     threads, cancel | null })
class RecommendBatchWorker : public PromiseWorker {
 public:
  explicit RecommendBatchWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "knnRecommendBatch") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    graph_ = graph_arg(env, spec.Get("graph"), "graph");
    const View<int32_t> off = i32_value(env, spec.Get("historyOffsets"), "historyOffsets");
    const View<int32_t> idx = i32_value(env, spec.Get("historyIndices"), "historyIndices");
    const View<float> w = f32_value(env, spec.Get("historyWeights"), "historyWeights", true);
    if (off.length == 0) throw_length(env, "historyOffsets", "Expected historyOffsets of length at least 1");
    nq_ = off.length - 1;
    hist_off_.assign(off.data, off.data + off.length);
    hist_idx_.assign(idx.data, idx.data + idx.length);
    check_offsets(env, hist_off_, nq_, hist_idx_.size(), "historyOffsets");
    if (w.present) {
      hist_w_.assign(w.data, w.data + w.length);
      expect_length(env, hist_w_.size(), hist_idx_.size(), "historyWeights");
    }
    const View<int32_t> eoff = i32_value(env, spec.Get("excludeOffsets"), "excludeOffsets", true);
    const View<int32_t> eidx = i32_value(env, spec.Get("excludeIndices"), "excludeIndices", true);
    if (eoff.present != eidx.present)
      throw_type(env, "excludeOffsets and excludeIndices", "both or neither", "excludeOffsets");
    if (eoff.present) {
      excl_off_.assign(eoff.data, eoff.data + eoff.length);
      excl_idx_.assign(eidx.data, eidx.data + eidx.length);
      check_offsets(env, excl_off_, nq_, excl_idx_.size(), "excludeOffsets");
    }
    opt_.k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    if (nq_ && opt_.k > static_cast<size_t>(INT32_MAX) / nq_)
      throw_range(env, "k", "Expected queries * k below 2^31 for k");
    opt_.mean = spec.Get("mean").ToBoolean().Value();
    opt_.shrink = static_cast<float>(number_value(env, spec.Get("shrink"), "shrink", 0, 1e9));
    opt_.exclude_history = spec.Get("excludeHistory").ToBoolean().Value();
    threads_ = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    read_cancel(env, spec.Get("cancel"), "cancel");
  }

 private:
  void Work() override {
    // Membership tests need sorted segments; values outside the candidate range simply never match.
    for (size_t q = 0; q + 1 < excl_off_.size(); ++q)
      std::sort(excl_idx_.begin() + excl_off_[q], excl_idx_.begin() + excl_off_[q + 1]);
    out_idx_.resize(nq_ * opt_.k);
    out_scores_.resize(nq_ * opt_.k);
    out_counts_.resize(nq_);
    skipped_.resize(nq_);
    completed_ =
        rb::knn_recommend_batch(*graph_, hist_off_.data(), hist_idx_.data(), hist_w_.empty() ? nullptr : hist_w_.data(),
                                nq_, excl_off_.empty() ? nullptr : excl_off_.data(), excl_idx_.data(), opt_, threads_,
                                cancelled(), out_idx_.data(), out_scores_.data(), out_counts_.data(), skipped_.data());
  }

  Napi::Value Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("completed", Napi::Boolean::New(env, completed_));
    auto idx = Napi::Int32Array::New(env, out_idx_.size());
    auto scores = Napi::Float32Array::New(env, out_scores_.size());
    auto counts = Napi::Int32Array::New(env, out_counts_.size());
    auto skipped = Napi::Int32Array::New(env, skipped_.size());
    std::copy(out_idx_.begin(), out_idx_.end(), idx.Data());
    std::copy(out_scores_.begin(), out_scores_.end(), scores.Data());
    std::copy(out_counts_.begin(), out_counts_.end(), counts.Data());
    std::copy(skipped_.begin(), skipped_.end(), skipped.Data());
    o.Set("indices", idx);
    o.Set("scores", scores);
    o.Set("counts", counts);
    o.Set("skipped", skipped);
    return o;
  }

  GraphPtr graph_;
  size_t nq_ = 0, threads_ = 1;
  std::vector<int32_t> hist_off_, hist_idx_, excl_off_, excl_idx_;
  std::vector<float> hist_w_;
  rb::KnnQueryOptions opt_;
  std::vector<int32_t> out_idx_, out_counts_, skipped_;
  std::vector<float> out_scores_;
  bool completed_ = false;
};

// Scratch for the synchronous queries of this thread (the main thread or a worker's).
rb::KnnScratch& sync_scratch() {
  static thread_local rb::KnnScratch s;
  return s;
}

}  // namespace

Napi::Value KnnBuild(const Napi::CallbackInfo& info) { return queue<BuildWorker>(info); }

// knnFromArrays({ rows, cols, offsets, indices, scores, threads }) -> graph (copies and checks)
Napi::Value KnnFromArrays(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    auto g = std::make_shared<rb::KnnGraph>();
    g->rows = static_cast<size_t>(integer_value(env, spec.Get("rows"), "rows", 0, INT32_MAX));
    g->cols = static_cast<size_t>(integer_value(env, spec.Get("cols"), "cols", 0, INT32_MAX));
    const View<int32_t> off = i32_value(env, spec.Get("offsets"), "offsets");
    const View<int32_t> idx = i32_value(env, spec.Get("indices"), "indices");
    const View<float> sc = f32_value(env, spec.Get("scores"), "scores");
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    g->offsets.assign(off.data, off.data + off.length);
    g->indices.assign(idx.data, idx.data + idx.length);
    g->scores.assign(sc.data, sc.data + sc.length);
    check_offsets(env, g->offsets, g->rows, g->indices.size(), "offsets");
    check_indices(env, g->indices, g->cols, "indices");
    expect_length(env, g->scores.size(), g->indices.size(), "scores");
    for (size_t p = 0; p < g->scores.size(); ++p)
      if (!std::isfinite(g->scores[p]))
        throw_range(env, "scores",
                    "Expected finite numbers for scores but scores[" + std::to_string(p) + "] is not finite");
    (void)threads;  // rows need no order (knnRow and knnExport sort what they return)
    return wrap_graph(env, std::move(g));
  });
}

// knnExport(graph, threads?) -> { rows, cols, offsets, indices, scores } (copies; rows best first)
Napi::Value KnnExport(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const GraphPtr src = graph_arg(env, info[0], "graph");
    const size_t threads =
        info[1].IsUndefined() ? 1 : static_cast<size_t>(integer_value(env, info[1], "threads", 1, kMaxThreads));
    auto g = std::make_shared<rb::KnnGraph>(*src);
    rb::knn_sort_rows(g.get(), threads);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rows", Napi::Number::New(env, static_cast<double>(g->rows)));
    o.Set("cols", Napi::Number::New(env, static_cast<double>(g->cols)));
    auto off = Napi::Int32Array::New(env, g->offsets.size());
    auto idx = Napi::Int32Array::New(env, g->indices.size());
    auto sc = Napi::Float32Array::New(env, g->scores.size());
    std::copy(g->offsets.begin(), g->offsets.end(), off.Data());
    std::copy(g->indices.begin(), g->indices.end(), idx.Data());
    std::copy(g->scores.begin(), g->scores.end(), sc.Data());
    o.Set("offsets", off);
    o.Set("indices", idx);
    o.Set("scores", sc);
    return o;
  });
}

// knnShape(graph) -> [rows, cols, nnz]
Napi::Value KnnShape(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const GraphPtr g = graph_arg(env, info[0], "graph");
    Napi::Array a = Napi::Array::New(env, 3);
    a.Set(0u, Napi::Number::New(env, static_cast<double>(g->rows)));
    a.Set(1u, Napi::Number::New(env, static_cast<double>(g->cols)));
    a.Set(2u, Napi::Number::New(env, static_cast<double>(g->indices.size())));
    return a;
  });
}

// knnRow({ graph, row, k, exclude | null, outIndices, outScores }) -> count: the row's best neighbours.
Napi::Value KnnRow(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const GraphPtr g = graph_arg(env, spec.Get("graph"), "graph");
    const size_t row =
        static_cast<size_t>(integer_value(env, spec.Get("row"), "row", 0, static_cast<int64_t>(g->rows) - 1));
    const size_t k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    // Membership only: an unsorted or changing list cannot cause an out-of-bounds access.
    const IndexList excl =
        sorted_indices(env, i32_value(env, spec.Get("exclude"), "exclude", true), g->cols, "exclude");
    const View<int32_t> oi = i32_value(env, spec.Get("outIndices"), "outIndices");
    const View<float> os = f32_value(env, spec.Get("outScores"), "outScores");
    const size_t b = static_cast<size_t>(g->offsets[row]), e = static_cast<size_t>(g->offsets[row + 1]);
    const size_t cap = std::min(k, e - b);
    expect_min_length(env, oi.length, cap, "outIndices");
    expect_min_length(env, os.length, cap, "outScores");
    const size_t n = rb::knn_row(*g, row, cap, excl.data, excl.size, oi.data, os.data);
    return Napi::Number::New(env, static_cast<double>(n));
  });
}

// knnRecommend({ graph, history, weights | null, exclude | null, k, mean, shrink, excludeHistory,
//                outIndices, outScores }) -> [count, skipped]
// History entries are read once each and range-checked by the kernel before use (out of range:
// skipped and counted), so a shared buffer changing mid-call cannot cause an out-of-bounds access.
Napi::Value KnnRecommend(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const PositionalSpec spec(info, kKnnRecommendFields);
    const GraphPtr g = graph_arg(env, spec.Get("graph"), "graph");
    const View<int32_t> hist = i32_value(env, spec.Get("history"), "history");
    const View<float> w = f32_value(env, spec.Get("weights"), "weights", true);
    if (w.present) expect_length(env, w.length, hist.length, "weights");
    const IndexList excl =
        sorted_indices(env, i32_value(env, spec.Get("exclude"), "exclude", true), g->cols, "exclude");
    rb::KnnQueryOptions opt;
    opt.k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    opt.mean = spec.Get("mean").ToBoolean().Value();
    opt.shrink = static_cast<float>(number_value(env, spec.Get("shrink"), "shrink", 0, 1e9));
    opt.exclude_history = spec.Get("excludeHistory").ToBoolean().Value();
    const View<int32_t> oi = i32_value(env, spec.Get("outIndices"), "outIndices");
    const View<float> os = f32_value(env, spec.Get("outScores"), "outScores");
    const size_t cap = std::min(opt.k, g->cols);
    expect_min_length(env, oi.length, cap, "outIndices");
    expect_min_length(env, os.length, cap, "outScores");
    opt.k = cap;
    size_t skipped = 0;
    const size_t n = rb::knn_recommend(*g, hist.data, w.data, hist.length, excl.data, excl.size, opt, sync_scratch(),
                                       oi.data, os.data, &skipped);
    Napi::Array a = Napi::Array::New(env, 2);
    a.Set(0u, Napi::Number::New(env, static_cast<double>(n)));
    a.Set(1u, Napi::Number::New(env, static_cast<double>(skipped)));
    return a;
  });
}

// knnScores({ graph, history, weights | null, mean, shrink, out }) -> skipped
Napi::Value KnnScores(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const GraphPtr g = graph_arg(env, spec.Get("graph"), "graph");
    const View<int32_t> hist = i32_value(env, spec.Get("history"), "history");
    const View<float> w = f32_value(env, spec.Get("weights"), "weights", true);
    if (w.present) expect_length(env, w.length, hist.length, "weights");
    const bool mean = spec.Get("mean").ToBoolean().Value();
    const float shrink = static_cast<float>(number_value(env, spec.Get("shrink"), "shrink", 0, 1e9));
    const View<float> out = f32_value(env, spec.Get("out"), "out");
    expect_min_length(env, out.length, g->cols, "out");
    const size_t skipped = rb::knn_scores(*g, hist.data, w.data, hist.length, mean, shrink, sync_scratch(), out.data);
    return Napi::Number::New(env, static_cast<double>(skipped));
  });
}

Napi::Value KnnRecommendBatch(const Napi::CallbackInfo& info) { return queue<RecommendBatchWorker>(info); }

}  // namespace rbnapi

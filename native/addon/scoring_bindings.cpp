// Synchronous entry points: single-query scoring and top-K, gather and pooled gather.
#include "../kernels/pooling.h"
#include "../kernels/scoring.h"
#include "bindings.h"
#include "hot_fields.h"
#include "table_arg.h"
#include "topk_options.h"

namespace rbnapi {

// scoreItems({ table, dim, query, items | null, out, threads })
Napi::Value ScoreItems(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const rb::ItemTable t = table_arg(env, spec);
    const View<float> q = f32_value(env, spec.Get("query"), "query");
    expect_length(env, q.length, t.dim, "query");
    const View<int32_t> subset_v = i32_value(env, spec.Get("items"), "items", true);
    // Indices are dereferenced: copy them first so a shared buffer cannot change after the check.
    const std::vector<int32_t> subset(subset_v.data, subset_v.data + subset_v.length);
    const View<float> out = f32_value(env, spec.Get("out"), "out");
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    if (subset_v.present) {
      check_indices(env, subset, t.rows, "items");
      expect_min_length(env, out.length, subset.size(), "out");
      // An empty list has no data pointer, and a null subset means "every row" to the kernel: that
      // wrote rows floats into an empty out (a segfault found by the hardening property suite).
      if (!subset.empty()) rb::score_items(t, q.data, subset.data(), subset.size(), out.data, threads);
    } else {
      expect_min_length(env, out.length, t.rows, "out");
      rb::score_items(t, q.data, nullptr, 0, out.data, threads);
    }
    return env.Undefined();
  });
}

// topK({ table, dim, query, k, exclude | null, block | null, allow | null, threads, outIndices,
//        outScores }) -> count
// The latency-critical call (microseconds on small tables): each field is read once, and nothing is
// allocated unless an index list needs sorting or is an allow-list.
Napi::Value TopK(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const PositionalSpec spec(info, kTopKFields);
    const rb::ItemTable t = table_arg(env, spec);
    const View<float> q = f32_value(env, spec.Get("query"), "query");
    expect_length(env, q.length, t.dim, "query");
    const size_t k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    const IndexList exclude =
        sorted_indices(env, i32_value(env, spec.Get("exclude"), "exclude", true), t.rows, "exclude");
    const IndexList block = sorted_indices(env, i32_value(env, spec.Get("block"), "block", true), t.rows, "block");
    const View<int32_t> allow_v = i32_value(env, spec.Get("allow"), "allow", true);
    const IndexList allow = sorted_indices(env, allow_v, t.rows, "allow", true);
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    const View<int32_t> out_idx = i32_value(env, spec.Get("outIndices"), "outIndices");
    const View<float> out_scores = f32_value(env, spec.Get("outScores"), "outScores");
    const size_t cap = std::min(k, allow_v.present ? allow.size : t.rows);
    expect_min_length(env, out_idx.length, cap, "outIndices");
    expect_min_length(env, out_scores.length, cap, "outScores");

    const rb::TopKOptions opt = topk_options(k, allow_v.present, allow, block, threads);
    const size_t n = rb::topk_one(t, q.data, opt, exclude.data, exclude.size, out_idx.data, out_scores.data);
    return Napi::Number::New(env, static_cast<double>(n));
  });
}

// gather({ table, dim, indices, out })
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const rb::ItemTable t = table_arg(env, spec);
    const View<int32_t> idx_v = i32_value(env, spec.Get("indices"), "indices");
    const View<float> out = f32_value(env, spec.Get("out"), "out");
    const std::vector<int32_t> idx(idx_v.data, idx_v.data + idx_v.length);
    check_indices(env, idx, t.rows, "indices");
    expect_min_length(env, out.length, idx.size() * t.dim, "out");
    rb::gather_rows(t.data, t.dim, idx.data(), idx.size(), out.data);
    return env.Undefined();
  });
}

// pool({ table, dim, offsets, indices, weights | null, mode, out })
Napi::Value Pool(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const rb::ItemTable t = table_arg(env, spec);
    const View<int32_t> off_v = i32_value(env, spec.Get("offsets"), "offsets");
    const View<int32_t> idx_v = i32_value(env, spec.Get("indices"), "indices");
    const View<float> w = f32_value(env, spec.Get("weights"), "weights", true);
    const rb::PoolMode mode = enum_value(env, spec.Get("mode"), "mode", rb::PoolMode::Sum, rb::PoolMode::WeightedSum);
    const View<float> out = f32_value(env, spec.Get("out"), "out");
    // Offsets and indices are dereferenced: copy them so a shared buffer cannot change after the check.
    const std::vector<int32_t> off(off_v.data, off_v.data + off_v.length);
    const std::vector<int32_t> idx(idx_v.data, idx_v.data + idx_v.length);
    if (off.empty()) throw_range(env, "offsets", "Expected offsets of length at least 1");
    const size_t nbags = off.size() - 1;
    if (off[0] != 0 || static_cast<size_t>(off[nbags]) != idx.size())
      throw_range(env, "offsets",
                  "Expected offsets to start at 0 and end at indices.length (" + std::to_string(idx.size()) + ")");
    for (size_t b = 0; b < nbags; ++b)
      if (off[b + 1] < off[b])
        throw_range(env, "offsets",
                    "Expected non-decreasing offsets but offsets[" + std::to_string(b + 1) + "] < offsets[" +
                        std::to_string(b) + "]");
    check_indices(env, idx, t.rows, "indices");
    if (mode == rb::PoolMode::WeightedSum) {
      if (!w.present) throw_type(env, "weights", "Float32Array (mode is weighted sum)");
      expect_length(env, w.length, idx.size(), "weights");
    }
    expect_min_length(env, out.length, nbags * t.dim, "out");
    rb::pool_bags(t.data, t.dim, off.data(), nbags, idx.data(), w.data, mode, out.data);
    return env.Undefined();
  });
}

}  // namespace rbnapi

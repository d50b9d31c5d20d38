// Quantized tables: quantize a float32 table into JS-owned arrays, score and top-K against them.
// All synchronous (a single query over even 1M int8 rows takes about a millisecond). Lengths are
// re-checked here; index lists the kernels dereference are copied before their bounds check.
#include <algorithm>

#include "../kernels/quantized.h"
#include "../kernels/thread_pool.h"
#include "args.h"
#include "hot_fields.h"
#include "table_arg.h"
#include "topk_options.h"

namespace rbnapi {
namespace {

template <class T>
View<T> typed(Napi::Env env, Napi::Value v, const char* name, napi_typedarray_type want, const char* type_name,
              bool optional = false) {
  View<T> out;
  if (optional && (v.IsNull() || v.IsUndefined())) return out;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != want)
    throw_type(env, name, type_name);
  if (length > 0 && data == nullptr)
    throw_state(env, "ERR_DETACHED_BUFFER", std::string("The buffer behind ") + name + " is detached", name);
  out.data = static_cast<T*>(data);
  out.length = length;
  out.value = v;
  out.present = true;
  return out;
}

// spec.kind, spec.codes, spec.scales | null, spec.rowSums | null, spec.dim.
template <class Spec>
rb::QuantTable qtable_arg(Napi::Env env, const Spec& spec) {
  rb::QuantTable t{};
  t.kind = enum_value(env, spec.Get("kind"), "kind", rb::QuantKind::Bf16, rb::QuantKind::Int8);
  t.dim = static_cast<size_t>(integer_value(env, spec.Get("dim"), "dim", 1, kMaxDim));
  size_t length;
  if (t.kind == rb::QuantKind::Bf16) {
    const View<uint16_t> codes =
        typed<uint16_t>(env, spec.Get("codes"), "codes", napi_uint16_array, "Uint16Array (bf16 codes)");
    t.bf16 = codes.data;
    length = codes.length;
  } else {
    if (t.dim > rb::kMaxInt8Dim)
      throw_range(env, "dim", "Expected dim of at most " + std::to_string(rb::kMaxInt8Dim) + " for an int8 table");
    const View<int8_t> codes =
        typed<int8_t>(env, spec.Get("codes"), "codes", napi_int8_array, "Int8Array (int8 codes)");
    t.i8 = codes.data;
    length = codes.length;
  }
  if (length % t.dim != 0)
    throw_length(env, "codes",
                 "Expected codes length to be a multiple of dim (" + std::to_string(t.dim) + ") but it is " +
                     std::to_string(length));
  t.rows = length / t.dim;
  if (t.rows > static_cast<size_t>(INT32_MAX)) throw_range(env, "codes", "Expected at most 2^31-1 rows in codes");
  if (t.kind == rb::QuantKind::Int8) {
    const View<float> scales = f32_value(env, spec.Get("scales"), "scales");
    const View<int32_t> sums = i32_value(env, spec.Get("rowSums"), "rowSums");
    expect_length(env, scales.length, t.rows, "scales");
    expect_length(env, sums.length, t.rows, "rowSums");
    t.scale = scales.data;
    t.rowsum = sums.data;
  }
  return t;
}

}  // namespace

// quantize({ kind, codes, scales | null, rowSums | null, dim, source, threads }): fills codes (and
// the int8 scales and row sums) from the float32 rows of source (rows x dim).
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const rb::QuantTable t = qtable_arg(env, spec);
    const View<float> src = f32_value(env, spec.Get("source"), "source");
    expect_length(env, src.length, t.rows * t.dim, "source");
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    const size_t parts = std::max<size_t>(1, std::min(threads, t.rows / 4096));
    const size_t per = (t.rows + parts - 1) / std::max<size_t>(parts, 1);
    rb::parallel_for(parts, parts, [&](size_t p) {
      const size_t b = p * per, e = std::min(t.rows, b + per);
      if (b >= e) return;
      if (t.kind == rb::QuantKind::Bf16)
        rb::quantize_bf16(src.data, b, e, t.dim, const_cast<uint16_t*>(t.bf16));
      else
        rb::quantize_i8(src.data, b, e, t.dim, const_cast<int8_t*>(t.i8), const_cast<float*>(t.scale),
                        const_cast<int32_t*>(t.rowsum));
    });
    return env.Undefined();
  });
}

// quantScore({ kind, codes, scales, rowSums, dim, query, items | null, out, threads })
Napi::Value QuantScore(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const rb::QuantTable t = qtable_arg(env, spec);
    const View<float> q = f32_value(env, spec.Get("query"), "query");
    expect_length(env, q.length, t.dim, "query");
    const View<int32_t> subset_v = i32_value(env, spec.Get("items"), "items", true);
    const std::vector<int32_t> subset(subset_v.data, subset_v.data + subset_v.length);
    const View<float> out = f32_value(env, spec.Get("out"), "out");
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    if (subset_v.present) check_indices(env, subset, t.rows, "items");
    const size_t n = subset_v.present ? subset.size() : t.rows;
    expect_min_length(env, out.length, n, "out");
    rb::quant_score(t, q.data, subset_v.present ? subset.data() : nullptr, n, out.data, threads);
    return env.Undefined();
  });
}

// quantTopK({ kind, codes, scales, rowSums, dim, query, k, exclude | null, block | null,
//             allow | null, threads, rerank, f32Table | null, outIndices, outScores }) -> count
Napi::Value QuantTopK(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const PositionalSpec spec(info, kQuantTopKFields);
    const rb::QuantTable t = qtable_arg(env, spec);
    const View<float> q = f32_value(env, spec.Get("query"), "query");
    expect_length(env, q.length, t.dim, "query");
    const size_t k = static_cast<size_t>(integer_value(env, spec.Get("k"), "k", 1, INT32_MAX));
    const IndexList exclude =
        sorted_indices(env, i32_value(env, spec.Get("exclude"), "exclude", true), t.rows, "exclude");
    const IndexList block = sorted_indices(env, i32_value(env, spec.Get("block"), "block", true), t.rows, "block");
    const View<int32_t> allow_v = i32_value(env, spec.Get("allow"), "allow", true);
    const IndexList allow = sorted_indices(env, allow_v, t.rows, "allow", true);
    const size_t threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "threads", 1, kMaxThreads));
    const size_t rerank = static_cast<size_t>(integer_value(env, spec.Get("rerank"), "rerank", 0, INT32_MAX));
    const View<float> f32_v = f32_value(env, spec.Get("f32Table"), "f32Table", true);
    rb::ItemTable f32{};
    if (f32_v.present) {
      expect_length(env, f32_v.length, t.rows * t.dim, "f32Table");
      f32 = rb::ItemTable{f32_v.data, t.rows, t.dim};
    } else if (rerank > 0) {
      throw_type(env, "f32Table", "Float32Array (rerank needs the float32 rows)");
    }
    const View<int32_t> out_idx = i32_value(env, spec.Get("outIndices"), "outIndices");
    const View<float> out_scores = f32_value(env, spec.Get("outScores"), "outScores");
    const size_t cap = std::min(k, allow_v.present ? allow.size : t.rows);
    expect_min_length(env, out_idx.length, cap, "outIndices");
    expect_min_length(env, out_scores.length, cap, "outScores");
    const rb::TopKOptions opt = topk_options(k, allow_v.present, allow, block, threads);
    const size_t n = rb::quant_topk(t, q.data, opt, exclude.data, exclude.size, rerank, f32_v.present ? &f32 : nullptr,
                                    out_idx.data, out_scores.data);
    return Napi::Number::New(env, static_cast<double>(n));
  });
}

// quantInfo() -> { kernels, bf16Vnni }; quantUseExtensions(on) (tests: the plain AVX-512 kernels).
Napi::Value QuantInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("kernels", rb::active_quant_kernels().name);
  o.Set("bf16Vnni", Napi::Boolean::New(info.Env(), rb::cpu_has_avx512_bf16_vnni()));
  return o;
}

Napi::Value QuantUseExtensions(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw_type(info.Env(), "on", "boolean");
    rb::quant_use_extensions(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  });
}

}  // namespace rbnapi

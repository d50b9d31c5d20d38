// The synchronous single-query calls (topK, quantTopK, knnRecommend) take their spec's fields as
// positional arguments in the order below: lib/core/native.ts unpacks the spec object, and the addon
// exports these lists (hotFieldOrder) so that lib/ checks the order once at load. Reading a property
// through Node-API costs about a thousand instructions, which on a 1,000-row table was a quarter of
// the whole top-K; a positional argument costs next to nothing. Every other call reads its spec object.
#pragma once
#include <napi.h>

#include <cstring>
#include <string>

#include "args.h"

namespace rbnapi {

constexpr const char* kTopKFields[] = {"table", "dim",   "query",   "k",          "exclude",
                                       "block", "allow", "threads", "outIndices", "outScores"};
constexpr const char* kQuantTopKFields[] = {"kind",    "codes",  "scales",   "rowSums",    "dim",
                                            "query",   "k",      "exclude",  "block",      "allow",
                                            "threads", "rerank", "f32Table", "outIndices", "outScores"};
constexpr const char* kKnnRecommendFields[] = {"graph", "history", "weights",        "exclude",    "k",
                                               "mean",  "shrink",  "excludeHistory", "outIndices", "outScores"};

// A spec whose fields arrive positionally; Get(name) has the meaning of Napi::Object::Get on the
// spec object, so a binding reads its fields the same way either way.
class PositionalSpec {
 public:
  template <size_t N>
  PositionalSpec(const Napi::CallbackInfo& info, const char* const (&names)[N]) : info_(info), names_(names), n_(N) {
    if (info.Length() != N)
      throw_type(info.Env(), "arguments", std::to_string(N) + " positional fields (see native/addon/hot_fields.h)");
  }
  Napi::Value Get(const char* name) const {
    for (size_t i = 0; i < n_; ++i)
      if (std::strcmp(names_[i], name) == 0) return info_[i];
    throw_state(info_.Env(), "ERR_NATIVE", std::string("hot_fields.h lists no field ") + name);
  }

 private:
  const Napi::CallbackInfo& info_;
  const char* const* names_;
  size_t n_;
};

template <size_t N>
Napi::Array field_order(Napi::Env env, const char* const (&names)[N]) {
  Napi::Array a = Napi::Array::New(env, N);
  for (size_t i = 0; i < N; ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  return a;
}

}  // namespace rbnapi

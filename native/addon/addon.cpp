// Module registration and the two process-wide controls (ISA, capabilities). Node-API modules are
// context-aware, so the addon loads in any number of worker threads; it keeps no per-context state.
#include "../kernels/isa.h"
#include "../kernels/kernel_table.h"
#include "../kernels/thread_pool.h"
#include "bindings.h"
#include "hot_fields.h"
#include "table_arg.h"

namespace rbnapi {

// quantized_bindings.cpp
Napi::Value Quantize(const Napi::CallbackInfo& info);
Napi::Value QuantScore(const Napi::CallbackInfo& info);
Napi::Value QuantTopK(const Napi::CallbackInfo& info);
Napi::Value QuantInfo(const Napi::CallbackInfo& info);
Napi::Value QuantUseExtensions(const Napi::CallbackInfo& info);

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const rb::Isa detected = rb::detect_isa();
  o.Set("isa", rb::isa_name(static_cast<rb::Isa>(rb::active_isa())));
  o.Set("detectedIsa", rb::isa_name(detected));
  Napi::Array isas = Napi::Array::New(env);
  for (int i = 0; i <= static_cast<int>(detected); ++i)
    isas.Set(static_cast<uint32_t>(i), rb::isa_name(static_cast<rb::Isa>(i)));
  o.Set("supportedIsas", isas);
  o.Set("hardwareThreads", Napi::Number::New(env, static_cast<double>(rb::hardware_threads())));
  o.Set("queryBlock", Napi::Number::New(env, static_cast<double>(rb::active_kernels().query_block)));
  o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return o;
}

// setIsa(name | null): null returns to the detected level.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info[0].IsNull() || info[0].IsUndefined()) {
      rb::reset_isa();
      return env.Undefined();
    }
    if (!info[0].IsString()) throw_type(env, "isa", "\"scalar\", \"avx2\", \"avx512\" or null");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    rb::Isa isa;
    if (!rb::parse_isa(name.c_str(), &isa))
      throw_range(env, "isa", "Expected \"scalar\", \"avx2\" or \"avx512\" for isa but received \"" + name + "\"");
    if (!rb::force_isa(static_cast<int>(isa)))
      throw_state(env, "ERR_ISA_UNSUPPORTED",
                  "This CPU cannot run the " + name + " kernels (detected: " + rb::isa_name(rb::detect_isa()) + ")",
                  "isa");
    return env.Undefined();
  });
}

// byteAlignment(typedArray) -> the element pointer's address modulo 64, so lib/ can place tables on
// cache-line boundaries (a misaligned row makes every 64-byte load span two cache lines).
Napi::Value ByteAlignment(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void* data = nullptr;
    napi_value buffer = nullptr;
    if (!info[0].IsTypedArray() ||
        napi_get_typedarray_info(info.Env(), info[0], &type, &length, &data, &buffer, &offset) != napi_ok)
      throw_type(info.Env(), "view", "typed array");
    return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(data) % 64));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object order = Napi::Object::New(env);
  order.Set("topK", field_order(env, kTopKFields));
  order.Set("quantTopK", field_order(env, kQuantTopKFields));
  order.Set("knnRecommend", field_order(env, kKnnRecommendFields));
  exports.Set("hotFieldOrder", order);
  exports.Set("scoreItems", Napi::Function::New(env, ScoreItems, "scoreItems"));
  exports.Set("topK", Napi::Function::New(env, TopK, "topK"));
  exports.Set("topKBatch", Napi::Function::New(env, TopKBatch, "topKBatch"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("pool", Napi::Function::New(env, Pool, "pool"));
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("createCancelToken", Napi::Function::New(env, CreateCancelToken, "createCancelToken"));
  exports.Set("cancel", Napi::Function::New(env, Cancel, "cancel"));
  exports.Set("shuffleSchedule", Napi::Function::New(env, ShuffleSchedule, "shuffleSchedule"));
  exports.Set("shuffleRecords", Napi::Function::New(env, ShuffleRecords, "shuffleRecords"));
  exports.Set("mfChunk", Napi::Function::New(env, MfChunk, "mfChunk"));
  exports.Set("alsSolve", Napi::Function::New(env, AlsSolve, "alsSolve"));
  exports.Set("twoTowerChunk", Napi::Function::New(env, TwoTowerChunk, "twoTowerChunk"));
  exports.Set("twoTowerEncode", Napi::Function::New(env, TwoTowerEncode, "twoTowerEncode"));
  exports.Set("twoTowerLoss", Napi::Function::New(env, TwoTowerLoss, "twoTowerLoss"));
  exports.Set("byteAlignment", Napi::Function::New(env, ByteAlignment, "byteAlignment"));
  exports.Set("knnBuild", Napi::Function::New(env, KnnBuild, "knnBuild"));
  exports.Set("knnFromArrays", Napi::Function::New(env, KnnFromArrays, "knnFromArrays"));
  exports.Set("knnExport", Napi::Function::New(env, KnnExport, "knnExport"));
  exports.Set("knnShape", Napi::Function::New(env, KnnShape, "knnShape"));
  exports.Set("knnRow", Napi::Function::New(env, KnnRow, "knnRow"));
  exports.Set("knnRecommend", Napi::Function::New(env, KnnRecommend, "knnRecommend"));
  exports.Set("knnScores", Napi::Function::New(env, KnnScores, "knnScores"));
  exports.Set("knnRecommendBatch", Napi::Function::New(env, KnnRecommendBatch, "knnRecommendBatch"));
  exports.Set("csrCrossProduct", Napi::Function::New(env, CsrCrossProduct, "csrCrossProduct"));
  exports.Set("spdFactor", Napi::Function::New(env, SpdFactor, "spdFactor"));
  exports.Set("spdSolve", Napi::Function::New(env, SpdSolve, "spdSolve"));
  exports.Set("spdInverse", Napi::Function::New(env, SpdInverse, "spdInverse"));
  exports.Set("quantize", Napi::Function::New(env, Quantize, "quantize"));
  exports.Set("quantScore", Napi::Function::New(env, QuantScore, "quantScore"));
  exports.Set("quantTopK", Napi::Function::New(env, QuantTopK, "quantTopK"));
  exports.Set("quantInfo", Napi::Function::New(env, QuantInfo, "quantInfo"));
  exports.Set("quantUseExtensions", Napi::Function::New(env, QuantUseExtensions, "quantUseExtensions"));
  exports.Set("mlpForward", Napi::Function::New(env, MlpForward, "mlpForward"));
  exports.Set("mlpBackward", Napi::Function::New(env, MlpBackward, "mlpBackward"));
  exports.Set("mlpAdam", Napi::Function::New(env, MlpAdam, "mlpAdam"));
  exports.Set("mlpFitMse", Napi::Function::New(env, MlpFitMse, "mlpFitMse"));
  exports.Set("graphCreate", Napi::Function::New(env, GraphCreate, "graphCreate"));
  exports.Set("graphPropagate", Napi::Function::New(env, GraphPropagate, "graphPropagate"));
  exports.Set("graphStep", Napi::Function::New(env, GraphStep, "graphStep"));
  exports.Set("abiVersion", Napi::Number::New(env, 7));
  return exports;
}

}  // namespace rbnapi

static Napi::Object InitRecbridge(Napi::Env env, Napi::Object exports) { return rbnapi::Init(env, exports); }

NODE_API_MODULE(recbridge, InitRecbridge)

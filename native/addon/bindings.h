// Every function the addon exports; addon.cpp registers them by name.
#pragma once
#include <napi.h>

namespace rbnapi {

Napi::Value ScoreItems(const Napi::CallbackInfo& info);
Napi::Value TopK(const Napi::CallbackInfo& info);
Napi::Value TopKBatch(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value Pool(const Napi::CallbackInfo& info);
Napi::Value Capabilities(const Napi::CallbackInfo& info);
Napi::Value SetIsa(const Napi::CallbackInfo& info);
Napi::Value ShuffleSchedule(const Napi::CallbackInfo& info);
Napi::Value ShuffleRecords(const Napi::CallbackInfo& info);
Napi::Value MfChunk(const Napi::CallbackInfo& info);
Napi::Value AlsSolve(const Napi::CallbackInfo& info);
Napi::Value TwoTowerChunk(const Napi::CallbackInfo& info);
Napi::Value TwoTowerEncode(const Napi::CallbackInfo& info);
Napi::Value TwoTowerLoss(const Napi::CallbackInfo& info);
Napi::Value CreateCancelToken(const Napi::CallbackInfo& info);
Napi::Value Cancel(const Napi::CallbackInfo& info);
Napi::Value KnnBuild(const Napi::CallbackInfo& info);
Napi::Value KnnFromArrays(const Napi::CallbackInfo& info);
Napi::Value KnnExport(const Napi::CallbackInfo& info);
Napi::Value KnnShape(const Napi::CallbackInfo& info);
Napi::Value KnnRow(const Napi::CallbackInfo& info);
Napi::Value KnnRecommend(const Napi::CallbackInfo& info);
Napi::Value KnnScores(const Napi::CallbackInfo& info);
Napi::Value KnnRecommendBatch(const Napi::CallbackInfo& info);
Napi::Value MlpForward(const Napi::CallbackInfo& info);
Napi::Value MlpBackward(const Napi::CallbackInfo& info);
Napi::Value MlpAdam(const Napi::CallbackInfo& info);
Napi::Value MlpFitMse(const Napi::CallbackInfo& info);
Napi::Value CsrCrossProduct(const Napi::CallbackInfo& info);
Napi::Value SpdFactor(const Napi::CallbackInfo& info);
Napi::Value SpdSolve(const Napi::CallbackInfo& info);
Napi::Value SpdInverse(const Napi::CallbackInfo& info);
Napi::Value GraphCreate(const Napi::CallbackInfo& info);
Napi::Value GraphPropagate(const Napi::CallbackInfo& info);
Napi::Value GraphStep(const Napi::CallbackInfo& info);

}  // namespace rbnapi

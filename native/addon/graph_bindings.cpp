// Graph (LightGCN) entry points: graphCreate (sync: copies and checks a symmetric CSR once, behind a
// type-tagged External), graphPropagate (async: mean of Â^l x over l = 0..layers) and graphStep
// (async: the BPR gradient of the layer-0 table through the propagation, then an optional dense
// Adam update). Tables the work writes are JS-owned and must live on SharedArrayBuffers; the
// triples are copied here, so a caller changing them mid-step cannot move an index out of range.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/graph.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

struct OwnedGraph {
  std::vector<int32_t> offsets, indices;
  std::vector<float> weights;
  rb::SparseGraph view() const {
    rb::SparseGraph g;
    g.offsets = offsets.data();
    g.indices = indices.data();
    g.weights = weights.data();
    g.nodes = offsets.size() - 1;
    g.nnz = indices.size();
    return g;
  }
};
using GraphPtr = std::shared_ptr<const OwnedGraph>;
const napi_type_tag kGraphTag = {0x7265636272696467ull, 0x6c6967687467636eull};  // "recbridg" "lightgcn"

GraphPtr graph_arg(Napi::Env env, Napi::Value v, const char* name) {
  bool ok = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kGraphTag, &ok) != napi_ok || !ok)
    throw_type(env, name, "graph handle (from graphCreate)");
  return *v.As<Napi::External<GraphPtr>>().Data();
}

size_t threads_arg(Napi::Env env, const Napi::Object& spec) {
  return static_cast<size_t>(integer_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads));
}

// A float table the async work writes or reads in place: `rows × dim` floats on shared memory.
float* table_in_place(Napi::Env env, const Napi::Object& spec, const char* field, size_t floats,
                      std::vector<Napi::ObjectReference>& pins, bool at_least = false) {
  const std::string name = std::string("spec.") + field;
  const View<float> v = f32_value(env, spec.Get(field), name.c_str());
  if (at_least)
    expect_min_length(env, v.length, floats, name.c_str());
  else
    expect_length(env, v.length, floats, name.c_str());
  require_shared(env, v.value, name);
  if (v.value.IsObject()) pins.push_back(Napi::Persistent(v.value.As<Napi::Object>()));
  return v.data;
}

std::vector<int32_t> copy_i32(Napi::Env env, const Napi::Object& spec, const char* field) {
  const std::string name = std::string("spec.") + field;
  const View<int32_t> v = i32_value(env, spec.Get(field), name.c_str());
  return std::vector<int32_t>(v.data, v.data + v.length);
}

// graphPropagate({ graph, x, dim, layers, out, work, threads }) -> Promise<{ skipped }>
class PropagateWorker : public PromiseWorker {
 public:
  explicit PropagateWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "graphPropagate") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    graph_ = graph_arg(env, spec.Get("graph"), "spec.graph");
    dim_ = static_cast<size_t>(integer_value(env, spec.Get("dim"), "spec.dim", 1, kMaxDim));
    layers_ = static_cast<size_t>(integer_value(env, spec.Get("layers"), "spec.layers", 0, 64));
    const size_t n = (graph_->offsets.size() - 1) * dim_;
    x_ = table_in_place(env, spec, "x", n, pins_);
    out_ = table_in_place(env, spec, "out", n, pins_);
    work_ = table_in_place(env, spec, "work", 2 * n, pins_, true);
    threads_ = threads_arg(env, spec);
  }

 private:
  void Work() override { skipped_ = rb::graph_propagate(graph_->view(), x_, dim_, layers_, out_, work_, threads_); }
  Napi::Value Result() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("skipped", Napi::Number::New(Env(), static_cast<double>(skipped_)));
    return o;
  }

  GraphPtr graph_;
  size_t dim_ = 0, layers_ = 0, threads_ = 1, skipped_ = 0;
  float *x_ = nullptr, *out_ = nullptr, *work_ = nullptr;
  std::vector<Napi::ObjectReference> pins_;
};

// graphStep({ graph, embeddings, dim, layers, users, pos, neg, weights, l2, grad, work, adam, threads })
//   -> Promise<{ loss, skipped }>; adam: null (gradient only) or { m, v, lr, beta1, beta2, eps, step }.
class StepWorker : public PromiseWorker {
 public:
  explicit StepWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env(), "graphStep") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    graph_ = graph_arg(env, spec.Get("graph"), "spec.graph");
    dim_ = static_cast<size_t>(integer_value(env, spec.Get("dim"), "spec.dim", 1, kMaxDim));
    layers_ = static_cast<size_t>(integer_value(env, spec.Get("layers"), "spec.layers", 0, 64));
    n_ = (graph_->offsets.size() - 1) * dim_;
    emb_ = table_in_place(env, spec, "embeddings", n_, pins_);
    grad_ = table_in_place(env, spec, "grad", n_, pins_);
    work_ = table_in_place(env, spec, "work", 3 * n_, pins_, true);
    users_ = copy_i32(env, spec, "users");
    pos_ = copy_i32(env, spec, "pos");
    neg_ = copy_i32(env, spec, "neg");
    expect_length(env, pos_.size(), users_.size(), "spec.pos");
    expect_length(env, neg_.size(), users_.size(), "spec.neg");
    const Napi::Value w = spec.Get("weights");
    if (!w.IsNull() && !w.IsUndefined()) {
      const View<float> wv = f32_value(env, w, "spec.weights");
      expect_length(env, wv.length, users_.size(), "spec.weights");
      weights_.assign(wv.data, wv.data + wv.length);
    }
    l2_ = static_cast<float>(number_value(env, spec.Get("l2"), "spec.l2", 0, 1e6));
    threads_ = threads_arg(env, spec);
    const Napi::Value adam = spec.Get("adam");
    if (!adam.IsNull() && !adam.IsUndefined()) {
      if (!adam.IsObject()) throw_type(env, "spec.adam", "object or null");
      const Napi::Object a = adam.As<Napi::Object>();
      m_ = table_in_place(env, a, "m", n_, pins_);
      v_ = table_in_place(env, a, "v", n_, pins_);
      lr_ = static_cast<float>(number_value(env, a.Get("lr"), "spec.adam.lr", 0, 1e6));
      beta1_ = static_cast<float>(number_value(env, a.Get("beta1"), "spec.adam.beta1", 0, 0.999999));
      beta2_ = static_cast<float>(number_value(env, a.Get("beta2"), "spec.adam.beta2", 0, 0.999999));
      eps_ = static_cast<float>(number_value(env, a.Get("eps"), "spec.adam.eps", 0, 1));
      step_ = static_cast<size_t>(integer_value(env, a.Get("step"), "spec.adam.step", 1, INT32_MAX));
    }
  }

 private:
  void Work() override {
    rb::BprTriples t;
    t.users = users_.data();
    t.pos = pos_.data();
    t.neg = neg_.data();
    t.weight = weights_.empty() ? nullptr : weights_.data();
    t.n = users_.size();
    loss_ = rb::graph_bpr_gradient(graph_->view(), emb_, dim_, layers_, t, l2_, grad_, work_, threads_, &skipped_);
    if (m_) rb::adam_dense(emb_, grad_, m_, v_, n_, lr_, beta1_, beta2_, eps_, step_, threads_);
  }
  Napi::Value Result() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("loss", Napi::Number::New(Env(), loss_));
    o.Set("skipped", Napi::Number::New(Env(), static_cast<double>(skipped_)));
    return o;
  }

  GraphPtr graph_;
  size_t dim_ = 0, layers_ = 0, n_ = 0, threads_ = 1, skipped_ = 0, step_ = 0;
  float *emb_ = nullptr, *grad_ = nullptr, *work_ = nullptr, *m_ = nullptr, *v_ = nullptr;
  std::vector<int32_t> users_, pos_, neg_;
  std::vector<float> weights_;
  float l2_ = 0, lr_ = 0, beta1_ = 0, beta2_ = 0, eps_ = 0;
  double loss_ = 0;
  std::vector<Napi::ObjectReference> pins_;
};

}  // namespace

// graphCreate({ nodes, offsets, indices, weights }) -> graph handle. Copies and checks the CSR:
// offsets non-decreasing from 0 to indices.length, indices in [0, nodes), weights finite.
Napi::Value GraphCreate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const size_t nodes = static_cast<size_t>(integer_value(env, spec.Get("nodes"), "spec.nodes", 0, INT32_MAX));
    auto g = std::make_shared<OwnedGraph>();
    g->offsets = copy_i32(env, spec, "offsets");
    g->indices = copy_i32(env, spec, "indices");
    const View<float> w = f32_value(env, spec.Get("weights"), "spec.weights");
    g->weights.assign(w.data, w.data + w.length);
    const size_t nnz = g->indices.size();
    expect_length(env, g->offsets.size(), nodes + 1, "spec.offsets");
    expect_length(env, g->weights.size(), nnz, "spec.weights");
    if (g->offsets[0] != 0 || static_cast<size_t>(g->offsets[nodes]) != nnz)
      throw_range(env, "spec.offsets", "Expected spec.offsets to start at 0 and end at " + std::to_string(nnz));
    for (size_t r = 0; r < nodes; ++r)
      if (g->offsets[r + 1] < g->offsets[r])
        throw_range(env, "spec.offsets",
                    "Expected non-decreasing spec.offsets but spec.offsets[" + std::to_string(r + 1) +
                        "] < spec.offsets[" + std::to_string(r) + "]");
    for (size_t k = 0; k < nnz; ++k) {
      if (g->indices[k] < 0 || static_cast<size_t>(g->indices[k]) >= nodes)
        throw_range(env, "spec.indices",
                    "Expected spec.indices in [0, " + std::to_string(nodes) + ") but spec.indices[" +
                        std::to_string(k) + "] is " + std::to_string(g->indices[k]));
      if (!std::isfinite(g->weights[k]))
        throw_range(env, "spec.weights",
                    "Expected finite spec.weights but spec.weights[" + std::to_string(k) + "] is not");
    }
    auto* holder = new GraphPtr(std::move(g));
    auto ext = Napi::External<GraphPtr>::New(env, holder, [](Napi::Env, GraphPtr* p) { delete p; });
    if (napi_type_tag_object(env, ext, &kGraphTag) != napi_ok) throw_state(env, "ERR_NATIVE", "could not tag a graph");
    return ext;
  });
}

Napi::Value GraphPropagate(const Napi::CallbackInfo& info) { return queue<PropagateWorker>(info); }

Napi::Value GraphStep(const Napi::CallbackInfo& info) { return queue<StepWorker>(info); }

}  // namespace rbnapi

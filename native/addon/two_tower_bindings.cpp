// Two-tower entry points: twoTowerChunk (async training on a schedule slice), twoTowerEncode (async
// forward pass producing user or item vectors) and twoTowerLoss (sync: one batch's loss and,
// optionally, its gradients, for gradient checks). The spec reader checks every shape and pins
// every buffer on the JS thread; the kernels still bounds-check each index they read at use.
#include <cmath>
#include <string>
#include <vector>

#include "../kernels/two_tower.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;

bool is_absent(const Napi::Value& v) { return v.IsNull() || v.IsUndefined(); }

size_t size_value(Napi::Env env, Napi::Value v, const std::string& name, double min, double max) {
  const double x = number_value(env, v, name.c_str(), min, max);
  if (std::floor(x) != x) throw_range(env, name, "Expected an integer for " + name);
  return static_cast<size_t>(x);
}

bool bool_value(Napi::Env env, Napi::Value v, const std::string& name) {
  if (!v.IsBoolean()) throw_type(env, name, "boolean");
  return v.As<Napi::Boolean>().Value();
}

// The optimizers whose state layouts the parameters' state arrays must have (SGD: none is read).
struct StateRule {
  rb::OptimizerKind emb = rb::OptimizerKind::Sgd;
  rb::OptimizerKind dense = rb::OptimizerKind::Sgd;
};

class SpecReader {
 public:
  SpecReader(Napi::Env env, StateRule rule, bool grads, bool async)
      : env_(env), rule_(rule), grads_(grads), async_(async) {}

  // { entities, dim, embedding, features, dense, layers }
  rb::Tower tower(Napi::Value v, const std::string& name) {
    if (!v.IsObject()) throw_type(env_, name, "object");
    const Napi::Object o = v.As<Napi::Object>();
    rb::Tower t;
    t.entities = size_value(env_, o.Get("entities"), name + ".entities", 1, INT32_MAX);
    t.dim = size_value(env_, o.Get("dim"), name + ".dim", 1, kMaxDim);
    if (!is_absent(o.Get("embedding")))
      t.embedding = param(o.Get("embedding"), name + ".embedding", t.entities, t.dim, /*dense=*/false);
    if (!is_absent(o.Get("features"))) {
      const std::string fname = name + ".features";
      if (!o.Get("features").IsObject()) throw_type(env_, fname, "object");
      const Napi::Object f = o.Get("features").As<Napi::Object>();
      t.features = param(f.Get("table"), fname + ".table", 0, t.dim, false);
      const View<int32_t> off = i32_value(env_, f.Get("offsets"), (fname + ".offsets").c_str());
      const View<int32_t> idx = i32_value(env_, f.Get("indices"), (fname + ".indices").c_str());
      expect_length(env_, off.length, t.entities + 1, (fname + ".offsets").c_str());
      t.bag_off = off.data;
      t.bag_off_len = off.length;
      t.bag_idx = idx.data;
      t.bag_idx_len = idx.length;
      pin(off.value, fname + ".offsets");
      pin(idx.value, fname + ".indices");
    }
    if (!is_absent(o.Get("dense"))) {
      const std::string dname = name + ".dense";
      if (!o.Get("dense").IsObject()) throw_type(env_, dname, "object");
      const Napi::Object d = o.Get("dense").As<Napi::Object>();
      t.dense_dim = size_value(env_, d.Get("dim"), dname + ".dim", 1, kMaxDim);
      const View<float> values = f32_value(env_, d.Get("values"), (dname + ".values").c_str());
      expect_length(env_, values.length, t.entities * t.dense_dim, (dname + ".values").c_str());
      t.dense_values = values.data;
      t.dense_len = values.length;
      pin(values.value, dname + ".values");
      t.projection.weight = param(d.Get("weight"), dname + ".weight", t.dim, t.dense_dim, true);
      t.projection.bias = param(d.Get("bias"), dname + ".bias", t.dim, 1, true);
    }
    const Napi::Value layers = o.Get("layers");
    if (!layers.IsArray()) throw_type(env_, name + ".layers", "array");
    const Napi::Array arr = layers.As<Napi::Array>();
    if (arr.Length() > 64) throw_range(env_, name + ".layers", "Expected at most 64 entries in " + name + ".layers");
    size_t width = t.dim;
    for (uint32_t l = 0; l < arr.Length(); ++l) {
      const std::string lname = name + ".layers[" + std::to_string(l) + "]";
      if (!arr.Get(l).IsObject()) throw_type(env_, lname, "object");
      const Napi::Object lo = arr.Get(l).As<Napi::Object>();
      rb::DenseLayer layer;
      layer.weight = param(lo.Get("weight"), lname + ".weight", 0, width, true);
      layer.bias = param(lo.Get("bias"), lname + ".bias", layer.weight.rows, 1, true);
      width = layer.weight.rows;
      t.mlp.push_back(layer);
    }
    if (t.embedding.w == nullptr && t.features.w == nullptr && t.dense_values == nullptr)
      throw_type(env_, name, "tower with an embedding, features or dense input");
    return t;
  }

  // Keeps v alive for the call; for async work also refuses detachable (non-shared) memory.
  void pin(Napi::Value v, const std::string& name) {
    if (async_) require_shared(env_, v, name);
    if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

 private:
  // { w, dim, state, frozen, lrMult, grad? }; rows / dim checked when non-zero.
  rb::TTParam param(Napi::Value v, const std::string& name, size_t want_rows, size_t want_dim, bool dense) {
    if (!v.IsObject()) throw_type(env_, name, "object");
    const Napi::Object o = v.As<Napi::Object>();
    rb::TTParam p;
    const View<float> w = f32_value(env_, o.Get("w"), (name + ".w").c_str());
    const size_t dim = size_value(env_, o.Get("dim"), name + ".dim", 1, kMaxDim);
    if (w.length % dim)
      throw_length(env_, name + ".w", "Expected " + name + ".w length to be a multiple of " + name + ".dim");
    if (want_dim && dim != want_dim)
      throw_range(env_, name + ".dim", "Expected " + name + ".dim to be " + std::to_string(want_dim));
    p.w = w.data;
    p.dim = dim;
    p.rows = w.length / dim;
    if (p.rows == 0) throw_length(env_, name + ".w", "Expected " + name + ".w to have at least one row");
    if (want_rows && p.rows != want_rows)
      throw_length(
          env_, name + ".w",
          "Expected " + name + " to have " + std::to_string(want_rows) + " rows but it has " + std::to_string(p.rows));
    pin(w.value, name + ".w");
    p.lr_mult = static_cast<float>(number_value(env_, o.Get("lrMult"), (name + ".lrMult").c_str(), 0, 1e6));
    const size_t want_state = rb::optimizer_state_floats(dense ? rule_.dense : rule_.emb, p.rows, dim);
    if (want_state && p.lr_mult != 0.f) {
      const View<float> state = f32_value(env_, o.Get("state"), (name + ".state").c_str());
      expect_length(env_, state.length, want_state, (name + ".state").c_str());
      p.state = state.data;
      pin(state.value, name + ".state");
    }
    const View<uint8_t> frozen = u8_value(env_, o.Get("frozen"), (name + ".frozen").c_str(), true);
    if (frozen.present) {
      expect_length(env_, frozen.length, p.rows, (name + ".frozen").c_str());
      p.frozen_rows = frozen.data;
      pin(frozen.value, name + ".frozen");
    }
    if (grads_) {
      const View<float> grad = f32_value(env_, o.Get("grad"), (name + ".grad").c_str(), true);
      if (grad.present) {
        expect_length(env_, grad.length, w.length, (name + ".grad").c_str());
        p.grad = grad.data;
        pin(grad.value, name + ".grad");
      }
    }
    return p;
  }

  Napi::Env env_;
  StateRule rule_;
  bool grads_;
  bool async_ = true;
  std::vector<Napi::ObjectReference> pins_;
};

// Similarity, temperature and threads, shared by every entry point.
void read_scoring(Napi::Env env, const Napi::Object& spec, rb::TwoTowerConfig& cfg) {
  cfg.cosine = enum_value(env, spec.Get("similarity"), "spec.similarity", rb::Similarity::Dot,
                          rb::Similarity::Cosine) == rb::Similarity::Cosine;
  cfg.temperature = static_cast<float>(number_value(env, spec.Get("temperature"), "spec.temperature", 1e-6, 1e6));
  cfg.threads = size_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads);
}

void check_towers(Napi::Env env, const rb::Tower& u, const rb::Tower& i) {
  if (u.out_dim() != i.out_dim())
    throw_range(env, "spec.item",
                "Expected spec.user and spec.item to produce vectors of the same size (" + std::to_string(u.out_dim()) +
                    " vs " + std::to_string(i.out_dim()) + ")");
}

class TwoTowerWorker : public PromiseWorker {
 public:
  explicit TwoTowerWorker(const Napi::CallbackInfo& info) : TwoTowerWorker(info.Env(), spec_arg(info)) {}

 private:
  TwoTowerWorker(Napi::Env env, const Napi::Object& spec)
      : PromiseWorker(env, "twoTowerChunk"), reader_(env, rule(env, spec), false, true) {
    read_scoring(env, spec, cfg_);
    rb::OptimizerConfig& o = cfg_.opt;
    o.lr = static_cast<float>(number_value(env, spec.Get("lr"), "spec.lr", 0, 1e6));
    o.l2 = static_cast<float>(number_value(env, spec.Get("l2"), "spec.l2", 0, 1e6));
    o.eps = static_cast<float>(number_value(env, spec.Get("eps"), "spec.eps", 0, 1));
    o.dense_lr = static_cast<float>(number_value(env, spec.Get("denseLr"), "spec.denseLr", 0, 1e6));
    o.dense_l2 = static_cast<float>(number_value(env, spec.Get("denseL2"), "spec.denseL2", 0, 1e6));
    o.beta1 = static_cast<float>(number_value(env, spec.Get("beta1"), "spec.beta1", 0, 0.999999));
    o.beta2 = static_cast<float>(number_value(env, spec.Get("beta2"), "spec.beta2", 0, 0.999999));
    o.dense_eps = static_cast<float>(number_value(env, spec.Get("denseEps"), "spec.denseEps", 0, 1));
    cfg_.batch = size_value(env, spec.Get("batchSize"), "spec.batchSize", 1, 1 << 16);
    user_ = reader_.tower(spec.Get("user"), "spec.user");
    item_ = reader_.tower(spec.Get("item"), "spec.item");
    check_towers(env, user_, item_);

    const View<int32_t> users = i32_value(env, spec.Get("users"), "spec.users");
    const View<int32_t> items = i32_value(env, spec.Get("items"), "spec.items");
    expect_length(env, items.length, users.length, "spec.items");
    data_.users = users.data;
    data_.items = items.data;
    data_.n = users.length;
    reader_.pin(users.value, "spec.users");
    reader_.pin(items.value, "spec.items");
    const View<float> log_q = f32_value(env, spec.Get("logQ"), "spec.logQ", true);
    if (log_q.present) {
      expect_length(env, log_q.length, item_.entities, "spec.logQ");
      data_.log_q = log_q.data;
      data_.log_q_len = log_q.length;
      reader_.pin(log_q.value, "spec.logQ");
    }
    const View<int32_t> schedule = i32_value(env, spec.Get("schedule"), "spec.schedule");
    schedule_ = schedule.data;
    reader_.pin(schedule.value, "spec.schedule");
    begin_ = size_value(env, spec.Get("begin"), "spec.begin", 0, static_cast<double>(schedule.length));
    end_ =
        size_value(env, spec.Get("end"), "spec.end", static_cast<double>(begin_), static_cast<double>(schedule.length));
    read_cancel(env, spec.Get("cancel"), "spec.cancel");
  }

  void Work() override {
    result_ = rb::two_tower_chunk(user_, item_, data_, schedule_, begin_, end_, cfg_, cancelled());
  }

  Napi::Value Result() override {
    Napi::Object o =
        chunk_outcome(Env(), result_.loss, result_.samples, result_.invalid, result_.diverged, result_.cancelled);
    o.Set("batches", Napi::Number::New(Env(), static_cast<double>(result_.batches)));
    return o;
  }

  // The optimizers decide which state arrays must be present, so read them before the towers.
  StateRule rule(Napi::Env env, const Napi::Object& spec) {
    cfg_.opt.emb =
        enum_value(env, spec.Get("embOptimizer"), "spec.embOptimizer", rb::OptimizerKind::Sgd, rb::OptimizerKind::Adam);
    cfg_.opt.dense = enum_value(env, spec.Get("denseOptimizer"), "spec.denseOptimizer", rb::DenseOptimizer::Sgd,
                                rb::DenseOptimizer::Adam);
    return StateRule{cfg_.opt.emb, rb::state_layout(cfg_.opt.dense)};
  }

  rb::TwoTowerConfig cfg_;
  SpecReader reader_;
  rb::Tower user_, item_;
  rb::TwoTowerData data_;
  const int32_t* schedule_ = nullptr;
  size_t begin_ = 0, end_ = 0;
  rb::TwoTowerResult result_;
};

class EncodeWorker : public PromiseWorker {
 public:
  explicit EncodeWorker(const Napi::CallbackInfo& info) : EncodeWorker(info.Env(), spec_arg(info)) {}

 private:
  EncodeWorker(Napi::Env env, const Napi::Object& spec)
      : PromiseWorker(env, "twoTowerEncode"), reader_(env, StateRule{}, false, true) {
    tower_ = reader_.tower(spec.Get("tower"), "spec.tower");
    const View<int32_t> ids = i32_value(env, spec.Get("ids"), "spec.ids", true);
    if (ids.present) {
      ids_ = ids.data;
      n_ = ids.length;
      reader_.pin(ids.value, "spec.ids");
    } else {
      n_ = tower_.entities;
    }
    const View<float> out = f32_value(env, spec.Get("out"), "spec.out");
    expect_length(env, out.length, n_ * tower_.out_dim(), "spec.out");
    out_ = out.data;
    reader_.pin(out.value, "spec.out");
    normalize_ = bool_value(env, spec.Get("normalize"), "spec.normalize");
    threads_ = size_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads);
  }

  void Work() override { invalid_ = rb::two_tower_encode(tower_, ids_, n_, normalize_, out_, threads_); }

  Napi::Value Result() override {
    Napi::Object o = Napi::Object::New(Env());
    o.Set("invalid", Napi::Number::New(Env(), static_cast<double>(invalid_)));
    return o;
  }

  SpecReader reader_;
  rb::Tower tower_;
  const int32_t* ids_ = nullptr;
  size_t n_ = 0;
  float* out_ = nullptr;
  bool normalize_ = false;
  size_t threads_ = 1;
  size_t invalid_ = 0;
};

}  // namespace

// twoTowerChunk(spec) -> Promise<{ loss, samples, batches, invalid, diverged, cancelled }>
Napi::Value TwoTowerChunk(const Napi::CallbackInfo& info) { return queue<TwoTowerWorker>(info); }

// twoTowerEncode(spec) -> Promise<{ invalid }>
Napi::Value TwoTowerEncode(const Napi::CallbackInfo& info) { return queue<EncodeWorker>(info); }

// twoTowerLoss(spec) -> { loss, invalid }: synchronous, for gradient checks on small batches.
Napi::Value TwoTowerLoss(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const bool grads = bool_value(env, spec.Get("grads"), "spec.grads");
    SpecReader reader(env, StateRule{}, grads, false);  // synchronous: plain memory is safe
    rb::TwoTowerConfig cfg;
    read_scoring(env, spec, cfg);
    rb::Tower user = reader.tower(spec.Get("user"), "spec.user");
    rb::Tower item = reader.tower(spec.Get("item"), "spec.item");
    check_towers(env, user, item);
    const View<int32_t> users = i32_value(env, spec.Get("users"), "spec.users");
    const View<int32_t> items = i32_value(env, spec.Get("items"), "spec.items");
    expect_length(env, items.length, users.length, "spec.items");
    if (users.length > (1u << 16)) throw_range(env, "spec.users", "Expected at most 65536 samples in spec.users");
    const View<float> log_q = f32_value(env, spec.Get("logQ"), "spec.logQ", true);
    if (log_q.present) expect_length(env, log_q.length, item.entities, "spec.logQ");
    size_t invalid = 0;
    const double loss = rb::two_tower_loss(user, item, users.data, items.data, users.length, log_q.data, log_q.length,
                                           cfg, grads, &invalid);
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", Napi::Number::New(env, loss));
    o.Set("invalid", Napi::Number::New(env, static_cast<double>(invalid)));
    return o;
  });
}

}  // namespace rbnapi

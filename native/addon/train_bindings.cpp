// Training entry points, all asynchronous: shuffleSchedule (two-tower epochs), shuffleRecords and
// mfChunk (matrix factorization). Constructors (JS thread) check shapes and pin every buffer; Work
// runs only the kernel.
#include <cmath>
#include <string>

#include "../kernels/train_mf.h"
#include "async_work.h"
#include "bindings.h"
#include "table_arg.h"

namespace rbnapi {
namespace {

class PinningWorker : public PromiseWorker {
 public:
  using PromiseWorker::PromiseWorker;

 protected:
  // Keeps v alive for the whole async call; refuses detachable (non-shared) memory.
  void pin(Napi::Value v, const std::string& name) {
    require_shared(Env(), v, name);
    if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

 private:
  std::vector<Napi::ObjectReference> pins_;
};

// shuffleSchedule(schedule: Int32Array, seed, epoch) -> Promise<void>
class ShuffleWorker : public PinningWorker {
 public:
  explicit ShuffleWorker(const Napi::CallbackInfo& info) : PinningWorker(info.Env(), "shuffleSchedule") {
    const View<int32_t> s = i32_value(info.Env(), info[0], "schedule");
    if (s.length > static_cast<size_t>(INT32_MAX))
      throw_range(info.Env(), "schedule", "Expected at most 2^31-1 entries in schedule");
    data_ = s.data;
    n_ = s.length;
    pin(s.value, "schedule");
    seed_ = static_cast<uint64_t>(number_value(info.Env(), info[1], "seed", 0, 9007199254740991.0));
    epoch_ = static_cast<uint64_t>(number_value(info.Env(), info[2], "epoch", 0, 9007199254740991.0));
  }

 private:
  void Work() override { rb::shuffle_schedule(data_, n_, seed_, epoch_); }
  Napi::Value Result() override { return Env().Undefined(); }

  int32_t* data_ = nullptr;
  size_t n_ = 0;
  uint64_t seed_ = 0, epoch_ = 0;
};

// What an MF spec shares between shuffleRecords and mfChunk: the loss, the negative sampler, the
// interaction arrays (users, items, values?, posOffsets?, posIndices?), pinned by the worker, and
// the epoch's records, which must hold n × stride values for the record kind these imply.
class MfDataWorker : public PinningWorker {
 protected:
  using PinningWorker::PinningWorker;

  // spec.loss, spec.maxRejections and spec.sampler, whose tables have one entry per item.
  void read_sampling(Napi::Env env, const Napi::Object& spec, size_t num_items) {
    cfg_.loss = enum_value(env, spec.Get("loss"), "spec.loss", rb::MfLoss::Bpr, rb::MfLoss::Warp);
    cfg_.max_rejections =
        static_cast<int>(integer_value(env, spec.Get("maxRejections"), "spec.maxRejections", 0, 1000));
    const Napi::Value v = spec.Get("sampler");
    if (!v.IsObject()) throw_type(env, "spec.sampler", "object");
    const Napi::Object o = v.As<Napi::Object>();
    rb::NegativeSampler& s = cfg_.sampler;
    s.kind = enum_value(env, o.Get("kind"), "spec.sampler.kind", rb::SamplerKind::Uniform, rb::SamplerKind::InBatch);
    if (s.kind == rb::SamplerKind::Alias) {
      const View<float> prob = f32_value(env, o.Get("prob"), "spec.sampler.prob");
      const View<int32_t> alias = i32_value(env, o.Get("alias"), "spec.sampler.alias");
      expect_length(env, prob.length, num_items, "spec.sampler.prob");
      expect_length(env, alias.length, num_items, "spec.sampler.alias");
      s.prob = prob.data;
      s.alias = alias.data;  // entries are bounds-checked when drawn
      s.n = prob.length;
      pin(prob.value, "spec.sampler.prob");
      pin(alias.value, "spec.sampler.alias");
    } else if (s.kind == rb::SamplerKind::InBatch) {
      s.window = static_cast<size_t>(integer_value(env, o.Get("window"), "spec.sampler.window", 2, 1000000000));
    }
    data_.num_items = num_items;
  }

  // After read_sampling.
  void read_data(Napi::Env env, const Napi::Object& spec) {
    const rb::MfLoss loss = cfg_.loss;
    const View<int32_t> users = i32_value(env, spec.Get("users"), "spec.users");
    const View<int32_t> items = i32_value(env, spec.Get("items"), "spec.items");
    expect_length(env, items.length, users.length, "spec.items");
    data_.users = users.data;
    data_.items = items.data;
    data_.n = users.length;
    pin(users.value, "spec.users");
    pin(items.value, "spec.items");
    const View<float> values = f32_value(env, spec.Get("values"), "spec.values", true);
    if (values.present) {
      expect_length(env, values.length, users.length, "spec.values");
      data_.values = values.data;
      pin(values.value, "spec.values");
    }
    if (loss == rb::MfLoss::Mse && !values.present)
      throw_type(env, "spec.values", "Float32Array (the mse loss needs ratings)");
    const View<int32_t> off = i32_value(env, spec.Get("posOffsets"), "spec.posOffsets", true);
    const View<int32_t> idx = i32_value(env, spec.Get("posIndices"), "spec.posIndices", true);
    if (off.present != idx.present)
      throw_type(env, "spec.posOffsets and spec.posIndices", "both or neither", "spec.posOffsets");
    if (off.present && idx.length != users.length)
      throw_range(env, "spec.posIndices",
                  "Expected spec.posIndices to hold every interaction grouped by user (" +
                      std::to_string(users.length) + " entries), got " + std::to_string(idx.length));
    if (off.present) {
      data_.pos_off = off.data;
      data_.pos_off_len = off.length;
      data_.pos_idx = idx.data;
      data_.pos_idx_len = idx.length;
      pin(off.value, "spec.posOffsets");
      pin(idx.value, "spec.posIndices");
    }
    const View<int32_t> records = i32_value(env, spec.Get("records"), "spec.records");
    const size_t stride = rb::mf_record_stride(rb::mf_records(data_, cfg_));
    if (records.length / stride != data_.n || records.length % stride != 0)
      throw_range(env, "spec.records",
                  "Expected spec.records to hold " + std::to_string(stride) + " values per interaction (" +
                      std::to_string(data_.n * stride) + "), got " + std::to_string(records.length));
    records_ = records.data;
    pin(records.value, "spec.records");
  }

  rb::MfConfig cfg_;
  rb::MfData data_;
  int32_t* records_ = nullptr;
};

// shuffleRecords({ loss, numItems, sampler, maxRejections, users, items, values?, posOffsets?, posIndices?, records,
//                  seed, epoch }) -> Promise<void>
class ShuffleRecordsWorker : public MfDataWorker {
 public:
  explicit ShuffleRecordsWorker(const Napi::CallbackInfo& info) : MfDataWorker(info.Env(), "shuffleRecords") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    const size_t num_items =
        static_cast<size_t>(integer_value(env, spec.Get("numItems"), "spec.numItems", 0, INT32_MAX));
    read_sampling(env, spec, num_items);
    read_data(env, spec);
    cfg_.seed = static_cast<uint64_t>(number_value(env, spec.Get("seed"), "spec.seed", 0, 9007199254740991.0));
    cfg_.epoch = static_cast<uint64_t>(number_value(env, spec.Get("epoch"), "spec.epoch", 0, 9007199254740991.0));
  }

 private:
  void Work() override { rb::shuffle_records(data_, cfg_, records_); }
  Napi::Value Result() override { return Env().Undefined(); }
};

class MfWorker : public MfDataWorker {
 public:
  explicit MfWorker(const Napi::CallbackInfo& info) : MfDataWorker(info.Env(), "mfChunk") {
    Napi::Env env = info.Env();
    const Napi::Object spec = spec_arg(info);
    cfg_.optimizer =
        enum_value(env, spec.Get("optimizer"), "spec.optimizer", rb::OptimizerKind::Sgd, rb::OptimizerKind::Adam);
    user_ = param(env, spec.Get("user"), "spec.user", 0);
    item_ = param(env, spec.Get("item"), "spec.item", user_.dim);
    // The update kernels promise the compiler that user and item rows never alias (__restrict__).
    if (user_.w && item_.w && user_.w < item_.w + item_.rows * item_.dim && item_.w < user_.w + user_.rows * user_.dim)
      throw_type(env, "spec.user.w and spec.item.w", "separate (non-overlapping) tables", "spec.user.w");
    if (!spec.Get("bias").IsNull() && !spec.Get("bias").IsUndefined()) {
      bias_ = param(env, spec.Get("bias"), "spec.bias", 1);
      if (bias_.rows != item_.rows) throw_range(env, "spec.bias", "Expected spec.bias to have one row per item");
    }

    read_sampling(env, spec, item_.rows);
    read_data(env, spec);
    begin_ = static_cast<size_t>(integer_value(env, spec.Get("begin"), "spec.begin", 0, static_cast<int64_t>(data_.n)));
    end_ = static_cast<size_t>(
        integer_value(env, spec.Get("end"), "spec.end", static_cast<int64_t>(begin_), static_cast<int64_t>(data_.n)));

    cfg_.lr = static_cast<float>(number_value(env, spec.Get("lr"), "spec.lr", 0, 1e6));
    cfg_.l2 = static_cast<float>(number_value(env, spec.Get("l2"), "spec.l2", 0, 1e6));
    cfg_.eps = static_cast<float>(number_value(env, spec.Get("eps"), "spec.eps", 0, 1));
    cfg_.beta1 = static_cast<float>(number_value(env, spec.Get("beta1"), "spec.beta1", 0, 0.999999));
    cfg_.beta2 = static_cast<float>(number_value(env, spec.Get("beta2"), "spec.beta2", 0, 0.999999));
    cfg_.seed = static_cast<uint64_t>(number_value(env, spec.Get("seed"), "spec.seed", 0, 9007199254740991.0));
    cfg_.epoch = static_cast<uint64_t>(number_value(env, spec.Get("epoch"), "spec.epoch", 0, 9007199254740991.0));
    cfg_.chunk = static_cast<uint64_t>(number_value(env, spec.Get("chunk"), "spec.chunk", 0, 9007199254740991.0));
    cfg_.threads = static_cast<size_t>(integer_value(env, spec.Get("threads"), "spec.threads", 1, kMaxThreads));
    cfg_.negatives =
        static_cast<int>(integer_value(env, spec.Get("negatives"), "spec.negatives", 1, rb::kMaxNegatives));
    cfg_.warp_max_trials =
        static_cast<int>(integer_value(env, spec.Get("warpMaxTrials"), "spec.warpMaxTrials", 1, 100000));
    cfg_.margin = static_cast<float>(number_value(env, spec.Get("margin"), "spec.margin", 0, 1e6));
    read_cancel(env, spec.Get("cancel"), "spec.cancel");
  }

 private:
  void Work() override {
    result_ = rb::mf_chunk(user_, item_, bias_, data_, records_, begin_, end_, cfg_, cancelled());
  }

  Napi::Value Result() override {
    return chunk_outcome(Env(), result_.loss, result_.samples, result_.invalid, result_.diverged, result_.cancelled);
  }

  // { w: Float32Array, dim, state: Float32Array | null, frozen: Uint8Array | null, lrMult }
  rb::TrainParam param(Napi::Env env, Napi::Value v, const std::string& name, size_t want_dim) {
    if (!v.IsObject()) throw_type(env, name, "object");
    const Napi::Object o = v.As<Napi::Object>();
    rb::TrainParam p;
    const View<float> w = f32_value(env, o.Get("w"), (name + ".w").c_str());
    const size_t dim = static_cast<size_t>(integer_value(env, o.Get("dim"), name + ".dim", 1, kMaxDim));
    if (w.length % dim)
      throw_length(env, name + ".w", "Expected " + name + ".w length to be a multiple of " + name + ".dim");
    if (w.length / dim > static_cast<size_t>(INT32_MAX))
      throw_range(env, name + ".w", "Expected at most 2^31-1 rows in " + name + ".w");
    if (want_dim && dim != want_dim)
      throw_range(env, name + ".dim", "Expected " + name + ".dim to be " + std::to_string(want_dim));
    p.w = w.data;
    p.dim = dim;
    p.rows = w.length / dim;
    pin(w.value, name + ".w");
    const View<float> state = f32_value(env, o.Get("state"), (name + ".state").c_str(), true);
    const size_t want_state = rb::optimizer_state_floats(cfg_.optimizer, p.rows, dim);
    if (want_state) {
      if (!state.present) throw_type(env, name + ".state", "Float32Array (the optimizer keeps state)");
      expect_length(env, state.length, want_state, (name + ".state").c_str());
      p.state = state.data;
      pin(state.value, name + ".state");
    }
    const View<uint8_t> frozen = u8_value(env, o.Get("frozen"), (name + ".frozen").c_str(), true);
    if (frozen.present) {
      expect_length(env, frozen.length, p.rows, (name + ".frozen").c_str());
      p.frozen_rows = frozen.data;
      pin(frozen.value, name + ".frozen");
    }
    p.lr_mult = static_cast<float>(number_value(env, o.Get("lrMult"), (name + ".lrMult").c_str(), 0, 1e6));
    return p;
  }

  rb::TrainParam user_, item_, bias_;
  size_t begin_ = 0, end_ = 0;
  rb::MfResult result_;
};

}  // namespace

Napi::Value ShuffleSchedule(const Napi::CallbackInfo& info) { return queue<ShuffleWorker>(info); }

Napi::Value ShuffleRecords(const Napi::CallbackInfo& info) { return queue<ShuffleRecordsWorker>(info); }

// mfChunk(spec) -> Promise<{ loss, samples, invalid, diverged, cancelled }>
Napi::Value MfChunk(const Napi::CallbackInfo& info) { return queue<MfWorker>(info); }

}  // namespace rbnapi

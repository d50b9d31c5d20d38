#include "train_mf.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernel_table.h"
#include "negative_sampling.h"
#include "rng.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Random rows live in DRAM. The epoch's records (train_records.cpp) are read in order, but the
// embedding rows are random reads, and so is the user's positive list wherever the negatives are
// drawn here rather than in the shuffle (every loss but BPR); the rows are only known once those
// negatives are drawn. Each sample therefore moves through a software pipeline whose stages run
// kStage samples apart, each stage prefetching what the next one reads, so the trained sample's
// rows are already in cache (3-4x faster than prefetching only the rows, at 100k x 50k items).
constexpr size_t kStage = 16;
constexpr size_t kStages = 2;                                      // before the training step
constexpr size_t kRing = 128;                                      // a power of two
static_assert(kRing >= (kStages + 1) * kStage, "ring too small");  // blocks in flight
// Parts shorter than this are not worth a thread.
constexpr size_t kMinSamplesPerPart = 4096;

struct Slot {
  int32_t u = -1, i = -1;
  int32_t pos_b = 0, pos_e = 0;  // the user's positives: pos_idx[pos_b, pos_e)
  float value = 0;               // the rating (MSE)
  int32_t nj = 0;                // negatives drawn
  int32_t j[kMaxNegatives];
};

// A chunk's summed loss. Each logistic term is max(-x, 0) + ln(1 + e) with e = exp(-|x|) in (0, 1];
// the ln(1 + e) factors are multiplied (in double, 64 at a time: at most 2^64) and their product
// takes one log, since a log per sample costs as much as the rest of the loss. The loss is only
// reported, and this sums it to about 1e-7 relative.
class LossSum {
 public:
  void add(double v) { linear_ += v; }
  void add_logistic(float linear, float one_plus_e) {
    linear_ += linear;
    product_ *= one_plus_e;
    if (++pending_ == 64) flush();
  }
  double total() {
    flush();
    return linear_ + logs_;
  }

 private:
  void flush() {
    logs_ += std::log(product_);
    product_ = 1;
    pending_ = 0;
  }
  double linear_ = 0, logs_ = 0, product_ = 1;
  int pending_ = 0;
};

// σ(-x), the ascent coefficient of a score x that should be high, from one exp(-|x|), stable for
// any x; adds -ln σ(x) to the loss.
inline float sigmoid_neg(float x, LossSum& loss) {
  const float e = std::exp(-std::fabs(x));
  const float one_e = 1.f + e;
  loss.add_logistic(x >= 0 ? 0.f : -x, one_e);
  return x >= 0 ? e / one_e : 1.f / one_e;
}

// A table's hot fields, copied out of its TrainParam so the per-sample code reads them from
// registers or one cache line instead of chasing references after every opaque kernel call.
struct Table {
  float* w;
  float* state;
  const uint8_t* frozen;
  size_t rows, dim;
  float lr;  // lr × lr_mult: 0 when the parameter is not trainable

  Table(const TrainParam& p, float base_lr)
      : w(p.w),
        state(p.state),
        frozen(p.frozen_rows),
        rows(p.rows),
        dim(p.dim),
        lr(p.lr_mult == 0.f ? 0.f : base_lr * p.lr_mult) {}
  float* row(int32_t r) const { return w + static_cast<size_t>(r) * dim; }
  // The row's learning rate: 0 for a frozen row or a non-trainable parameter, whose values and
  // optimizer state are then never written (train_param.h).
  float row_lr(int32_t r) const { return frozen && frozen[r] ? 0.f : lr; }
};

// One thread's share of a chunk. The loss and the optimizer are template parameters: every
// per-sample decision fixed for the call is made once, at dispatch, not tens of millions of times.
template <MfLoss kLoss, OptimizerKind kOpt>
class Part {
 public:
  Part(const TrainParam& user, const TrainParam& item, const TrainParam& bias, const MfData& data,
       const int32_t* records, const MfConfig& cfg, Rng rng, size_t begin, size_t end)
      : user_(user, cfg.lr),
        item_(item, cfg.lr),
        bias_(bias, cfg.lr),
        data_(data),
        records_(records),
        kind_(mf_records(data, cfg)),
        stride_(mf_record_stride(kind_)),
        cfg_(cfg),
        rng_(rng),
        kern_(active_kernels()),
        n_items_(static_cast<uint32_t>(item.rows)),
        begin_(begin),
        end_(end),
        lines_((user.dim * sizeof(float) + 63) / 64),
        reject_(kNegatives > 0 && kind_ == MfRecords::Ranges),
        negatives_(kLoss == MfLoss::Bce ? std::clamp(cfg.negatives, 1, kMaxNegatives) : kNegatives) {}

  MfResult run(const std::atomic<int>* cancel) {
    MfResult r;
    Slot ring[kRing];
    // Samples move through the stages a block of kStage at a time: block b is read at step b, its
    // negatives drawn at b + 1 and it is trained at b + kStages. Each stage is a tight loop over one
    // block, so the per-sample bookkeeping of a pipeline costs a few instructions.
    const size_t n = end_ - begin_;
    const size_t blocks = (n + kStage - 1) / kStage;
    auto block = [&](size_t b, auto&& stage) {
      const size_t lo = b * kStage, hi = std::min(n, lo + kStage);
      for (size_t k = lo; k < hi; ++k) stage(begin_ + k, ring[k & (kRing - 1)]);
    };
    for (size_t it = 0; it < blocks + kStages; ++it) {
      if (it < blocks) block(it, [&](size_t p, Slot& s) { read_record(p, s); });
      if (it >= 1 && it - 1 < blocks) block(it - 1, [&](size_t p, Slot& s) { draw_negatives(p, s); });
      if (it < kStages) continue;
      if (((it - kStages) & 63) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
        r.cancelled = true;
        break;
      }
      bool ok = true;
      block(it - kStages, [&](size_t p, Slot& s) {
        if (!ok) return;
        if (s.u < 0) {
          ++r.invalid;
          return;
        }
        if constexpr (kLoss == MfLoss::Bpr) {
          if (s.nj == 0) return;  // no negative could be drawn (the user likes every item tried)
          ok = bpr(s);
        } else if constexpr (kLoss == MfLoss::Bce) {
          ok = bce(s);
        } else if constexpr (kLoss == MfLoss::Mse) {
          ok = mse(s);
        } else {
          ok = warp(p, s);
        }
        if (ok) ++r.samples;
      });
      if (!ok) {
        r.diverged = true;
        break;
      }
    }
    r.loss += loss_.total();
    return r;
  }

 private:
  // Negatives drawn up front (and their rows prefetched) per sample.
  static constexpr int kNegatives = kLoss == MfLoss::Mse ? 0 : 1;

  void prefetch_row(const float* p) const {
    const char* c = reinterpret_cast<const char*>(p);
    const char* const end = c + 64 * lines_;
    do {
      __builtin_prefetch(c, 1, 3);
      c += 64;
    } while (c < end);
  }

  // Adam state: m and v rows of a parameter, and the row's step count.
  static float* adam_m(const Table& p, int32_t r) { return p.state + static_cast<size_t>(r) * p.dim; }
  static float* adam_v(const Table& p, int32_t r) { return p.state + (p.rows + static_cast<size_t>(r)) * p.dim; }
  static float* adam_t(const Table& p, int32_t r) { return p.state + 2 * p.rows * p.dim + r; }
  // A touched row's learning rate with its own bias correction (lazy Adam counts steps per row).
  float adam_lr(const Table& p, int32_t r, float lr) const {
    if (lr == 0.f) return 0.f;
    const float t = ++*adam_t(p, r);
    return lr * std::sqrt(1.f - std::pow(cfg_.beta2, t)) / (1.f - std::pow(cfg_.beta1, t));
  }

  static float* state_row(const Table& p, int32_t r) {
    return kOpt == OptimizerKind::RowwiseAdagrad ? p.state + r : p.state + static_cast<size_t>(r) * p.dim;
  }
  float score(int32_t u, int32_t i) const {
    float x = kern_.dot(user_.row(u), item_.row(i), user_.dim);
    if (bias_.w) x += bias_.w[i];
    return x;
  }

  // Stage 1: the record (user, item and the shuffle's negative bounds-checked; the positive range
  // too, else empty); prefetch the first lines of the user's positives.
  void read_record(size_t p, Slot& s) const {
    const int32_t* const r = records_ + p * stride_;
    s.u = s.i = -1;
    s.pos_b = s.pos_e = s.nj = 0;
    const int32_t u = r[0], i = r[1];
    if (u < 0 || static_cast<size_t>(u) >= user_.rows || i < 0 || static_cast<size_t>(i) >= item_.rows) return;
    s.u = u;
    s.i = i;
    if constexpr (kLoss == MfLoss::Mse) std::memcpy(&s.value, r + 2, sizeof s.value);
    if (kind_ == MfRecords::Negatives) {  // drawn by the shuffle (BPR): -1 when none could be
      const int32_t j = r[2];
      if (j >= 0 && static_cast<size_t>(j) < item_.rows) s.j[s.nj++] = j;
      return;
    }
    if (!reject_) return;
    const int32_t b = r[2], e = r[3];
    if (b < 0 || e < b || static_cast<size_t>(e) > data_.pos_idx_len) return;
    s.pos_b = b;
    s.pos_e = e;
    const char* first = reinterpret_cast<const char*>(data_.pos_idx + b);
    const char* last = reinterpret_cast<const char*>(data_.pos_idx + e);
    for (int line = 0; line < 4 && first + 64 * line < last; ++line) __builtin_prefetch(first + 64 * line);
  }

  // One candidate negative from the configured sampler (-1 when the sampler had nothing valid).
  int32_t sample(size_t p) {
    if (cfg_.sampler.kind != SamplerKind::InBatch) return table_candidate(cfg_.sampler, rng_, item_.rows);
    // In-batch: the item of an interaction near p in this part of the schedule, sampling in
    // proportion to popularity, as in-batch negatives do, without a table.
    const size_t w = std::min(cfg_.sampler.window, end_ - begin_);
    const size_t lo = p - begin_ >= w / 2 ? p - w / 2 : begin_;
    const size_t at = std::min(end_ - 1, lo + rng_.below(static_cast<uint32_t>(std::max<size_t>(w, 1))));
    const int32_t j = records_[at * stride_ + 1];
    return j >= 0 && static_cast<size_t>(j) < item_.rows ? j : -1;
  }

  bool is_excluded(const Slot& s, int32_t j) const {
    return j < 0 || j == s.i ||
           (reject_ && sorted_contains(data_.pos_idx + s.pos_b, static_cast<size_t>(s.pos_e - s.pos_b), j));
  }

  // A negative that is neither the positive nor (optionally) a known positive, or -1.
  int32_t negative(size_t p, const Slot& s) {
    for (int tries = 0; tries <= cfg_.max_rejections; ++tries) {
      const int32_t j = sample(p);
      if (!is_excluded(s, j)) return j;
    }
    return -1;
  }

  // Stage 2: draw the negatives the loss needs up front and prefetch every row (and optimizer
  // state) the training step will touch.
  void draw_negatives(size_t p, Slot& s) {
    if (s.u < 0) return;
    for (int n = kind_ == MfRecords::Negatives ? negatives_ : 0; n < negatives_; ++n) {
      const int32_t j = negative(p, s);
      if (j >= 0) s.j[s.nj++] = j;
    }
    prefetch_row(user_.row(s.u));
    prefetch_row(item_.row(s.i));
    for (int n = 0; n < s.nj; ++n) prefetch_row(item_.row(s.j[n]));
    if constexpr (kOpt == OptimizerKind::Adagrad) {
      prefetch_row(state_row(user_, s.u));
      prefetch_row(state_row(item_, s.i));
      for (int n = 0; n < s.nj; ++n) prefetch_row(state_row(item_, s.j[n]));
    } else if constexpr (kOpt == OptimizerKind::RowwiseAdagrad) {
      __builtin_prefetch(state_row(user_, s.u));
      __builtin_prefetch(state_row(item_, s.i));
    } else if constexpr (kOpt == OptimizerKind::Adam) {
      prefetch_row(adam_m(user_, s.u));
      prefetch_row(adam_v(user_, s.u));
      prefetch_row(adam_m(item_, s.i));
      prefetch_row(adam_v(item_, s.i));
      for (int n = 0; n < s.nj; ++n) {
        prefetch_row(adam_m(item_, s.j[n]));
        prefetch_row(adam_v(item_, s.j[n]));
      }
    }
    if (bias_.w) __builtin_prefetch(bias_.w + s.i);
  }

  // Pairwise step on (u, i, j) with ascent coefficient g on x_ui - x_uj.
  void triple(int32_t u, int32_t i, int32_t j, float g) {
    triple(u, i, j, user_.row(u), item_.row(i), item_.row(j), g);
  }
  void triple(int32_t u, int32_t i, int32_t j, float* const wu, float* const wi, float* const wj, float g) {
    const size_t d = user_.dim;
    const float lu = user_.row_lr(u), li = item_.row_lr(i), lj = item_.row_lr(j);
    if constexpr (kOpt == OptimizerKind::Sgd) {
      kern_.sgd_triple(wu, wi, wj, d, g, lu, li, lj, cfg_.l2);
    } else if constexpr (kOpt == OptimizerKind::Adagrad) {
      kern_.adagrad_triple(wu, wi, wj, state_row(user_, u), state_row(item_, i), state_row(item_, j), d, g, lu, li, lj,
                           cfg_.l2, cfg_.eps);
    } else if constexpr (kOpt == OptimizerKind::RowwiseAdagrad) {
      kern_.rowwise_adagrad_triple(wu, wi, wj, state_row(user_, u), state_row(item_, i), state_row(item_, j), d, g, lu,
                                   li, lj, cfg_.l2, cfg_.eps);
    } else {
      float* const mv[6] = {adam_m(user_, u), adam_v(user_, u), adam_m(item_, i),
                            adam_v(item_, i), adam_m(item_, j), adam_v(item_, j)};
      kern_.adam_triple(wu, wi, wj, mv, d, g, adam_lr(user_, u, lu), adam_lr(item_, i, li), adam_lr(item_, j, lj),
                        cfg_.l2, cfg_.beta1, cfg_.beta2, cfg_.eps, scratch_.data());
    }
    if (bias_.w) {
      bias_step(i, g);
      bias_step(j, -g);
    }
  }

  // Pointwise step on (u, i) with ascent coefficient g on x_ui.
  void pair(int32_t u, int32_t i, float g) {
    const size_t d = user_.dim;
    float* const wu = user_.row(u);
    float* const wi = item_.row(i);
    const float lu = user_.row_lr(u), li = item_.row_lr(i);
    if constexpr (kOpt == OptimizerKind::Sgd) {
      kern_.sgd_pair(wu, wi, d, g, lu, li, cfg_.l2);
    } else if constexpr (kOpt == OptimizerKind::Adagrad) {
      kern_.adagrad_pair(wu, wi, state_row(user_, u), state_row(item_, i), d, g, lu, li, cfg_.l2, cfg_.eps);
    } else if constexpr (kOpt == OptimizerKind::RowwiseAdagrad) {
      kern_.rowwise_adagrad_pair(wu, wi, state_row(user_, u), state_row(item_, i), d, g, lu, li, cfg_.l2, cfg_.eps);
    } else {
      float* const mv[4] = {adam_m(user_, u), adam_v(user_, u), adam_m(item_, i), adam_v(item_, i)};
      kern_.adam_pair(wu, wi, mv, d, g, adam_lr(user_, u, lu), adam_lr(item_, i, li), cfg_.l2, cfg_.beta1, cfg_.beta2,
                      cfg_.eps, scratch_.data());
    }
    if (bias_.w) bias_step(i, g);
  }

  // An item bias is a one-element row: per-element and row-wise Adagrad coincide.
  void bias_step(int32_t i, float g) {
    const float lr = bias_.row_lr(i);
    if (lr == 0.f) return;
    float* b = bias_.w;
    const float step = g - cfg_.l2 * b[i];
    if constexpr (kOpt == OptimizerKind::Sgd) {
      b[i] += lr * step;
    } else if constexpr (kOpt == OptimizerKind::Adam) {
      const float rate = adam_lr(bias_, i, lr);
      float& m = *adam_m(bias_, i);
      float& v = *adam_v(bias_, i);
      m = cfg_.beta1 * m + (1.f - cfg_.beta1) * step;
      v = cfg_.beta2 * v + (1.f - cfg_.beta2) * step * step;
      b[i] += rate * m / (std::sqrt(v) + cfg_.eps);
    } else {
      b[i] += lr * step / (std::sqrt(bias_.state[i] += step * step) + cfg_.eps);
    }
  }

  bool bpr(const Slot& s) {
    float* const wu = user_.row(s.u);
    float* const wi = item_.row(s.i);
    float* const wj = item_.row(s.j[0]);
    float x = kern_.dot_diff(wu, wi, wj, user_.dim);
    if (bias_.w) x += bias_.w[s.i] - bias_.w[s.j[0]];
    if (!std::isfinite(x)) return false;
    triple(s.u, s.i, s.j[0], wu, wi, wj, sigmoid_neg(x, loss_));
    return true;
  }

  bool bce(const Slot& s) {
    const float xi = score(s.u, s.i);
    if (!std::isfinite(xi)) return false;
    pair(s.u, s.i, sigmoid_neg(xi, loss_));
    for (int n = 0; n < s.nj; ++n) {
      const float xj = score(s.u, s.j[n]);
      if (!std::isfinite(xj)) return false;
      pair(s.u, s.j[n], -sigmoid_neg(-xj, loss_));  // -ln σ(-xj) is its loss; its score should fall by σ(xj)
    }
    return true;
  }

  bool mse(const Slot& s) {
    const float x = score(s.u, s.i);
    const float r = s.value;
    if (!std::isfinite(x) || !std::isfinite(r)) return false;
    const float err = r - x;
    loss_.add(0.5f * err * err);
    pair(s.u, s.i, err);
    return true;
  }

  // LightFM-style WARP: find the first sampled negative that violates the margin; its trial count
  // estimates the positive's rank, and ln(rank) weights a hinge step.
  bool warp(size_t p, const Slot& s) {
    const float xi = score(s.u, s.i);
    if (!std::isfinite(xi)) return false;
    for (int trial = 1; trial <= cfg_.warp_max_trials; ++trial) {
      const int32_t j = trial == 1 && s.nj ? s.j[0] : negative(p, s);
      if (j < 0) continue;
      const float xj = score(s.u, j);
      if (!std::isfinite(xj)) return false;
      if (xj > xi - cfg_.margin) {
        const float rank = std::floor(static_cast<float>(n_items_ - 1) / static_cast<float>(trial));
        const float weight = std::log(std::max(rank, 1.f)) + 1e-3f;
        loss_.add(weight * (cfg_.margin - xi + xj));
        triple(s.u, s.i, j, weight);
        return true;
      }
    }
    return true;  // the positive already beats every sampled item by the margin
  }

  const Table user_, item_, bias_;
  LossSum loss_;
  const MfData& data_;
  const int32_t* records_;
  MfRecords kind_;
  size_t stride_;  // int32 values per record
  const MfConfig& cfg_;
  Rng rng_;
  const KernelTable& kern_;
  uint32_t n_items_;
  size_t begin_, end_;
  size_t lines_;  // cache lines per embedding row
  bool reject_;   // known positives are rejected as negatives
  int negatives_;
  std::vector<float> scratch_ =
      std::vector<float>(kOpt == OptimizerKind::Adam ? 3 * user_.dim : 0);  // Adam's ascent directions
};

template <MfLoss kLoss, OptimizerKind kOpt>
MfResult run_part(TrainParam& user, TrainParam& item, TrainParam& bias, const MfData& data, const int32_t* records,
                  const MfConfig& cfg, Rng rng, size_t begin, size_t end, const std::atomic<int>* cancel) {
  return Part<kLoss, kOpt>(user, item, bias, data, records, cfg, rng, begin, end).run(cancel);
}

template <MfLoss kLoss>
MfResult run_part_for(TrainParam& user, TrainParam& item, TrainParam& bias, const MfData& data, const int32_t* records,
                      const MfConfig& cfg, Rng rng, size_t begin, size_t end, const std::atomic<int>* cancel) {
  switch (cfg.optimizer) {
    case OptimizerKind::Sgd:
      return run_part<kLoss, OptimizerKind::Sgd>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
    case OptimizerKind::Adagrad:
      return run_part<kLoss, OptimizerKind::Adagrad>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
    case OptimizerKind::RowwiseAdagrad:
      return run_part<kLoss, OptimizerKind::RowwiseAdagrad>(user, item, bias, data, records, cfg, rng, begin, end,
                                                            cancel);
    case OptimizerKind::Adam:
      return run_part<kLoss, OptimizerKind::Adam>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
  }
  return MfResult{};
}

MfResult run_any_part(TrainParam& user, TrainParam& item, TrainParam& bias, const MfData& data, const int32_t* records,
                      const MfConfig& cfg, Rng rng, size_t begin, size_t end, const std::atomic<int>* cancel) {
  switch (cfg.loss) {
    case MfLoss::Bpr:
      return run_part_for<MfLoss::Bpr>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
    case MfLoss::Bce:
      return run_part_for<MfLoss::Bce>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
    case MfLoss::Mse:
      return run_part_for<MfLoss::Mse>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
    case MfLoss::Warp:
      return run_part_for<MfLoss::Warp>(user, item, bias, data, records, cfg, rng, begin, end, cancel);
  }
  return MfResult{};
}

}  // namespace

MfResult mf_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const MfData& data, const int32_t* records,
                  size_t begin, size_t end, const MfConfig& cfg, const std::atomic<int>* cancel) {
  MfResult total;
  if (end <= begin || item.rows == 0) return total;
  if (cfg.sampler.kind == SamplerKind::Alias && (!cfg.sampler.prob || !cfg.sampler.alias || cfg.sampler.n == 0))
    return total;
  const size_t n = end - begin;
  const size_t parts = std::max<size_t>(1, std::min(cfg.threads, n / kMinSamplesPerPart));
  const size_t per = (n + parts - 1) / parts;
  std::vector<MfResult> results(parts);
  parallel_for(parts, parts, [&](size_t p) {
    const size_t b = begin + p * per, e = std::min(end, b + per);
    if (b >= e) return;
    results[p] =
        run_any_part(user, item, item_bias, data, records, cfg, Rng(cfg.seed, cfg.epoch, cfg.chunk, p), b, e, cancel);
  });
  for (const MfResult& r : results) {
    total.loss += r.loss;
    total.samples += r.samples;
    total.invalid += r.invalid;
    total.diverged |= r.diverged;
    total.cancelled |= r.cancelled;
  }
  return total;
}

}  // namespace rb

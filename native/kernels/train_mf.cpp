#include "train_mf.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernel_table.h"
#include "rng.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Random rows live in DRAM, and finding them is itself a chain of dependent random reads (the
// schedule entry, then users[idx] / items[idx], then the user's positive list for rejection, then
// the embedding rows). Each sample therefore moves through a software pipeline whose stages run
// kStage samples apart, each stage prefetching what the next one reads, so the trained sample's
// rows are already in cache (3-4x faster than prefetching only the rows, at 100k x 50k items).
constexpr size_t kStage = 16;
constexpr size_t kStages = 4;  // before the training step
constexpr size_t kRing = 128;  // power of two > kStages * kStage
static_assert(kRing > kStages * kStage, "ring too small");
// Parts shorter than this are not worth a thread.
constexpr size_t kMinSamplesPerPart = 4096;

struct Slot {
  int32_t u = -1, i = -1;
  int32_t idx = -1;
  int32_t pos_b = 0, pos_e = 0;  // the user's positives: pos_idx[pos_b, pos_e)
  int32_t nj = 0;                // negatives drawn
  int32_t j[kMaxNegatives];
};

inline void prefetch_read(const void* p) { __builtin_prefetch(p, 0, 3); }

inline void prefetch_row(const float* p, size_t dim) {
  const char* c = reinterpret_cast<const char*>(p);
  for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(c + off, 1, 3);
}

// Membership in a sorted range without data-dependent branches (the compare feeds a conditional
// move): a branchy binary search mispredicts about half its steps on random negatives.
inline bool sorted_contains(const int32_t* base, size_t n, int32_t x) {
  if (n == 0) return false;
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half] <= x ? base + half : base;
    n -= half;
  }
  return *base == x;
}

// -ln σ(x) (the loss of a score that should be high) and σ(-x) (its ascent coefficient), both from
// one exp(-|x|), stable and precise for any x.
inline float neg_log_sigmoid(float x, float* sigma_neg_x) {
  const float e = std::exp(-std::fabs(x));
  *sigma_neg_x = x >= 0 ? e / (1.f + e) : 1.f / (1.f + e);
  return (x >= 0 ? 0.f : -x) + std::log1p(e);
}

class Part {
 public:
  Part(TrainParam& user, TrainParam& item, TrainParam& bias, const MfData& data, const int32_t* schedule,
       const MfConfig& cfg, Rng rng, size_t begin, size_t end)
      : user_(user), item_(item), bias_(bias), data_(data), schedule_(schedule), cfg_(cfg), rng_(rng),
        kern_(active_kernels()), n_items_(static_cast<uint32_t>(item.rows)), begin_(begin), end_(end),
        prefetch_negatives_(cfg.loss == MfLoss::Bpr ? 1
                            : cfg.loss == MfLoss::Bce ? std::clamp(cfg.negatives, 1, kMaxNegatives)
                            : cfg.loss == MfLoss::Warp ? 1
                                                       : 0) {}

  MfResult run(const std::atomic<int>* cancel) {
    MfResult r;
    Slot ring[kRing];
    // Time t runs stage k on sample t - k*kStage; the training step trails by kStages*kStage.
    const size_t lag = kStages * kStage;
    for (size_t t = begin_; t < end_ + lag; ++t) {
      if (t < end_) fetch_interaction(t, ring[(t - begin_) & (kRing - 1)]);
      if (t >= begin_ + kStage && t - kStage < end_) fetch_user(ring[(t - kStage - begin_) & (kRing - 1)]);
      if (t >= begin_ + 2 * kStage && t - 2 * kStage < end_) fetch_positives(ring[(t - 2 * kStage - begin_) & (kRing - 1)]);
      if (t >= begin_ + 3 * kStage && t - 3 * kStage < end_) {
        const size_t p = t - 3 * kStage;
        draw_negatives(p, ring[(p - begin_) & (kRing - 1)]);
      }
      if (t < begin_ + lag) continue;
      const size_t p = t - lag;
      if (((p - begin_) & 1023) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
        r.cancelled = true;
        break;
      }
      const Slot& s = ring[(p - begin_) & (kRing - 1)];
      if (s.u < 0) {
        ++r.invalid;
        continue;
      }
      float loss = 0.f;
      bool ok = true;
      switch (cfg_.loss) {
        case MfLoss::Bpr:
          if (s.nj == 0) continue;  // no negative could be drawn (the user likes every item tried)
          ok = bpr(s, &loss);
          break;
        case MfLoss::Bce:
          ok = bce(s, &loss);
          break;
        case MfLoss::Mse:
          ok = mse(s, &loss);
          break;
        case MfLoss::Warp:
          ok = warp(p, s, &loss);
          break;
      }
      if (!ok) {
        r.diverged = true;
        break;
      }
      r.loss += loss;
      ++r.samples;
    }
    return r;
  }

 private:
  float* urow(int32_t u) const { return user_.w + static_cast<size_t>(u) * user_.dim; }
  float* irow(int32_t i) const { return item_.w + static_cast<size_t>(i) * item_.dim; }
  // Adam state: m and v rows of a parameter, and the row's step count.
  static float* adam_m(const TrainParam& p, int32_t r) { return p.state + static_cast<size_t>(r) * p.dim; }
  static float* adam_v(const TrainParam& p, int32_t r) { return p.state + (p.rows + static_cast<size_t>(r)) * p.dim; }
  static float* adam_t(const TrainParam& p, int32_t r) { return p.state + 2 * p.rows * p.dim + r; }
  // A touched row's learning rate with its own bias correction (lazy Adam counts steps per row).
  float adam_lr(const TrainParam& p, int32_t r, float lr) const {
    if (lr == 0.f) return 0.f;
    const float t = ++*adam_t(p, r);
    return lr * std::sqrt(1.f - std::pow(cfg_.beta2, t)) / (1.f - std::pow(cfg_.beta1, t));
  }

  float* ustate(int32_t u) const {
    return cfg_.optimizer == OptimizerKind::RowwiseAdagrad ? user_.state + u : user_.state + static_cast<size_t>(u) * user_.dim;
  }
  float* istate(int32_t i) const {
    return cfg_.optimizer == OptimizerKind::RowwiseAdagrad ? item_.state + i : item_.state + static_cast<size_t>(i) * item_.dim;
  }
  float score(int32_t u, int32_t i) const {
    float x = kern_.dot(urow(u), irow(i), user_.dim);
    if (bias_.w) x += bias_.w[i];
    return x;
  }

  // Stage 1: the schedule entry; prefetch the interaction's user and item.
  void fetch_interaction(size_t p, Slot& s) {
    s.u = s.i = s.idx = -1;
    s.pos_b = s.pos_e = s.nj = 0;
    const int32_t idx = schedule_[p];
    if (idx < 0 || static_cast<size_t>(idx) >= data_.n) return;
    s.idx = idx;
    prefetch_read(data_.users + idx);
    prefetch_read(data_.items + idx);
    if (data_.values) prefetch_read(data_.values + idx);
  }

  // Stage 2: user and item (bounds-checked); prefetch the user's CSR offsets.
  void fetch_user(Slot& s) {
    if (s.idx < 0) return;
    const int32_t u = data_.users[s.idx], i = data_.items[s.idx];
    if (u < 0 || static_cast<size_t>(u) >= user_.rows || i < 0 || static_cast<size_t>(i) >= item_.rows) return;
    s.u = u;
    s.i = i;
    if (prefetch_negatives_ && data_.pos_idx && static_cast<size_t>(u) + 1 < data_.pos_off_len) prefetch_read(data_.pos_off + u);
  }

  // Stage 3: the user's positive range (bounds-checked); prefetch its first cache lines.
  void fetch_positives(Slot& s) {
    if (s.u < 0 || !prefetch_negatives_ || !data_.pos_idx || static_cast<size_t>(s.u) + 1 >= data_.pos_off_len) return;
    const int32_t b = data_.pos_off[s.u], e = data_.pos_off[s.u + 1];
    if (b < 0 || e < b || static_cast<size_t>(e) > data_.pos_idx_len) return;
    s.pos_b = b;
    s.pos_e = e;
    const char* first = reinterpret_cast<const char*>(data_.pos_idx + b);
    const char* last = reinterpret_cast<const char*>(data_.pos_idx + e);
    for (int line = 0; line < 4 && first + 64 * line < last; ++line) prefetch_read(first + 64 * line);
  }

  // One candidate negative from the configured sampler (-1 when the sampler had nothing valid).
  int32_t sample(size_t p) {
    switch (cfg_.sampler.kind) {
      case SamplerKind::Alias: {
        const uint32_t k = rng_.below(static_cast<uint32_t>(cfg_.sampler.n));
        const int32_t j = rng_.uniform() < cfg_.sampler.prob[k] ? static_cast<int32_t>(k) : cfg_.sampler.alias[k];
        return j >= 0 && static_cast<size_t>(j) < item_.rows ? j : -1;
      }
      case SamplerKind::InBatch: {
        // The item of an interaction near p in this part of the schedule: sampling in proportion
        // to popularity, as in-batch negatives do, without a table.
        const size_t w = std::min(cfg_.sampler.window, end_ - begin_);
        const size_t lo = p - begin_ >= w / 2 ? p - w / 2 : begin_;
        const size_t at = std::min(end_ - 1, lo + rng_.below(static_cast<uint32_t>(std::max<size_t>(w, 1))));
        const int32_t idx = schedule_[at];
        if (idx < 0 || static_cast<size_t>(idx) >= data_.n) return -1;
        const int32_t j = data_.items[idx];
        return j >= 0 && static_cast<size_t>(j) < item_.rows ? j : -1;
      }
      default:
        return static_cast<int32_t>(rng_.below(n_items_));
    }
  }

  bool is_excluded(const Slot& s, int32_t j) const {
    return j < 0 || j == s.i || sorted_contains(data_.pos_idx + s.pos_b, static_cast<size_t>(s.pos_e - s.pos_b), j);
  }

  // A negative that is neither the positive nor (optionally) a known positive, or -1.
  int32_t negative(size_t p, const Slot& s) {
    for (int tries = 0; tries <= cfg_.max_rejections; ++tries) {
      const int32_t j = sample(p);
      if (!is_excluded(s, j)) return j;
    }
    return -1;
  }

  // Stage 4: draw the negatives the loss needs up front and prefetch every row (and optimizer
  // state) the training step will touch.
  void draw_negatives(size_t p, Slot& s) {
    if (s.u < 0) return;
    for (int n = 0; n < prefetch_negatives_; ++n) {
      const int32_t j = negative(p, s);
      if (j >= 0) s.j[s.nj++] = j;
    }
    const size_t d = user_.dim;
    prefetch_row(urow(s.u), d);
    prefetch_row(irow(s.i), d);
    for (int n = 0; n < s.nj; ++n) prefetch_row(irow(s.j[n]), d);
    if (cfg_.optimizer == OptimizerKind::Adagrad) {
      prefetch_row(ustate(s.u), d);
      prefetch_row(istate(s.i), d);
      for (int n = 0; n < s.nj; ++n) prefetch_row(istate(s.j[n]), d);
    } else if (cfg_.optimizer == OptimizerKind::RowwiseAdagrad) {
      prefetch_read(ustate(s.u));
      prefetch_read(istate(s.i));
    } else if (cfg_.optimizer == OptimizerKind::Adam) {
      prefetch_row(adam_m(user_, s.u), d);
      prefetch_row(adam_v(user_, s.u), d);
      prefetch_row(adam_m(item_, s.i), d);
      prefetch_row(adam_v(item_, s.i), d);
      for (int n = 0; n < s.nj; ++n) {
        prefetch_row(adam_m(item_, s.j[n]), d);
        prefetch_row(adam_v(item_, s.j[n]), d);
      }
    }
    if (bias_.w) prefetch_read(bias_.w + s.i);
  }

  // Pairwise step on (u, i, j) with ascent coefficient g on x_ui - x_uj.
  void triple(int32_t u, int32_t i, int32_t j, float g) {
    const size_t d = user_.dim;
    const float lu = row_lr(user_, u, cfg_.lr), li = row_lr(item_, i, cfg_.lr), lj = row_lr(item_, j, cfg_.lr);
    switch (cfg_.optimizer) {
      case OptimizerKind::Sgd:
        kern_.sgd_triple(urow(u), irow(i), irow(j), d, g, lu, li, lj, cfg_.l2);
        break;
      case OptimizerKind::Adagrad:
        kern_.adagrad_triple(urow(u), irow(i), irow(j), ustate(u), istate(i), istate(j), d, g, lu, li, lj, cfg_.l2, cfg_.eps);
        break;
      case OptimizerKind::RowwiseAdagrad:
        kern_.rowwise_adagrad_triple(urow(u), irow(i), irow(j), ustate(u), istate(i), istate(j), d, g, lu, li, lj, cfg_.l2,
                                     cfg_.eps);
        break;
      case OptimizerKind::Adam: {
        float* const mv[6] = {adam_m(user_, u), adam_v(user_, u), adam_m(item_, i), adam_v(item_, i), adam_m(item_, j), adam_v(item_, j)};
        kern_.adam_triple(urow(u), irow(i), irow(j), mv, d, g, adam_lr(user_, u, lu), adam_lr(item_, i, li), adam_lr(item_, j, lj),
                          cfg_.l2, cfg_.beta1, cfg_.beta2, cfg_.eps, scratch_.data());
        break;
      }
    }
    bias_step(i, g);
    bias_step(j, -g);
  }

  // Pointwise step on (u, i) with ascent coefficient g on x_ui.
  void pair(int32_t u, int32_t i, float g) {
    const size_t d = user_.dim;
    const float lu = row_lr(user_, u, cfg_.lr), li = row_lr(item_, i, cfg_.lr);
    switch (cfg_.optimizer) {
      case OptimizerKind::Sgd:
        kern_.sgd_pair(urow(u), irow(i), d, g, lu, li, cfg_.l2);
        break;
      case OptimizerKind::Adagrad:
        kern_.adagrad_pair(urow(u), irow(i), ustate(u), istate(i), d, g, lu, li, cfg_.l2, cfg_.eps);
        break;
      case OptimizerKind::RowwiseAdagrad:
        kern_.rowwise_adagrad_pair(urow(u), irow(i), ustate(u), istate(i), d, g, lu, li, cfg_.l2, cfg_.eps);
        break;
      case OptimizerKind::Adam: {
        float* const mv[4] = {adam_m(user_, u), adam_v(user_, u), adam_m(item_, i), adam_v(item_, i)};
        kern_.adam_pair(urow(u), irow(i), mv, d, g, adam_lr(user_, u, lu), adam_lr(item_, i, li), cfg_.l2, cfg_.beta1,
                        cfg_.beta2, cfg_.eps, scratch_.data());
        break;
      }
    }
    bias_step(i, g);
  }

  // An item bias is a one-element row: per-element and row-wise Adagrad coincide.
  void bias_step(int32_t i, float g) {
    if (!bias_.w) return;
    const float lr = row_lr(bias_, i, cfg_.lr);
    if (lr == 0.f) return;
    float* b = bias_.w;
    const float step = g - cfg_.l2 * b[i];
    switch (cfg_.optimizer) {
      case OptimizerKind::Sgd:
        b[i] += lr * step;
        break;
      case OptimizerKind::Adam: {
        const float rate = adam_lr(bias_, i, lr);
        float& m = *adam_m(bias_, i);
        float& v = *adam_v(bias_, i);
        m = cfg_.beta1 * m + (1.f - cfg_.beta1) * step;
        v = cfg_.beta2 * v + (1.f - cfg_.beta2) * step * step;
        b[i] += rate * m / (std::sqrt(v) + cfg_.eps);
        break;
      }
      default:
        b[i] += lr * step / (std::sqrt(bias_.state[i] += step * step) + cfg_.eps);
    }
  }

  bool bpr(const Slot& s, float* loss) {
    float x = kern_.dot_diff(urow(s.u), irow(s.i), irow(s.j[0]), user_.dim);
    if (bias_.w) x += bias_.w[s.i] - bias_.w[s.j[0]];
    if (!std::isfinite(x)) return false;
    float g;
    *loss = neg_log_sigmoid(x, &g);
    triple(s.u, s.i, s.j[0], g);
    return true;
  }

  bool bce(const Slot& s, float* loss) {
    const float xi = score(s.u, s.i);
    if (!std::isfinite(xi)) return false;
    float g;
    *loss = neg_log_sigmoid(xi, &g);
    pair(s.u, s.i, g);
    for (int n = 0; n < s.nj; ++n) {
      const float xj = score(s.u, s.j[n]);
      if (!std::isfinite(xj)) return false;
      float sig_xj;
      *loss += neg_log_sigmoid(-xj, &sig_xj);  // -ln σ(-xj), and σ(xj)
      pair(s.u, s.j[n], -sig_xj);              // the negative's score should fall
    }
    return true;
  }

  bool mse(const Slot& s, float* loss) {
    const float x = score(s.u, s.i);
    const float r = data_.values[s.idx];
    if (!std::isfinite(x) || !std::isfinite(r)) return false;
    const float err = r - x;
    *loss = 0.5f * err * err;
    pair(s.u, s.i, err);
    return true;
  }

  // LightFM-style WARP: find the first sampled negative that violates the margin; its trial count
  // estimates the positive's rank, and ln(rank) weights a hinge step.
  bool warp(size_t p, const Slot& s, float* loss) {
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
        *loss = weight * (cfg_.margin - xi + xj);
        triple(s.u, s.i, j, weight);
        return true;
      }
    }
    return true;  // the positive already beats every sampled item by the margin
  }

  TrainParam& user_;
  TrainParam& item_;
  TrainParam& bias_;
  const MfData& data_;
  const int32_t* schedule_;
  const MfConfig& cfg_;
  Rng rng_;
  const KernelTable& kern_;
  uint32_t n_items_;
  size_t begin_, end_;
  int prefetch_negatives_;
  std::vector<float> scratch_ = std::vector<float>(3 * user_.dim);  // Adam's ascent directions
};

}  // namespace

void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch) {
  for (size_t i = 0; i < n; ++i) schedule[i] = static_cast<int32_t>(i);
  Rng rng(seed, epoch, 0x5348554646ull);  // "SHUFF": a stream of its own
  for (size_t i = n; i > 1; --i) {
    const size_t j = rng.below(static_cast<uint32_t>(i));
    std::swap(schedule[i - 1], schedule[j]);
  }
}

MfResult mf_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const MfData& data,
                  const int32_t* schedule, size_t begin, size_t end, const MfConfig& cfg,
                  const std::atomic<int>* cancel) {
  MfResult total;
  if (end <= begin || item.rows == 0) return total;
  if (cfg.loss == MfLoss::Mse && !data.values) return total;
  if (cfg.sampler.kind == SamplerKind::Alias && (!cfg.sampler.prob || !cfg.sampler.alias || cfg.sampler.n == 0)) return total;
  const size_t n = end - begin;
  const size_t parts = std::max<size_t>(1, std::min(cfg.threads, n / kMinSamplesPerPart));
  const size_t per = (n + parts - 1) / parts;
  std::vector<MfResult> results(parts);
  parallel_for(parts, parts, [&](size_t p) {
    const size_t b = begin + p * per, e = std::min(end, b + per);
    if (b >= e) return;
    Part part(user, item, item_bias, data, schedule, cfg, Rng(cfg.seed, cfg.epoch, cfg.chunk, p), b, e);
    results[p] = part.run(cancel);
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

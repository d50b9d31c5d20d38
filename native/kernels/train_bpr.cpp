#include "train_bpr.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "kernel_table.h"
#include "rng.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Random rows live in DRAM, and finding them is itself a chain of dependent random reads (the
// schedule entry, then users[idx] / items[idx], then the user's positive list for rejection, then
// the three embedding rows). Each sample therefore moves through a software pipeline whose stages
// run kStage samples apart, each stage prefetching what the next one reads, so the trained sample's
// rows are already in cache. (Training only at the end of the chain was ~7x slower at scale.)
constexpr size_t kStage = 16;
constexpr size_t kStages = 4;                 // before the training step
constexpr size_t kRing = 128;                 // power of two > kStages * kStage
static_assert(kRing > kStages * kStage, "ring too small");
// Parts shorter than this are not worth a thread.
constexpr size_t kMinSamplesPerPart = 4096;

struct Slot {
  int32_t u = -1, i = -1, j = -1;
  int32_t idx = -1;
  int32_t pos_b = 0, pos_e = 0;  // the user's positives: pos_idx[pos_b, pos_e)
};

struct Triple {
  int32_t u, i, j;
};

inline void prefetch_read(const void* p) { __builtin_prefetch(p, 0, 3); }

inline void prefetch_row(const float* p, size_t dim) {
  const char* c = reinterpret_cast<const char*>(p);
  for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(c + off, 1, 3);
}

// σ(-x) (the step coefficient) and -ln σ(x) (the loss) from a single exp(-|x|), stable for any x.
inline void bpr_coefficients(float x, float* g, float* loss) {
  const float e = std::exp(-std::fabs(x));
  *g = x >= 0 ? e / (1.f + e) : 1.f / (1.f + e);
  *loss = (x >= 0 ? 0.f : -x) + std::log1p(e);
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

inline float row_lr(const TrainParam& p, int32_t row, float lr) {
  if (p.lr_mult == 0.f || (p.frozen_rows && p.frozen_rows[row])) return 0.f;
  return lr * p.lr_mult;
}

class Part {
 public:
  Part(TrainParam& user, TrainParam& item, TrainParam& bias, const BprData& data, const int32_t* schedule,
       const BprConfig& cfg, Rng rng)
      : user_(user), item_(item), bias_(bias), data_(data), schedule_(schedule), cfg_(cfg), rng_(rng),
        kern_(active_kernels()), n_items_(static_cast<uint32_t>(item.rows)) {}

  BprResult run(size_t begin, size_t end, const std::atomic<int>* cancel) {
    BprResult r;
    Slot ring[kRing];
    // Time t runs stage k on sample t - k*kStage; the training step trails by kStages*kStage.
    const size_t lag = kStages * kStage;
    for (size_t t = begin; t < end + lag; ++t) {
      if (t < end) fetch_interaction(t, ring[(t - begin) & (kRing - 1)]);
      if (t >= begin + kStage && t - kStage < end) fetch_user(ring[(t - kStage - begin) & (kRing - 1)]);
      if (t >= begin + 2 * kStage && t - 2 * kStage < end) fetch_positives(ring[(t - 2 * kStage - begin) & (kRing - 1)]);
      if (t >= begin + 3 * kStage && t - 3 * kStage < end) sample_negative(ring[(t - 3 * kStage - begin) & (kRing - 1)]);
      if (t < begin + lag) continue;
      const size_t p = t - lag;
      if (((p - begin) & 1023) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
        r.cancelled = true;
        break;
      }
      const Slot& s = ring[(p - begin) & (kRing - 1)];
      if (s.u < 0) {
        ++r.invalid;
        continue;
      }
      if (s.j < 0) continue;  // no negative could be drawn (the user likes every item tried)
      float loss = 0.f;
      if (!step(Triple{s.u, s.i, s.j}, &loss)) {
        r.diverged = true;
        break;
      }
      r.loss += loss;
      ++r.samples;
    }
    return r;
  }

 private:
  // Stage 1: the schedule entry; prefetch the interaction's user and item.
  void fetch_interaction(size_t p, Slot& s) {
    s = Slot{};
    const int32_t idx = schedule_[p];
    if (idx < 0 || static_cast<size_t>(idx) >= data_.n) return;
    s.idx = idx;
    prefetch_read(data_.users + idx);
    prefetch_read(data_.items + idx);
  }

  // Stage 2: user and item (bounds-checked); prefetch the user's CSR offsets.
  void fetch_user(Slot& s) {
    if (s.idx < 0) return;
    const int32_t u = data_.users[s.idx], i = data_.items[s.idx];
    if (u < 0 || static_cast<size_t>(u) >= user_.rows || i < 0 || static_cast<size_t>(i) >= item_.rows) return;
    s.u = u;
    s.i = i;
    if (data_.pos_idx && static_cast<size_t>(u) + 1 < data_.pos_off_len) prefetch_read(data_.pos_off + u);
  }

  // Stage 3: the user's positive range (bounds-checked); prefetch its first cache lines.
  void fetch_positives(Slot& s) {
    if (s.u < 0 || !data_.pos_idx || static_cast<size_t>(s.u) + 1 >= data_.pos_off_len) return;
    const int32_t b = data_.pos_off[s.u], e = data_.pos_off[s.u + 1];
    if (b < 0 || e < b || static_cast<size_t>(e) > data_.pos_idx_len) return;
    s.pos_b = b;
    s.pos_e = e;
    const char* first = reinterpret_cast<const char*>(data_.pos_idx + b);
    const char* last = reinterpret_cast<const char*>(data_.pos_idx + e);
    for (int line = 0; line < 4 && first + 64 * line < last; ++line) prefetch_read(first + 64 * line);
  }

  // Stage 4: a negative that is neither the positive nor (optionally) a known positive; prefetch
  // the three rows (and their optimizer state) the training step will touch.
  void sample_negative(Slot& s) {
    if (s.u < 0) return;
    for (int tries = 0; tries <= cfg_.max_rejections; ++tries) {
      const int32_t j = static_cast<int32_t>(rng_.below(n_items_));
      if (j == s.i || sorted_contains(data_.pos_idx + s.pos_b, static_cast<size_t>(s.pos_e - s.pos_b), j)) continue;
      s.j = j;
      break;
    }
    if (s.j < 0) return;
    const size_t d = user_.dim;
    prefetch_row(user_.w + static_cast<size_t>(s.u) * d, d);
    prefetch_row(item_.w + static_cast<size_t>(s.i) * d, d);
    prefetch_row(item_.w + static_cast<size_t>(s.j) * d, d);
    if (cfg_.optimizer == OptimizerKind::Adagrad) {
      prefetch_row(user_.state + static_cast<size_t>(s.u) * d, d);
      prefetch_row(item_.state + static_cast<size_t>(s.i) * d, d);
      prefetch_row(item_.state + static_cast<size_t>(s.j) * d, d);
    } else if (cfg_.optimizer == OptimizerKind::RowwiseAdagrad) {
      prefetch_read(user_.state + s.u);
      prefetch_read(item_.state + s.i);
      prefetch_read(item_.state + s.j);
    }
    if (bias_.w) {
      prefetch_read(bias_.w + s.i);
      prefetch_read(bias_.w + s.j);
    }
  }

  // One BPR step; false when the score is not finite (divergence: nothing is written).
  bool step(const Triple& t, float* loss) {
    const size_t d = user_.dim;
    float* u = user_.w + static_cast<size_t>(t.u) * d;
    float* vi = item_.w + static_cast<size_t>(t.i) * d;
    float* vj = item_.w + static_cast<size_t>(t.j) * d;
    float x = kern_.dot_diff(u, vi, vj, d);
    if (bias_.w) x += bias_.w[t.i] - bias_.w[t.j];
    if (!std::isfinite(x)) return false;
    float g;
    bpr_coefficients(x, &g, loss);
    const float lu = row_lr(user_, t.u, cfg_.lr), li = row_lr(item_, t.i, cfg_.lr), lj = row_lr(item_, t.j, cfg_.lr);
    switch (cfg_.optimizer) {
      case OptimizerKind::Sgd:
        kern_.sgd_triple(u, vi, vj, d, g, lu, li, lj, cfg_.l2);
        break;
      case OptimizerKind::Adagrad:
        kern_.adagrad_triple(u, vi, vj, user_.state + static_cast<size_t>(t.u) * d, item_.state + static_cast<size_t>(t.i) * d,
                             item_.state + static_cast<size_t>(t.j) * d, d, g, lu, li, lj, cfg_.l2, cfg_.eps);
        break;
      case OptimizerKind::RowwiseAdagrad:
        kern_.rowwise_adagrad_triple(u, vi, vj, user_.state + t.u, item_.state + t.i, item_.state + t.j, d, g, lu, li, lj,
                                     cfg_.l2, cfg_.eps);
        break;
    }
    if (bias_.w) update_bias(t, g);
    return true;
  }

  void update_bias(const Triple& t, float g) {
    const float li = row_lr(bias_, t.i, cfg_.lr), lj = row_lr(bias_, t.j, cfg_.lr);
    float* b = bias_.w;
    const float si = g - cfg_.l2 * b[t.i], sj = -g - cfg_.l2 * b[t.j];
    if (cfg_.optimizer == OptimizerKind::Sgd) {
      if (li != 0.f) b[t.i] += li * si;
      if (lj != 0.f) b[t.j] += lj * sj;
      return;
    }
    // Both Adagrad flavours: a bias is a one-element row, so per-element and row-wise coincide.
    float* a = bias_.state;
    if (li != 0.f) b[t.i] += li * si / (std::sqrt(a[t.i] += si * si) + cfg_.eps);
    if (lj != 0.f) b[t.j] += lj * sj / (std::sqrt(a[t.j] += sj * sj) + cfg_.eps);
  }

  TrainParam& user_;
  TrainParam& item_;
  TrainParam& bias_;
  const BprData& data_;
  const int32_t* schedule_;
  const BprConfig& cfg_;
  Rng rng_;
  const KernelTable& kern_;
  uint32_t n_items_;
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

BprResult bpr_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const BprData& data,
                    const int32_t* schedule, size_t begin, size_t end, const BprConfig& cfg,
                    const std::atomic<int>* cancel) {
  BprResult total;
  if (end <= begin || item.rows == 0) return total;
  const size_t n = end - begin;
  const size_t parts = std::max<size_t>(1, std::min(cfg.threads, n / kMinSamplesPerPart));
  const size_t per = (n + parts - 1) / parts;
  std::vector<BprResult> results(parts);
  parallel_for(parts, parts, [&](size_t p) {
    const size_t b = begin + p * per, e = std::min(end, b + per);
    if (b >= e) return;
    Part part(user, item, item_bias, data, schedule, cfg, Rng(cfg.seed, cfg.epoch, cfg.chunk, p));
    results[p] = part.run(b, e, cancel);
  });
  for (const BprResult& r : results) {
    total.loss += r.loss;
    total.samples += r.samples;
    total.invalid += r.invalid;
    total.diverged |= r.diverged;
    total.cancelled |= r.cancelled;
  }
  return total;
}

}  // namespace rb

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

// Samples drawn ahead of the one being trained, so their rows can be prefetched: random rows come
// from DRAM and the lookahead hides that latency (the single biggest factor for BPR throughput).
constexpr size_t kLookahead = 8;
// Parts shorter than this are not worth a thread.
constexpr size_t kMinSamplesPerPart = 4096;

struct Triple {
  int32_t u, i, j;
};

inline void prefetch_row(const float* p, size_t dim) {
  const char* c = reinterpret_cast<const char*>(p);
  for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(c + off, 1, 3);
}

inline bool is_positive(const BprData& data, int32_t u, int32_t item) {
  if (!data.pos_idx || static_cast<size_t>(u) + 1 >= data.pos_off_len) return false;
  const int32_t b = data.pos_off[u], e = data.pos_off[u + 1];
  if (b < 0 || e < b || static_cast<size_t>(e) > data.pos_idx_len) return false;
  return std::binary_search(data.pos_idx + b, data.pos_idx + e, item);
}

inline float softplus(float x) {  // ln(1 + e^x), stable for large |x|
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
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
    Triple ring[kLookahead];
    const size_t ahead = std::min(kLookahead, end - begin);
    for (size_t t = 0; t < ahead; ++t) ring[t] = draw(begin + t);
    for (size_t p = begin; p < end; ++p) {
      if (((p - begin) & 1023) == 0 && cancel && cancel->load(std::memory_order_relaxed)) {
        r.cancelled = true;
        break;
      }
      const Triple t = ring[(p - begin) % kLookahead];
      if (p + kLookahead < end) ring[(p - begin) % kLookahead] = draw(p + kLookahead);
      if (t.u < 0) {
        ++r.invalid;
        continue;
      }
      if (t.j < 0) continue;  // no negative could be drawn (the user likes every item)
      const float x = step(t);
      if (!std::isfinite(x)) {
        r.diverged = true;
        break;
      }
      r.loss += softplus(-x);
      ++r.samples;
    }
    return r;
  }

 private:
  Triple draw(size_t p) {
    const int32_t idx = schedule_[p];
    Triple t{-1, -1, -1};
    if (idx < 0 || static_cast<size_t>(idx) >= data_.n) return t;
    const int32_t u = data_.users[idx], i = data_.items[idx];
    if (u < 0 || static_cast<size_t>(u) >= user_.rows || i < 0 || static_cast<size_t>(i) >= item_.rows) return t;
    t.u = u;
    t.i = i;
    for (int tries = 0; tries <= cfg_.max_rejections; ++tries) {
      const int32_t j = static_cast<int32_t>(rng_.below(n_items_));
      if (j == t.i || is_positive(data_, t.u, j)) continue;
      t.j = j;
      break;
    }
    if (t.j >= 0) {
      prefetch_row(user_.w + static_cast<size_t>(t.u) * user_.dim, user_.dim);
      prefetch_row(item_.w + static_cast<size_t>(t.i) * item_.dim, item_.dim);
      prefetch_row(item_.w + static_cast<size_t>(t.j) * item_.dim, item_.dim);
      if (cfg_.optimizer == OptimizerKind::Adagrad) {
        prefetch_row(user_.state + static_cast<size_t>(t.u) * user_.dim, user_.dim);
        prefetch_row(item_.state + static_cast<size_t>(t.i) * item_.dim, item_.dim);
        prefetch_row(item_.state + static_cast<size_t>(t.j) * item_.dim, item_.dim);
      }
    }
    return t;
  }

  float step(const Triple& t) {
    const size_t d = user_.dim;
    float* u = user_.w + static_cast<size_t>(t.u) * d;
    float* vi = item_.w + static_cast<size_t>(t.i) * d;
    float* vj = item_.w + static_cast<size_t>(t.j) * d;
    float x = kern_.dot_diff(u, vi, vj, d);
    if (bias_.w) x += bias_.w[t.i] - bias_.w[t.j];
    if (!std::isfinite(x)) return x;
    const float g = 1.f / (1.f + std::exp(x));  // σ(-x)
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
    return x;
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

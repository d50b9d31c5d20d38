#include "scoring.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "kernel_table.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Rows scored per step before the candidate filter runs (scores stay in L1).
constexpr size_t kChunk = 256;
// Item rows per block in the batched path: a 128 x 32 float tile is 16 KiB.
constexpr size_t kItemBlock = 128;
// Below this many multiply-adds a single query is not split across threads: waking a helper costs
// more than it saves.
constexpr size_t kMinParallelWork = size_t{1} << 18;
constexpr size_t kMinRowsPerPart = 4096;

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;

AlignedFloats aligned_floats(size_t n) {
  if (n > (SIZE_MAX - 64) / sizeof(float)) throw std::bad_alloc();
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes ? bytes : 64));
  if (!p) throw std::bad_alloc();
  return AlignedFloats(p);
}

size_t split_parts(size_t rows, size_t dim, size_t threads) {
  if (threads <= 1 || rows * dim < kMinParallelWork) return 1;
  return std::max<size_t>(1, std::min(threads, rows / kMinRowsPerPart));
}

// Scans candidate positions [begin, end) of the domain (all rows, or allow[]) into heap.
void scan_range(const KernelTable& kern, const ItemTable& t, const float* q, const int32_t* allow, size_t begin,
                size_t end, const Exclusions& ex, TopKHeap& heap) {
  float scores[kChunk];
  uint32_t cand[kChunk];
  for (size_t c = begin; c < end; c += kChunk) {
    const size_t len = std::min(kChunk, end - c);
    if (allow)
      kern.score_indexed(q, t.data, t.dim, allow + c, len, scores);
    else
      kern.score_rows(q, t.data + c * t.dim, len, t.dim, scores);
    const size_t nc = kern.candidates(scores, len, heap.threshold(), cand);
    for (size_t j = 0; j < nc; ++j) {
      const size_t pos = cand[j];
      const int32_t item = allow ? allow[c + pos] : static_cast<int32_t>(c + pos);
      if (ex.excludes(item)) continue;
      heap.offer(scores[pos], item);
    }
  }
}

}  // namespace

void score_items(const ItemTable& t, const float* q, const int32_t* subset, size_t m, float* out, size_t threads) {
  const KernelTable& kern = active_kernels();
  const size_t n = subset ? m : t.rows;
  const size_t parts = split_parts(n, t.dim, threads);
  const size_t per = (n + parts - 1) / parts;
  parallel_for(parts, parts, [&](size_t p) {
    const size_t b = p * per, e = std::min(n, b + per);
    if (b >= e) return;
    if (subset)
      kern.score_indexed(q, t.data, t.dim, subset + b, e - b, out + b);
    else
      kern.score_rows(q, t.data + b * t.dim, e - b, t.dim, out + b);
  });
}

size_t topk_one(const ItemTable& t, const float* q, const TopKOptions& opt, const int32_t* exclude, size_t exclude_len,
                int32_t* out_idx, float* out_scores) {
  const KernelTable& kern = active_kernels();
  const size_t n = opt.has_allow ? opt.allow_len : t.rows;
  if (opt.k == 0 || n == 0) return 0;
  const size_t k = std::min(opt.k, n);
  const Exclusions ex{exclude, exclude_len, opt.block, opt.block_len};
  const size_t parts = split_parts(n, t.dim, opt.threads);
  if (parts == 1) {
    TopKHeap heap(k);
    scan_range(kern, t, q, opt.has_allow ? opt.allow : nullptr, 0, n, ex, heap);
    return heap.drain_sorted(out_idx, out_scores);
  }
  // Each part keeps its own exact top-k; the merge re-offers them, and the (score, index) order
  // makes the result identical to a single-threaded scan.
  std::vector<TopKHeap> heaps(parts);
  const size_t per = (n + parts - 1) / parts;
  parallel_for(parts, parts, [&](size_t p) {
    heaps[p].reset(k);
    const size_t b = p * per, e = std::min(n, b + per);
    if (b < e) scan_range(kern, t, q, opt.has_allow ? opt.allow : nullptr, b, e, ex, heaps[p]);
  });
  TopKHeap merged(k);
  for (const TopKHeap& h : heaps)
    for (const Scored& s : h) merged.offer(s.score, s.index);
  return merged.drain_sorted(out_idx, out_scores);
}

bool topk_batch(const ItemTable& t, const float* queries, size_t nq, const TopKOptions& opt, const int32_t* excl_off,
                const int32_t* excl_idx, const std::atomic<int>* cancel, int32_t* out_idx, float* out_scores,
                int32_t* out_counts) {
  const KernelTable& kern = active_kernels();
  const size_t k = opt.k, dim = t.dim, qb = kern.query_block;
  std::fill(out_idx, out_idx + nq * k, -1);
  std::fill(out_scores, out_scores + nq * k, std::numeric_limits<float>::quiet_NaN());
  std::fill(out_counts, out_counts + nq, 0);
  if (nq == 0 || k == 0) return true;

  // An allow-list is gathered into a contiguous copy once so the blocked kernel can stream it.
  const float* items = t.data;
  size_t n = t.rows;
  AlignedFloats allowed;
  if (opt.has_allow) {
    n = opt.allow_len;
    allowed = aligned_floats(n * dim);
    for (size_t j = 0; j < n; ++j)
      std::copy_n(t.data + static_cast<size_t>(opt.allow[j]) * dim, dim, allowed.get() + j * dim);
    items = allowed.get();
  }
  if (n == 0) return true;
  const size_t kk = std::min(k, n);

  const size_t groups = (nq + qb - 1) / qb;
  std::atomic<bool> cancelled{false};
  parallel_for(groups, std::max<size_t>(opt.threads, 1), [&](size_t g) {
    const size_t q0 = g * qb, cnt = std::min(qb, nq - q0);
    AlignedFloats qpack = aligned_floats(dim * qb);
    AlignedFloats tile = aligned_floats(kItemBlock * qb);
    std::vector<uint32_t> cand(kItemBlock * qb);
    std::vector<TopKHeap> heaps(cnt);
    std::vector<Exclusions> ex(cnt);
    alignas(64) float thr[64];
    for (size_t c = 0; c < cnt; ++c) {
      heaps[c].reset(kk);
      ex[c].global = opt.block;
      ex[c].global_len = opt.block_len;
      if (excl_off) {
        ex[c].query = excl_idx + excl_off[q0 + c];
        ex[c].query_len = static_cast<size_t>(excl_off[q0 + c + 1] - excl_off[q0 + c]);
      }
    }
    for (size_t kx = 0; kx < dim; ++kx)
      for (size_t c = 0; c < qb; ++c) qpack[kx * qb + c] = c < cnt ? queries[(q0 + c) * dim + kx] : 0.f;

    for (size_t ib = 0; ib < n; ib += kItemBlock) {
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        cancelled.store(true, std::memory_order_relaxed);
        return;
      }
      const size_t len = std::min(kItemBlock, n - ib);
      kern.score_tile(qpack.get(), items + ib * dim, len, dim, tile.get());
      for (size_t c = 0; c < qb; ++c) thr[c] = c < cnt ? heaps[c].threshold() : std::numeric_limits<float>::infinity();
      const size_t nc = kern.tile_candidates(tile.get(), len, thr, cand.data());
      for (size_t j = 0; j < nc; ++j) {
        const size_t pos = cand[j], c = pos % qb;
        if (c >= cnt) continue;
        const size_t row = ib + pos / qb;
        const int32_t item = opt.has_allow ? opt.allow[row] : static_cast<int32_t>(row);
        if (ex[c].excludes(item)) continue;
        heaps[c].offer(tile[pos], item);
      }
    }
    for (size_t c = 0; c < cnt; ++c)
      out_counts[q0 + c] =
          static_cast<int32_t>(heaps[c].drain_sorted(out_idx + (q0 + c) * k, out_scores + (q0 + c) * k));
  });
  return !cancelled.load() && !(cancel && cancel->load(std::memory_order_relaxed));
}

}  // namespace rb

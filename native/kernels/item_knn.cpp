#include "item_knn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "thread_pool.h"
#include "topk_heap.h"

namespace rb {
namespace {

// Rows per task: enough to amortise the task hand-off, few enough that the two cores stay balanced
// when popular items (long user lists) cluster in index order.
constexpr size_t kBuildBlock = 64;
constexpr size_t kQueryBlock = 16;

// Per-entry weights in user-CSR order. idf follows the usual text-retrieval reading of an item x user
// matrix (items are documents, users are terms): a user who touched many items says little about
// any two of them.
std::vector<float> entry_weights(const KnnMatrix& m, const KnnBuildOptions& opt) {
  const size_t nnz = m.users ? static_cast<size_t>(m.offsets[m.users]) : 0;
  std::vector<float> w(nnz);
  const double log_n = std::log(static_cast<double>(std::max<size_t>(m.items, 1)));
  std::vector<double> length;
  double avg_length = 1;
  if (opt.weighting == KnnWeighting::Bm25) {
    length.assign(m.items, 0.0);
    double total = 0;
    for (size_t e = 0; e < nnz; ++e) {
      const double x = m.values ? m.values[e] : 1.0;
      length[static_cast<size_t>(m.indices[e])] += x;
      total += x;
    }
    avg_length = m.items ? total / static_cast<double>(m.items) : 1.0;
    if (!(avg_length > 0)) avg_length = 1;
  }
  for (size_t u = 0; u < m.users; ++u) {
    const size_t b = static_cast<size_t>(m.offsets[u]), e = static_cast<size_t>(m.offsets[u + 1]);
    const double idf = log_n - std::log1p(static_cast<double>(e - b));
    for (size_t p = b; p < e; ++p) {
      const double x = m.values ? m.values[p] : 1.0;
      switch (opt.weighting) {
        case KnnWeighting::Cosine:
          w[p] = static_cast<float>(x);
          break;
        case KnnWeighting::TfIdf:
          w[p] = static_cast<float>(std::sqrt(x) * idf);
          break;
        case KnnWeighting::Bm25: {
          const double norm = (1.0 - opt.b) + opt.b * length[static_cast<size_t>(m.indices[p])] / avg_length;
          w[p] = static_cast<float>(x * (opt.k1 + 1.0) / (opt.k1 * norm + x) * idf);
          break;
        }
      }
    }
  }
  return w;
}

// Accumulator and co-user count of one candidate side by side: the update touches one cache line,
// not two.
struct Cell {
  float acc;
  uint32_t count;
};

struct Entry {
  int32_t item;
  float w;
};

struct BuildScratch {
  std::vector<Cell> cells;
  std::vector<int32_t> touched;  // candidates touched by the current row (capacity: all of them)
  std::vector<Scored> kept;
  TopKHeap heap;
};

}  // namespace

bool knn_build(const KnnMatrix& m, const KnnBuildOptions& opt, const std::atomic<int>* cancel, KnnGraph* out) {
  const size_t qb = opt.query_begin, qe = opt.query_end, cb = opt.cand_begin, ce = opt.cand_end;
  const size_t nq = qe - qb, nc = ce - cb;
  const bool whole_candidates = cb == 0 && ce == m.items;
  const std::vector<float> w = entry_weights(m, opt);
  // Item and weight side by side: each user list visited costs one cache miss, not two.
  std::vector<Entry> entries(w.size());
  for (size_t p = 0; p < w.size(); ++p) entries[p] = Entry{m.indices[p], w[p]};

  // Item -> (user, weight) for the query rows, users ascending within an item (the fill walks users
  // in order), which fixes the summation order of every similarity.
  std::vector<int32_t> item_off(nq + 1, 0);
  for (size_t u = 0; u < m.users; ++u)
    for (int32_t p = m.offsets[u]; p < m.offsets[u + 1]; ++p) {
      const size_t i = static_cast<size_t>(m.indices[p]);
      if (i >= qb && i < qe) ++item_off[i - qb + 1];
    }
  for (size_t i = 0; i < nq; ++i) item_off[i + 1] += item_off[i];
  std::vector<int32_t> item_user(static_cast<size_t>(item_off[nq]));
  std::vector<float> item_w(item_user.size());
  {
    std::vector<int32_t> fill(item_off.begin(), item_off.end() - 1);
    for (size_t u = 0; u < m.users; ++u)
      for (int32_t p = m.offsets[u]; p < m.offsets[u + 1]; ++p) {
        const size_t i = static_cast<size_t>(m.indices[p]);
        if (i < qb || i >= qe) continue;
        const int32_t at = fill[i - qb]++;
        item_user[static_cast<size_t>(at)] = static_cast<int32_t>(u);
        item_w[static_cast<size_t>(at)] = w[static_cast<size_t>(p)];
      }
  }

  std::vector<float> norm;
  if (opt.weighting == KnnWeighting::Cosine) {
    std::vector<double> sq(m.items, 0.0);
    for (size_t p = 0; p < w.size(); ++p) sq[static_cast<size_t>(m.indices[p])] += static_cast<double>(w[p]) * w[p];
    norm.resize(m.items);
    for (size_t i = 0; i < m.items; ++i) norm[i] = static_cast<float>(std::sqrt(sq[i]));
  }

  const size_t keep = std::min(opt.neighbours, nc);
  const size_t nblocks = (nq + kBuildBlock - 1) / kBuildBlock;
  std::vector<std::vector<int32_t>> block_idx(nblocks), block_count(nblocks);
  std::vector<std::vector<float>> block_score(nblocks);
  std::atomic<bool> stopped{false};

  parallel_for(nblocks, opt.threads, [&](size_t task) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      stopped.store(true, std::memory_order_relaxed);
      return;
    }
    static thread_local BuildScratch s;
    // The scratch must stay all-zero between rows; an allocation failure mid-row would break that.
    struct Reset {
      BuildScratch& s;
      bool ok = false;
      ~Reset() {
        if (!ok) std::fill(s.cells.begin(), s.cells.end(), Cell{0.f, 0u});
      }
    } guard{s};
    // Dense accumulators over the candidate range: at 100k items they fit in L2, and a hash map
    // would pay more per update than the cache misses it saves.
    if (s.cells.size() < nc) {
      s.cells.resize(nc, Cell{0.f, 0u});
      s.touched.resize(nc);
    }
    Cell* const cells = s.cells.data();
    int32_t* const touched = s.touched.data();
    const float* const nrm = norm.empty() ? nullptr : norm.data();
    const float shrink = opt.shrink;
    s.heap.reset(keep);
    const size_t r0 = task * kBuildBlock, r1 = std::min(nq, r0 + kBuildBlock);
    std::vector<int32_t>& bidx = block_idx[task];
    std::vector<float>& bscore = block_score[task];
    std::vector<int32_t>& bcount = block_count[task];
    bcount.resize(r1 - r0);
    bidx.reserve((r1 - r0) * keep);
    bscore.reserve((r1 - r0) * keep);
    for (size_t r = r0; r < r1; ++r) {
      const size_t item = qb + r;
      size_t nt = 0;
      for (int32_t e = item_off[r]; e < item_off[r + 1]; ++e) {
        const size_t u = static_cast<size_t>(item_user[static_cast<size_t>(e)]);
        const float a = item_w[static_cast<size_t>(e)];
        const Entry* first = entries.data() + m.offsets[u];
        const Entry* last = entries.data() + m.offsets[u + 1];
        if (!whole_candidates) {
          const auto below = [](const Entry& x, int32_t v) { return x.item < v; };
          first = std::lower_bound(first, last, static_cast<int32_t>(cb), below);
          last = std::lower_bound(first, last, static_cast<int32_t>(ce), below);
        }
        for (const Entry* p = first; p != last; ++p) {
          const size_t j = static_cast<size_t>(p->item) - cb;
          Cell& c = cells[j];
          c.acc += a * p->w;
          if (c.count++ == 0) touched[nt++] = static_cast<int32_t>(j);
        }
      }
      for (size_t t = 0; t < nt; ++t) {
        const int32_t j = touched[t];
        const size_t jj = static_cast<size_t>(j);
        Cell& c = cells[jj];
        const size_t cand = cb + jj;
        if (cand != item && keep) {
          float sim = c.acc;
          if (nrm) sim = sim / (nrm[item] * nrm[cand]);
          if (shrink > 0) {
            const float cnt = static_cast<float>(c.count);
            sim = sim * (cnt / (cnt + shrink));
          }
          if (sim >= s.heap.threshold()) s.heap.offer(sim, j);
        }
        c = Cell{0.f, 0u};
      }
      // Kept in heap order: aggregation does not care about order within a row, and sorting every
      // row here cost more than the whole co-occurrence count (branchy 100-element sorts). Rows are
      // sorted where order matters (knn_row, knn_export_sorted).
      const size_t n = s.heap.size();
      for (const Scored& e : s.heap) {
        bidx.push_back(e.index);
        bscore.push_back(e.score);
      }
      s.heap.reset(keep);
      bcount[r - r0] = static_cast<int32_t>(n);
    }
    guard.ok = true;
  });
  if (stopped.load()) return false;

  out->rows = nq;
  out->cols = nc;
  out->offsets.assign(nq + 1, 0);
  size_t total = 0;
  for (size_t t = 0; t < nblocks; ++t) total += block_idx[t].size();
  out->indices.clear();
  out->scores.clear();
  out->indices.reserve(total);  // reserve + insert: no zero-fill pass over the output
  out->scores.reserve(total);
  size_t row = 0;
  for (size_t t = 0; t < nblocks; ++t) {
    out->indices.insert(out->indices.end(), block_idx[t].begin(), block_idx[t].end());
    out->scores.insert(out->scores.end(), block_score[t].begin(), block_score[t].end());
    for (const int32_t c : block_count[t]) {
      out->offsets[row + 1] = out->offsets[row] + c;
      ++row;
    }
    std::vector<int32_t>().swap(block_idx[t]);
    std::vector<float>().swap(block_score[t]);
  }
  return true;
}

size_t knn_row(const KnnGraph& g, size_t row, size_t k, const int32_t* excl, size_t excl_len, int32_t* out_idx,
               float* out_scores) {
  static thread_local std::vector<Scored> buf;
  buf.clear();
  Exclusions ex;
  ex.query = excl;
  ex.query_len = excl_len;
  for (int32_t p = g.offsets[row]; p < g.offsets[row + 1]; ++p) {
    const size_t q = static_cast<size_t>(p);
    if (!ex.excludes(g.indices[q])) buf.push_back({g.scores[q], g.indices[q]});
  }
  const size_t n = std::min(k, buf.size());
  std::partial_sort(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n), buf.end(), ranks_before);
  for (size_t t = 0; t < n; ++t) {
    out_idx[t] = buf[t].index;
    out_scores[t] = buf[t].score;
  }
  return n;
}

void knn_sort_rows(KnnGraph* g, size_t threads) {
  const size_t nblocks = (g->rows + kBuildBlock - 1) / kBuildBlock;
  parallel_for(nblocks, threads, [&](size_t task) {
    std::vector<Scored> row;
    const size_t r1 = std::min(g->rows, (task + 1) * kBuildBlock);
    for (size_t r = task * kBuildBlock; r < r1; ++r) {
      const size_t b = static_cast<size_t>(g->offsets[r]), e = static_cast<size_t>(g->offsets[r + 1]);
      row.clear();
      for (size_t p = b; p < e; ++p) row.push_back({g->scores[p], g->indices[p]});
      std::sort(row.begin(), row.end(), ranks_before);
      for (size_t p = b; p < e; ++p) {
        g->scores[p] = row[p - b].score;
        g->indices[p] = row[p - b].index;
      }
    }
  });
}

namespace {

// Adds the history's neighbour lists into s (acc, wsum, touched); returns the skipped count.
size_t accumulate(const KnnGraph& g, const int32_t* hist, const float* hw, size_t n, bool mean, KnnScratch& s) {
  if (s.acc.size() < g.cols) {
    s.acc.resize(g.cols, 0.f);
    s.wsum.resize(g.cols, 0.f);
    s.seen.resize(g.cols, 0);
  }
  size_t skipped = 0;
  for (size_t t = 0; t < n; ++t) {
    const int32_t i = hist[t];
    if (i < 0 || static_cast<size_t>(i) >= g.rows) {
      ++skipped;
      continue;
    }
    const float wi = hw ? hw[t] : 1.f;
    const size_t b = static_cast<size_t>(g.offsets[static_cast<size_t>(i)]);
    const size_t e = static_cast<size_t>(g.offsets[static_cast<size_t>(i) + 1]);
    for (size_t p = b; p < e; ++p) {
      const size_t j = static_cast<size_t>(g.indices[p]);
      s.acc[j] += wi * g.scores[p];
      if (mean) s.wsum[j] += wi;
      if (!s.seen[j]) {
        s.seen[j] = 1;
        s.touched.push_back(static_cast<int32_t>(j));
      }
    }
  }
  return skipped;
}

inline float aggregate_score(const KnnScratch& s, size_t j, bool mean, float shrink) {
  if (!mean) return s.acc[j];
  const float d = s.wsum[j] + shrink;
  return d > 0 ? s.acc[j] / d : 0.f;
}

void clear_touched(KnnScratch& s) {
  for (const int32_t j : s.touched) {
    s.acc[static_cast<size_t>(j)] = 0.f;
    s.wsum[static_cast<size_t>(j)] = 0.f;
    s.seen[static_cast<size_t>(j)] = 0;
  }
  s.touched.clear();
}

}  // namespace

size_t knn_recommend(const KnnGraph& g, const int32_t* hist, const float* hw, size_t n, const int32_t* excl,
                     size_t excl_len, const KnnQueryOptions& opt, KnnScratch& s, int32_t* out_idx, float* out_scores,
                     size_t* skipped) {
  *skipped = accumulate(g, hist, hw, n, opt.mean, s);
  Exclusions ex;
  ex.query = excl;
  ex.query_len = excl_len;
  if (opt.exclude_history && n) {
    s.history_sorted.assign(hist, hist + n);
    std::sort(s.history_sorted.begin(), s.history_sorted.end());
    ex.global = s.history_sorted.data();
    ex.global_len = s.history_sorted.size();
  }
  TopKHeap heap(opt.k);
  for (const int32_t j : s.touched) {
    const float score = aggregate_score(s, static_cast<size_t>(j), opt.mean, opt.shrink);
    if (score < heap.threshold() || ex.excludes(j)) continue;
    heap.offer(score, j);
  }
  clear_touched(s);
  return heap.drain_sorted(out_idx, out_scores);
}

bool knn_recommend_batch(const KnnGraph& g, const int32_t* hist_off, const int32_t* hist_idx, const float* hist_w,
                         size_t nq, const int32_t* excl_off, const int32_t* excl_idx, const KnnQueryOptions& opt,
                         size_t threads, const std::atomic<int>* cancel, int32_t* out_idx, float* out_scores,
                         int32_t* out_counts, int32_t* skipped) {
  const size_t nblocks = (nq + kQueryBlock - 1) / kQueryBlock;
  std::atomic<bool> stopped{false};
  parallel_for(nblocks, threads, [&](size_t task) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      stopped.store(true, std::memory_order_relaxed);
      return;
    }
    static thread_local KnnScratch s;
    struct Reset {
      KnnScratch& s;
      bool ok = false;
      ~Reset() {
        if (ok) return;
        std::fill(s.acc.begin(), s.acc.end(), 0.f);
        std::fill(s.wsum.begin(), s.wsum.end(), 0.f);
        std::fill(s.seen.begin(), s.seen.end(), uint8_t{0});
        s.touched.clear();
      }
    } guard{s};
    const size_t q1 = std::min(nq, (task + 1) * kQueryBlock);
    for (size_t q = task * kQueryBlock; q < q1; ++q) {
      const size_t b = static_cast<size_t>(hist_off[q]), e = static_cast<size_t>(hist_off[q + 1]);
      const int32_t* ex = excl_off ? excl_idx + excl_off[q] : nullptr;
      const size_t ex_len = excl_off ? static_cast<size_t>(excl_off[q + 1] - excl_off[q]) : 0;
      int32_t* oi = out_idx + q * opt.k;
      float* os = out_scores + q * opt.k;
      size_t skip = 0;
      const size_t got =
          knn_recommend(g, hist_idx + b, hist_w ? hist_w + b : nullptr, e - b, ex, ex_len, opt, s, oi, os, &skip);
      std::fill(oi + got, oi + opt.k, -1);
      std::fill(os + got, os + opt.k, std::nanf(""));
      out_counts[q] = static_cast<int32_t>(got);
      skipped[q] = static_cast<int32_t>(skip);
    }
    guard.ok = true;
  });
  return !stopped.load();
}

size_t knn_scores(const KnnGraph& g, const int32_t* hist, const float* hw, size_t n, bool mean, float shrink,
                  KnnScratch& s, float* out) {
  std::fill(out, out + g.cols, 0.f);
  const size_t skipped = accumulate(g, hist, hw, n, mean, s);
  for (const int32_t j : s.touched)
    out[static_cast<size_t>(j)] = aggregate_score(s, static_cast<size_t>(j), mean, shrink);
  clear_touched(s);
  return skipped;
}

}  // namespace rb

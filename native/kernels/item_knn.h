// Item-item neighbourhood models: sparse co-occurrence counting over user histories with cosine,
// TF-IDF or BM25 weighting, exact top-N neighbours per item kept sparse, and recommendation by
// aggregating the neighbours of a history.
//
// Numerics: every similarity is accumulated in float32 over the shared users in ascending user
// order, whatever the thread count, so a build is bit-identical for any `threads`, and sim(i, j)
// and sim(j, i) are bit-identical for all three weightings (each sums the same products in the same
// order). Neighbours are ranked by score descending, ties to the lower index (topk_heap.h).
//
// Conventions: inputs are trusted (the binding checked them); lengths may be zero and pointers may
// then be null; nothing here touches Node-API.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "constants.h"

namespace rb {

// A user x item matrix in CSR form over one item space. Cross-domain models put source and target
// items side by side in that space ([0, ns) then [ns, ns+nt)) over the overlapping users only, so
// one definition of every weighting serves both cases.
struct KnnMatrix {
  size_t users = 0;
  size_t items = 0;
  const int32_t* offsets = nullptr;  // users + 1, non-decreasing, offsets[0] = 0
  const int32_t* indices = nullptr;  // item of each entry; strictly increasing within a user
  const float* values = nullptr;     // per-entry value (> 0), or null for all ones
};

struct KnnBuildOptions {
  KnnWeighting weighting = KnnWeighting::Cosine;
  float k1 = 1.2f;  // BM25 term saturation
  float b = 0.75f;  // BM25 length normalisation
  // Significance shrinkage: sim *= c / (c + shrink), c = number of users the two items share.
  float shrink = 0.f;
  size_t neighbours = 100;
  // Rows whose neighbours are wanted, and the item range neighbours are drawn from (indices in the
  // result are relative to cand_begin). An item is never its own neighbour.
  size_t query_begin = 0, query_end = 0;
  size_t cand_begin = 0, cand_end = 0;
  size_t threads = 1;
};

// Sparse neighbour lists: row r holds indices[offsets[r] .. offsets[r+1]) (candidate-relative) and
// their scores, in an order that is deterministic but not sorted (aggregation does not need one;
// knn_row and knn_sort_rows give best first).
struct KnnGraph {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<int32_t> offsets;
  std::vector<int32_t> indices;
  std::vector<float> scores;
};

// Builds the neighbour graph. Polls *cancel between blocks of rows; returns false if it was set.
// May throw std::bad_alloc. Each thread that ran a build keeps its dense scratch (12 bytes per
// candidate item) for the next build, so repeated builds do not re-fault it in.
bool knn_build(const KnnMatrix& m, const KnnBuildOptions& opt, const std::atomic<int>* cancel, KnnGraph* out);

// Puts each row in best-first order (for export).
void knn_sort_rows(KnnGraph* g, size_t threads);

// The best min(k, row length − excluded) neighbours of a row, best first; excl sorted ascending.
size_t knn_row(const KnnGraph& g, size_t row, size_t k, const int32_t* excl, size_t excl_len, int32_t* out_idx,
               float* out_scores);

// How a history's neighbours are combined into a score for candidate j:
//   sum:  s_j = sum_i w_i * sim(i, j)
//   mean: s_j = sum_i w_i * sim(i, j) / (sum of w_i over the i that have j as a neighbour + shrink),
//         a weighted mean shrunk toward 0 when few history items vouch for j.
struct KnnQueryOptions {
  size_t k = 10;
  bool mean = false;
  float shrink = 0.f;
  bool exclude_history = false;  // the history's own items are never returned (same item space only)
};

// Per-thread scratch, reused across queries (it is left all-zero after each one).
struct KnnScratch {
  std::vector<float> acc;
  std::vector<float> wsum;
  std::vector<uint8_t> seen;
  std::vector<int32_t> touched;
  std::vector<int32_t> history_sorted;
};

// Top-k candidates for one history (hist[0..n), weights hw or null for ones). History entries
// outside [0, g.rows) are skipped and counted in *skipped. Exclusions excl[0..excl_len) are sorted
// ascending. Only candidates that neighbour some history item are returned. Returns the count.
size_t knn_recommend(const KnnGraph& g, const int32_t* hist, const float* hw, size_t n, const int32_t* excl,
                     size_t excl_len, const KnnQueryOptions& opt, KnnScratch& s, int32_t* out_idx, float* out_scores,
                     size_t* skipped);

// Many histories in CSR form (hist_off has nq+1 entries; exclusion segments sorted ascending, or
// excl_off null). Query q's results go to slots [q*k, q*k+counts[q]) (unused: -1 and NaN), its
// skipped count to skipped[q]. Parallel over queries; polls *cancel; returns false if cancelled.
bool knn_recommend_batch(const KnnGraph& g, const int32_t* hist_off, const int32_t* hist_idx, const float* hist_w,
                         size_t nq, const int32_t* excl_off, const int32_t* excl_idx, const KnnQueryOptions& opt,
                         size_t threads, const std::atomic<int>* cancel, int32_t* out_idx, float* out_scores,
                         int32_t* out_counts, int32_t* skipped);

// Dense scores of every candidate (0 for candidates no history item links to), for blending with
// other models. out has g.cols entries. Returns the skipped count.
size_t knn_scores(const KnnGraph& g, const int32_t* hist, const float* hw, size_t n, bool mean, float shrink,
                  KnnScratch& s, float* out);

}  // namespace rb

// Scoring drivers: one query against all (or a subset of) items, exact top-K for one query, and
// blocked exact top-K for a batch of queries. They call the active KernelTable and the thread pool;
// all inputs are trusted (the binding checked them) and all outputs are caller-owned.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>

#include "topk_heap.h"

namespace rb {

struct ItemTable {
  const float* data;  // rows x dim, row-major
  size_t rows;
  size_t dim;
};

// Candidate restriction and exclusions shared by the top-K entry points. Index lists are sorted
// ascending and unique; exclusion CSR segments likewise.
struct TopKOptions {
  size_t k = 0;
  bool has_allow = false;  // false: every row is a candidate
  const int32_t* allow = nullptr;
  size_t allow_len = 0;
  const int32_t* block = nullptr;  // global block list
  size_t block_len = 0;
  size_t threads = 1;
};

// out[j] = <q, row j> for every row, or for rows subset[0..m) when subset is non-null.
void score_items(const ItemTable& t, const float* q, const int32_t* subset, size_t m, float* out, size_t threads);

// Best min(k, eligible) items for q, best first, into out_idx/out_scores; returns the count.
size_t topk_one(const ItemTable& t, const float* q, const TopKOptions& opt, const int32_t* exclude, size_t exclude_len,
                int32_t* out_idx, float* out_scores);

// nq queries (row-major, nq x dim). Query i's exclusions are excl_idx[excl_off[i] .. excl_off[i+1])
// when excl_off is non-null. Results go to out_idx/out_scores rows of k (unused slots: -1 and NaN)
// and out_counts[i]. Polls *cancel between blocks; returns false if it was set. May throw
// std::bad_alloc.
bool topk_batch(const ItemTable& t, const float* queries, size_t nq, const TopKOptions& opt, const int32_t* excl_off,
                const int32_t* excl_idx, const std::atomic<int>* cancel, int32_t* out_idx, float* out_scores,
                int32_t* out_counts);

}  // namespace rb

// What the training loop (train_mf.cpp) and the epoch shuffle (train_records.cpp) share to draw a
// negative: the table samplers' candidate and the exact check against a user's sorted positives.
#pragma once
#include <cstddef>
#include <cstdint>

#include "rng.h"
#include "train_mf.h"

namespace rb {

// A candidate from the uniform or alias (popularity) sampler over `items` items; -1 when the alias
// table names an item out of range (its entries are caller data).
inline int32_t table_candidate(const NegativeSampler& s, Rng& rng, size_t items) {
  if (s.kind == SamplerKind::Uniform) return static_cast<int32_t>(rng.below(static_cast<uint32_t>(items)));
  const uint32_t k = rng.below(static_cast<uint32_t>(s.n));
  const int32_t j = rng.uniform() < s.prob[k] ? static_cast<int32_t>(k) : s.alias[k];
  return j >= 0 && static_cast<size_t>(j) < items ? j : -1;
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

}  // namespace rb

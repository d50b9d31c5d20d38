// Embedding lookups: plain row gather, and pooled gather over bags of rows (the building block of
// feature towers: an item is the sum, mean or weighted sum of its feature embeddings).
#pragma once
#include <cstddef>
#include <cstdint>

#include "constants.h"

namespace rb {

// out[j*dim ..] = table[idx[j]*dim ..] for j in [0, m). A row copy is memory-bound and libc's memcpy
// is already vectorized for the running CPU, so this one routine serves every ISA.
void gather_rows(const float* table, size_t dim, const int32_t* idx, size_t m, float* out);

// Bag b covers idx[offsets[b] .. offsets[b+1]); out row b is the pooled vector (zeros for an empty
// bag). weights (per index) are read only for WeightedSum. Uses the active ISA's axpy/scale.
void pool_bags(const float* table, size_t dim, const int32_t* offsets, size_t nbags, const int32_t* idx,
               const float* weights, PoolMode mode, float* out);

}  // namespace rb

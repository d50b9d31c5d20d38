#include "pooling.h"

#include <cstring>

#include "kernel_table.h"

namespace rb {

void gather_rows(const float* table, size_t dim, const int32_t* idx, size_t m, float* out) {
  if (dim == 0) return;
  for (size_t j = 0; j < m; ++j)
    std::memcpy(out + j * dim, table + static_cast<size_t>(idx[j]) * dim, dim * sizeof(float));
}

void pool_bags(const float* table, size_t dim, const int32_t* offsets, size_t nbags, const int32_t* idx,
               const float* weights, PoolMode mode, float* out) {
  const KernelTable& kern = active_kernels();
  for (size_t b = 0; b < nbags; ++b) {
    float* dst = out + b * dim;
    if (dim) std::memset(dst, 0, dim * sizeof(float));
    const size_t begin = static_cast<size_t>(offsets[b]), end = static_cast<size_t>(offsets[b + 1]);
    for (size_t j = begin; j < end; ++j) {
      const float w = mode == PoolMode::WeightedSum ? weights[j] : 1.f;
      kern.axpy(w, table + static_cast<size_t>(idx[j]) * dim, dst, dim);
    }
    if (mode == PoolMode::Mean && end > begin) kern.scale(1.f / static_cast<float>(end - begin), dst, dim);
  }
}

}  // namespace rb

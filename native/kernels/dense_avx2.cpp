// The dense-layer kernels of dense_isa.inc compiled for AVX2+FMA (this file's own target flags).
#include <cstddef>
#include <cstdint>

#include "dense.h"

namespace rb {
namespace {
#define RB_VW 8
#define RB_NR 3  // 3 rows × 4 ymm = 12 accumulators of 16 registers
#include "dense_isa.inc"
}  // namespace

const DenseKernels& dense_kernels_avx2() {
  static const DenseKernels k{"avx2", RB_NR, panel_gemm_impl, exp_shift_sum_impl, logits_row_impl, scale_impl};
  return k;
}

}  // namespace rb

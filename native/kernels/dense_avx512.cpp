// The dense-layer kernels of dense_isa.inc compiled for AVX-512 (this file's own target flags).
#include <cstddef>
#include <cstdint>

#include "dense.h"

namespace rb {
namespace {
#define RB_VW 16
#define RB_NR 6  // 6 rows × 2 zmm = 12 accumulators of 32 registers
#include "dense_isa.inc"
}  // namespace

const DenseKernels& dense_kernels_avx512() {
  static const DenseKernels k{"avx512", RB_NR, panel_gemm_impl, exp_shift_sum_impl, logits_row_impl, scale_impl};
  return k;
}

}  // namespace rb

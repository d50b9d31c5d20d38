// The implicit-ALS row product of als_isa.inc compiled for AVX512 (this file's own target flags).
#include <cstddef>

#include "als.h"

namespace rb {
namespace {
#define RB_VW 16
#include "als_isa.inc"
}  // namespace

const AlsKernels& als_kernels_avx512() {
  static const AlsKernels k{"avx512", row_product_impl};
  return k;
}

}  // namespace rb

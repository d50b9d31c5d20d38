// The implicit-ALS row product of als_isa.inc compiled for AVX2+FMA (this file's own target flags).
#include <cstddef>

#include "als.h"

namespace rb {
namespace {
#define RB_VW 8
#include "als_isa.inc"
}  // namespace

const AlsKernels& als_kernels_avx2() {
  static const AlsKernels k{"avx2", row_product_impl};
  return k;
}

}  // namespace rb

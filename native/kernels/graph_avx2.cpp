// The graph kernels of graph_isa.inc compiled for AVX2+FMA (this file's own target flags).
#include <cstddef>
#include <cstdint>

#include "graph.h"

namespace rb {
namespace {
#define RB_VW 8
#include "graph_isa.inc"
}  // namespace

const GraphKernels& graph_kernels_avx2() {
  static const GraphKernels k{"avx2", spmm_row_impl};
  return k;
}

}  // namespace rb

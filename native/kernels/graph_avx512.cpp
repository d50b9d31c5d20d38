// The graph kernels of graph_isa.inc compiled for AVX512 (this file's own target flags).
#include <cstddef>
#include <cstdint>

#include "graph.h"

namespace rb {
namespace {
#define RB_VW 16
#include "graph_isa.inc"
}  // namespace

const GraphKernels& graph_kernels_avx512() {
  static const GraphKernels k{"avx512", spmm_row_impl};
  return k;
}

}  // namespace rb

// LightGCN-style graph propagation and its training gradient, on raw pointers (no Node-API).
//
// The graph is a symmetric sparse matrix Â over `nodes` rows in CSR form (offsets, indices,
// weights), normally D^-1/2 A D^-1/2 of a user–item bipartite graph. Propagation is E' = Â E with E
// a dense nodes × dim table; since Â is symmetric the backward pass of a propagation is the same
// product applied to the gradient, so one sparse × dense kernel serves both directions.
//
// Numerics: float32 accumulation over a row's neighbours in CSR order, one output row per task, so
// every result is independent of the thread count (bit-identical for any `threads`). The SIMD paths
// differ from the scalar one only by fused multiply-add rounding. Losses are summed in float64 per
// fixed chunk and the chunks in order. Neighbour or triple indices outside [0, nodes) are skipped
// (counted, never read), so a caller bug cannot read out of bounds.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rb {

struct GraphKernels {
  const char* name;
  // y[0..dim) = Σ_k w[k] · x[idx[k]*dim .. +dim), k < nnz; indices are trusted (checked by the driver).
  void (*spmm_row)(const int32_t* idx, const float* w, size_t nnz, const float* x, size_t dim, float* y);
};

const GraphKernels& graph_kernels_scalar();
const GraphKernels& graph_kernels_avx2();
const GraphKernels& graph_kernels_avx512();
// The set at kernel_level() (isa.h), so force_isa moves it together with the other families.
const GraphKernels& active_graph_kernels();

struct SparseGraph {
  const int32_t* offsets = nullptr;  // nodes + 1 entries, non-decreasing, offsets[nodes] == nnz
  const int32_t* indices = nullptr;  // nnz column indices
  const float* weights = nullptr;    // nnz values
  size_t nodes = 0;
  size_t nnz = 0;
};

// (user, positive, negative) node triples of a BPR batch; weight (per triple) may be null (all 1).
struct BprTriples {
  const int32_t* users = nullptr;
  const int32_t* pos = nullptr;
  const int32_t* neg = nullptr;
  const float* weight = nullptr;
  size_t n = 0;
};

// y = Â x (nodes × dim each, distinct buffers). Returns the number of skipped out-of-range entries.
size_t graph_spmm(const SparseGraph& g, const float* x, size_t dim, float* y, size_t threads);

// out = mean of Â^l x for l = 0..layers. work holds 2·nodes·dim floats. Returns skipped entries.
size_t graph_propagate(const SparseGraph& g, const float* x, size_t dim, size_t layers, float* out, float* work,
                       size_t threads);

// Gradient of the LightGCN loss with respect to the layer-0 table e0:
//   loss = (1/n) Σ_t w_t · softplus(-(f_u · (f_p - f_n)))  +  (l2/2n) Σ_t (|e0_u|² + |e0_p|² + |e0_n|²)
// with f = propagate(e0, layers). grad (nodes × dim) is overwritten; work holds 3·nodes·dim floats.
// Returns the loss; *skipped counts out-of-range graph entries and triples (triples are dropped).
double graph_bpr_gradient(const SparseGraph& g, const float* e0, size_t dim, size_t layers, const BprTriples& t,
                          float l2, float* grad, float* work, size_t threads, size_t* skipped);

// Dense Adam on n floats (PyTorch's rule, bias-corrected at step t ≥ 1).
void adam_dense(float* w, const float* g, float* m, float* v, size_t n, float lr, float beta1, float beta2, float eps,
                size_t t, size_t threads);

}  // namespace rb

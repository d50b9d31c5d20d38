// The per-ISA primitive table. Every entry has a scalar, an AVX2+FMA and an AVX-512 implementation,
// each compiled in its own translation unit with its own target flags (no global -m flags), and the
// drivers (scoring.cpp, pooling.cpp) call only through this table.
//
// Numerics: all paths accumulate in float32 with fused multiply-add where the ISA has it; they differ
// only in summation order (lane-parallel partial sums, then a reduction tree), so results agree with
// the scalar path to within a few ulps times sqrt(d). On integer-valued data whose partial sums stay
// below 2^24 every path is exact and bit-identical, which the tests use.
//
// Conventions: `d` is the row length (the embedding dimension); rows are contiguous (stride d);
// lengths may be zero and pointers may then be null; nothing here allocates or touches Node-API.
#pragma once
#include <cstddef>
#include <cstdint>

#include "isa.h"

namespace rb {

struct KernelTable {
  const char* name;
  // Query columns held by one packed query panel in score_tile (a multiple of the vector width).
  size_t query_block;

  // out[i] = <q, items[i*d .. i*d+d)>, for i in [0, n).
  void (*score_rows)(const float* q, const float* items, size_t n, size_t d, float* out);
  // out[j] = <q, items[idx[j]*d ..)>, for j in [0, m). Indices are trusted (checked by the caller).
  void (*score_indexed)(const float* q, const float* items, size_t d, const int32_t* idx, size_t m, float* out);
  // Register-tiled block product: tile[i*query_block + c] = <qpack column c, items row i> for
  // i in [0, n). qpack is column-packed: qpack[k*query_block + c] = query c, element k. qpack and
  // tile are 64-byte aligned (aligned vector loads and stores).
  void (*score_tile)(const float* qpack, const float* items, size_t n, size_t d, float* tile);

  // Positions i in [0, n) with s[i] >= thr, written to out in increasing order; returns the count.
  size_t (*candidates)(const float* s, size_t n, float thr, uint32_t* out);
  // Positions p = i*query_block + c with tile[p] >= thr[c], in increasing order; returns the count.
  size_t (*tile_candidates)(const float* tile, size_t n, const float* thr, uint32_t* out);

  // y[0..d) += a * x[0..d)
  void (*axpy)(float a, const float* x, float* y, size_t d);
  // y[0..d) *= a
  void (*scale)(float a, float* y, size_t d);

  // Training (see train_steps.inc for the update rules and their numerics).
  // <a, b>
  float (*dot)(const float* a, const float* b, size_t d);
  // <u, vi - vj>
  float (*dot_diff)(const float* u, const float* vi, const float* vj, size_t d);
  // One BPR step on a (user, positive, negative) triple with coefficient g = σ(-x); lr 0 skips a row.
  void (*sgd_triple)(float* u, float* vi, float* vj, size_t d, float g, float lr_u, float lr_i, float lr_j, float l2);
  // The same with per-element Adagrad accumulators au/ai/aj (d floats each).
  void (*adagrad_triple)(float* u, float* vi, float* vj, float* au, float* ai, float* aj, size_t d, float g, float lr_u,
                         float lr_i, float lr_j, float l2, float eps);
  // The same with one accumulator per row (au/ai/aj point at one float each).
  void (*rowwise_adagrad_triple)(float* u, float* vi, float* vj, float* au, float* ai, float* aj, size_t d, float g,
                                 float lr_u, float lr_i, float lr_j, float l2, float eps);
  // Pointwise (BCE, MSE) steps on a (user, item) pair with score coefficient g.
  void (*sgd_pair)(float* u, float* v, size_t d, float g, float lr_u, float lr_v, float l2);
  void (*adagrad_pair)(float* u, float* v, float* au, float* av, size_t d, float g, float lr_u, float lr_v, float l2,
                       float eps);
  void (*rowwise_adagrad_pair)(float* u, float* v, float* au, float* av, size_t d, float g, float lr_u, float lr_v,
                               float l2, float eps);
  // Lazy Adam: mv holds the (m, v) row pointers of each row in order (6 for a triple, 4 for a
  // pair); lr_* already include each row's bias correction; scratch holds 3·d floats.
  void (*adam_triple)(float* u, float* vi, float* vj, float* const* mv, size_t d, float g, float lr_u, float lr_i,
                      float lr_j, float l2, float b1, float b2, float eps, float* scratch);
  void (*adam_pair)(float* u, float* v, float* const* mv, size_t d, float g, float lr_u, float lr_v, float l2, float b1,
                    float b2, float eps, float* scratch);
};

const KernelTable& kernels_scalar();
const KernelTable& kernels_avx2();
const KernelTable& kernels_avx512();

// The table at kernel_level() (isa.h), so force_isa moves it together with the other families.
const KernelTable& active_kernels();

}  // namespace rb

// Implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008) with the conjugate-gradient
// row solver of Takács, Pilászy & Tikk (2011). One call solves every row x of X against fixed
// factors Y (one half-iteration): minimise
//   Σ_i c_i (p_i − x·y_i)² + λ‖x‖²  over all rows i of Y,
// with p_i = 1 and c_i = confidence(value) for the row's observed entries, p_i = 0 and c_i = 1 for
// every other row. The normal equations are (YᵀY + Σ_obs (c_i − 1) y_i y_iᵀ + λI) x = Σ_obs c_i y_i;
// YᵀY is the same for every row and is computed once per call.
//
// Each row's solve reads only Y, its own entries and its own x, so rows run in any order on any
// number of threads with bit-identical results. The hot loops (a dot and an axpy per observed entry
// per CG step) go through the per-ISA KernelTable (kernel_table.h). Pure C++: no Node-API.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "constants.h"

namespace rb {

// The observed entries of X's rows (CSR): row r's are idx[off[r] .. off[r+1]) (rows of Y), with
// values val[...] (null: every value is 1). Offsets and indices are re-checked as they are read.
struct AlsRows {
  const int32_t* off = nullptr;
  const int32_t* idx = nullptr;
  const float* val = nullptr;
  size_t rows = 0;  // off holds rows + 1 entries
  size_t nnz = 0;   // idx (and val) hold nnz entries
};

struct AlsConfig {
  AlsConfidence confidence = AlsConfidence::Linear;
  float alpha = 1.f;  // ≥ 0
  float eps = 1.f;    // Log: > 0
  float l2 = 0.01f;   // λ ≥ 0
  AlsSolver solver = AlsSolver::Cg;
  int cg_steps = 3;
  size_t threads = 1;
  // Also return the whole objective (both sides' L2 included) at the solved X.
  bool loss = false;
};

struct AlsResult {
  double loss = 0;        // the objective when cfg.loss, else 0
  size_t solved = 0;      // rows solved (not frozen)
  size_t invalid = 0;     // entries skipped: index out of [0, y_rows) or a row's offsets out of order
  bool diverged = false;  // a solved row became NaN or infinite (it is left as it was)
  bool cancelled = false;
};

// The row product a CG solve spends its time in, for one row with entries ys[0..n) (rows of Y) of
// confidence conf[e]:
//   residual false: out = (G + λI)·v + Σ (c_e − 1)(y_e·v)·y_e             (A·v)
//   residual true:  out = Σ (c_e − (c_e − 1)(y_e·v))·y_e − (G + λI)·v     (b − A·v)
// G is d × d and symmetric; out must not alias v.
using AlsRowProduct = void (*)(const float* g, float l2, const float* const* ys, const float* conf, size_t n,
                               const float* v, float* out, size_t d, bool residual);

struct AlsKernels {
  const char* name;
  AlsRowProduct row_product;
};

// The scalar reference (also what the vector paths run for widths they do not cover).
void als_row_product_scalar(const float* g, float l2, const float* const* ys, const float* conf, size_t n,
                            const float* v, float* out, size_t d, bool residual);
const AlsKernels& als_kernels_scalar();
const AlsKernels& als_kernels_avx2();
const AlsKernels& als_kernels_avx512();
// The set at kernel_level() (isa.h), so force_isa moves it together with the other families.
const AlsKernels& active_als_kernels();

// The confidence of an observed value; NaN and negative values count as 0 (confidence 1).
float als_confidence(float v, const AlsConfig& cfg);

// out[d × d] = Yᵀ Y (float32, via gemm_packed; bit-identical for any thread count).
void als_gramian(const float* y, size_t y_rows, size_t d, float* out, size_t threads);

// Solves the rows of x (x_rows × d, updated in place) whose frozen flag is 0 (frozen may be null).
// rows.rows must equal x_rows.
AlsResult als_solve(float* x, size_t x_rows, const float* y, size_t y_rows, size_t d, const AlsRows& rows,
                    const uint8_t* frozen, const AlsConfig& cfg, const std::atomic<int>* cancel);

}  // namespace rb

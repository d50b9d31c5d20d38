// Symmetric positive-definite linear algebra for closed-form models (EASE, kernel ridge): sparse
// cross products (XᵀX from CSR rows), a blocked Cholesky factor, multi-right-hand-side solves and
// the inverse. Pure C++ on raw pointers; n = 0 is legal. Matrices are dense, row-major, n × n.
//
// Numerics: storage is float32 (an n = 20k matrix is already 1.6 GB); each diagonal block and each
// panel row is factored with float64 accumulation, and the trailing updates run on the packed GEMM
// (dense.h) in float32 over one block of columns at a time, so a rounding error enters an element
// once per block rather than once per column. Every threaded split is static in the data it
// touches, so results do not depend on `threads`.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rb {

// One CSR matrix over a shared row space: row r's entries are cols[off[r] … off[r+1]) with values
// vals (null: every value is 1).
struct CsrView {
  const int32_t* off;
  const int32_t* cols;
  const float* vals;
  size_t cols_count;
};

// out[i * b.cols_count + j] (+)= Σ_r a_r[i] · b_r[j] over the `rows` shared rows, i.e. AᵀB. With
// a and b the same matrix this is the Gram matrix XᵀX. Column indices must lie in range (the
// binding checks); out must hold a.cols_count × b.cols_count floats.
void csr_cross_product(const CsrView& a, const CsrView& b, size_t rows, float* out, bool accumulate, size_t threads);

// Lower Cholesky factor of the SPD matrix a (n × n) in place: the lower triangle becomes L, the
// strict upper triangle is zeroed. Returns 0, or j + 1 when pivot j is not positive (or not
// finite): the matrix is not (numerically) positive definite and a is left partly factored.
size_t cholesky_factor(float* a, size_t n, size_t threads);

// Solves L Lᵀ X = B in place in b (n × m, row-major) for the factor l from cholesky_factor.
void cholesky_solve(const float* l, size_t n, float* b, size_t m, size_t threads);

// a ← a⁻¹ for SPD a, in place (factor, then solves against the identity). Needs n × n floats of
// scratch. Returns what cholesky_factor returned (0 on success; a is undefined otherwise).
size_t spd_inverse(float* a, size_t n, size_t threads);

// Scalar float64 references (unblocked, one thread) for tests.
size_t cholesky_factor_reference(double* a, size_t n);
void cholesky_solve_reference(const double* l, size_t n, double* b, size_t m);

}  // namespace rb

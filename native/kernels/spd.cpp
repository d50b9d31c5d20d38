// Blocked right-looking Cholesky, blocked triangular solves and sparse cross products (spd.h).
#include "spd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "dense.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Columns per block: the diagonal block (kBlock² doubles = 128 KB) stays in L2 while it is factored,
// and the GEMM's k = kBlock is long enough to amortise packing.
constexpr size_t kBlock = 128;
// Rows per task in the trailing update and the panel solve; a multiple of every GEMM tile height.
constexpr size_t kRowsPerTask = 96;
// Right-hand-side columns per task in the diagonal-block solves.
constexpr size_t kColsPerTask = 256;
// Output rows per task in the sparse cross product.
constexpr size_t kCrossRowsPerTask = 32;

size_t tasks_of(size_t n, size_t per) { return (n + per - 1) / per; }

void negate(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = -x[i];
}

// Unblocked float64 Cholesky of the nb × nb diagonal block starting at a[c0*n + c0]; d receives
// the factor (row-major nb × nb, float64) and the block is overwritten with it. Returns 0 or the
// failing pivot's global index + 1.
size_t factor_diagonal(float* a, size_t n, size_t c0, size_t nb, double* d) {
  for (size_t i = 0; i < nb; ++i)
    for (size_t j = 0; j <= i; ++j) d[i * nb + j] = a[(c0 + i) * n + c0 + j];
  for (size_t j = 0; j < nb; ++j) {
    double s = d[j * nb + j];
    for (size_t t = 0; t < j; ++t) s -= d[j * nb + t] * d[j * nb + t];
    if (!(s > 0) || !std::isfinite(s)) return c0 + j + 1;
    const double l = std::sqrt(s);
    d[j * nb + j] = l;
    for (size_t i = j + 1; i < nb; ++i) {
      double x = d[i * nb + j];
      for (size_t t = 0; t < j; ++t) x -= d[i * nb + t] * d[j * nb + t];
      d[i * nb + j] = x / l;
    }
  }
  for (size_t i = 0; i < nb; ++i)
    for (size_t j = 0; j <= i; ++j) a[(c0 + i) * n + c0 + j] = static_cast<float>(d[i * nb + j]);
  return 0;
}

// Rows [r0, r1) of the panel below the diagonal block: x · Dᵀ = a_row (forward substitution with
// the float64 diagonal factor d), in place.
void solve_panel_rows(float* a, size_t n, size_t c0, size_t nb, const double* d, size_t r0, size_t r1) {
  double x[kBlock];
  for (size_t r = r0; r < r1; ++r) {
    float* row = a + r * n + c0;
    for (size_t j = 0; j < nb; ++j) {
      double s = row[j];
      for (size_t t = 0; t < j; ++t) s -= x[t] * d[j * nb + t];
      x[j] = s / d[j * nb + j];
    }
    for (size_t j = 0; j < nb; ++j) row[j] = static_cast<float>(x[j]);
  }
}

// Forward (lower = true: L Y = B) or backward (Lᵀ X = Y) substitution on the nb rows of b starting
// at row c0, columns [j0, j1), against the diagonal block of l.
void solve_diagonal(const float* l, size_t n, size_t c0, size_t nb, float* b, size_t m, size_t j0, size_t j1,
                    bool lower) {
  if (lower) {
    for (size_t i = 0; i < nb; ++i) {
      float* row = b + (c0 + i) * m;
      const float* li = l + (c0 + i) * n + c0;
      for (size_t t = 0; t < i; ++t) {
        const float f = li[t];
        if (f == 0.f) continue;
        const float* src = b + (c0 + t) * m;
        for (size_t j = j0; j < j1; ++j) row[j] -= f * src[j];
      }
      const float inv = 1.f / li[i];
      for (size_t j = j0; j < j1; ++j) row[j] *= inv;
    }
  } else {
    for (size_t i = nb; i-- > 0;) {
      float* row = b + (c0 + i) * m;
      for (size_t t = i + 1; t < nb; ++t) {
        const float f = l[(c0 + t) * n + c0 + i];
        if (f == 0.f) continue;
        const float* src = b + (c0 + t) * m;
        for (size_t j = j0; j < j1; ++j) row[j] -= f * src[j];
      }
      const float inv = 1.f / l[(c0 + i) * n + c0 + i];
      for (size_t j = j0; j < j1; ++j) row[j] *= inv;
    }
  }
}

void solve_diagonal_threaded(const float* l, size_t n, size_t c0, size_t nb, float* b, size_t m, size_t cols,
                             bool lower, size_t threads) {
  const size_t tasks = tasks_of(cols, kColsPerTask);
  auto one = [&](size_t t) {
    solve_diagonal(l, n, c0, nb, b, m, t * kColsPerTask, std::min(cols, (t + 1) * kColsPerTask), lower);
  };
  if (threads <= 1 || tasks <= 1) {
    for (size_t t = 0; t < tasks; ++t) one(t);
    return;
  }
  parallel_for(tasks, threads, one);
}

// L Y = B (identity: B is the identity, so row i of Y is zero past column i and the products can
// stop at the block's last column), then Lᵀ X = Y.
void solve_impl(const float* l, size_t n, float* b, size_t m, size_t threads, bool identity) {
  if (n == 0 || m == 0) return;
  AlignedBuffer scratch;
  for (size_t c0 = 0; c0 < n; c0 += kBlock) {
    const size_t nb = std::min(kBlock, n - c0);
    const size_t cols = identity ? std::min(m, c0 + nb) : m;
    solve_diagonal_threaded(l, n, c0, nb, b, m, cols, /*lower=*/true, threads);
    const size_t below = n - c0 - nb;
    if (below == 0) continue;
    float* packed = scratch.get(packed_floats(nb, cols));
    pack_panels(b + c0 * m, m, /*trans=*/false, nb, cols, packed);
    negate(packed, packed_floats(nb, cols));
    gemm_packed(l + (c0 + nb) * n + c0, n, 1, below, nb, packed, cols, b + (c0 + nb) * m, m, /*accumulate=*/true,
                threads);
  }
  for (size_t block = tasks_of(n, kBlock); block-- > 0;) {
    const size_t c0 = block * kBlock;
    const size_t nb = std::min(kBlock, n - c0);
    solve_diagonal_threaded(l, n, c0, nb, b, m, m, /*lower=*/false, threads);
    if (c0 == 0) break;
    float* packed = scratch.get(packed_floats(nb, m));
    pack_panels(b + c0 * m, m, /*trans=*/false, nb, m, packed);
    negate(packed, packed_floats(nb, m));
    // Rows above the block: element (r, kk) of the left factor is L[c0 + kk][r] (Lᵀ), row stride 1.
    gemm_packed(l + c0 * n, 1, n, c0, nb, packed, m, b, m, /*accumulate=*/true, threads);
  }
}

}  // namespace

void csr_cross_product(const CsrView& a, const CsrView& b, size_t rows, float* out, bool accumulate, size_t threads) {
  const size_t na = a.cols_count, nbc = b.cols_count;
  if (na == 0 || nbc == 0) return;
  // A by column: each output row i gathers the rows where A has column i, so threads own disjoint
  // output rows and no sums race.
  std::vector<size_t> start(na + 1, 0);
  for (size_t r = 0; r < rows; ++r)
    for (int32_t p = a.off[r]; p < a.off[r + 1]; ++p) ++start[static_cast<size_t>(a.cols[p]) + 1];
  for (size_t i = 0; i < na; ++i) start[i + 1] += start[i];
  std::vector<int32_t> by_row(start[na]);
  std::vector<float> by_val(start[na]);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t r = 0; r < rows; ++r)
      for (int32_t p = a.off[r]; p < a.off[r + 1]; ++p) {
        const size_t slot = fill[static_cast<size_t>(a.cols[p])]++;
        by_row[slot] = static_cast<int32_t>(r);
        by_val[slot] = a.vals ? a.vals[p] : 1.f;
      }
  }
  auto rows_of = [&](size_t t) {
    const size_t i1 = std::min(na, (t + 1) * kCrossRowsPerTask);
    for (size_t i = t * kCrossRowsPerTask; i < i1; ++i) {
      float* o = out + i * nbc;
      if (!accumulate) std::fill(o, o + nbc, 0.f);
      for (size_t s = start[i]; s < start[i + 1]; ++s) {
        const size_t r = static_cast<size_t>(by_row[s]);
        const float v = by_val[s];
        if (b.vals) {
          for (int32_t p = b.off[r]; p < b.off[r + 1]; ++p) o[b.cols[p]] += v * b.vals[p];
        } else {
          for (int32_t p = b.off[r]; p < b.off[r + 1]; ++p) o[b.cols[p]] += v;
        }
      }
    }
  };
  const size_t tasks = tasks_of(na, kCrossRowsPerTask);
  if (threads <= 1 || tasks <= 1) {
    for (size_t t = 0; t < tasks; ++t) rows_of(t);
    return;
  }
  parallel_for(tasks, threads, rows_of);
}

size_t cholesky_factor(float* a, size_t n, size_t threads) {
  if (n == 0) return 0;
  std::vector<double> d(kBlock * kBlock);
  AlignedBuffer scratch;
  for (size_t c0 = 0; c0 < n; c0 += kBlock) {
    const size_t nb = std::min(kBlock, n - c0);
    if (const size_t bad = factor_diagonal(a, n, c0, nb, d.data())) return bad;
    const size_t r0 = c0 + nb;
    const size_t below = n - r0;
    if (below == 0) break;
    const size_t tasks = tasks_of(below, kRowsPerTask);
    auto panel = [&](size_t t) {
      solve_panel_rows(a, n, c0, nb, d.data(), r0 + t * kRowsPerTask, std::min(n, r0 + (t + 1) * kRowsPerTask));
    };
    if (threads <= 1 || tasks <= 1)
      for (size_t t = 0; t < tasks; ++t) panel(t);
    else
      parallel_for(tasks, threads, panel);
    // Trailing update of the lower triangle: A[r][c] -= Σ_kk L[r][c0+kk] · L[c][c0+kk] for
    // r0 ≤ c ≤ r. Each row task computes columns up to its own last row (the few upper elements
    // this touches inside the diagonal tile are zeroed at the end and never read).
    float* packed = scratch.get(packed_floats(nb, below));
    pack_panels(a + r0 * n + c0, n, /*trans=*/true, nb, below, packed);
    negate(packed, packed_floats(nb, below));
    auto update = [&](size_t t) {
      const size_t q0 = r0 + t * kRowsPerTask, q1 = std::min(n, r0 + (t + 1) * kRowsPerTask);
      gemm_packed(a + q0 * n + c0, n, 1, q1 - q0, nb, packed, q1 - r0, a + q0 * n + r0, n, /*accumulate=*/true, 1);
    };
    if (threads <= 1 || tasks <= 1)
      for (size_t t = 0; t < tasks; ++t) update(t);
    else
      parallel_for(tasks, threads, update);
  }
  for (size_t i = 0; i < n; ++i) std::fill(a + i * n + i + 1, a + (i + 1) * n, 0.f);
  return 0;
}

void cholesky_solve(const float* l, size_t n, float* b, size_t m, size_t threads) {
  solve_impl(l, n, b, m, threads, /*identity=*/false);
}

size_t spd_inverse(float* a, size_t n, size_t threads) {
  if (n == 0) return 0;
  std::vector<float> l(a, a + n * n);
  if (const size_t bad = cholesky_factor(l.data(), n, threads)) return bad;
  std::fill(a, a + n * n, 0.f);
  for (size_t i = 0; i < n; ++i) a[i * n + i] = 1.f;
  solve_impl(l.data(), n, a, n, threads, /*identity=*/true);
  return 0;
}

size_t cholesky_factor_reference(double* a, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double s = a[j * n + j];
    for (size_t t = 0; t < j; ++t) s -= a[j * n + t] * a[j * n + t];
    if (!(s > 0) || !std::isfinite(s)) return j + 1;
    const double l = std::sqrt(s);
    a[j * n + j] = l;
    for (size_t i = j + 1; i < n; ++i) {
      double x = a[i * n + j];
      for (size_t t = 0; t < j; ++t) x -= a[i * n + t] * a[j * n + t];
      a[i * n + j] = x / l;
    }
    for (size_t c = j + 1; c < n; ++c) a[j * n + c] = 0;
  }
  return 0;
}

void cholesky_solve_reference(const double* l, size_t n, double* b, size_t m) {
  for (size_t c = 0; c < m; ++c) {
    for (size_t i = 0; i < n; ++i) {
      double s = b[i * m + c];
      for (size_t t = 0; t < i; ++t) s -= l[i * n + t] * b[t * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
      double s = b[i * m + c];
      for (size_t t = i + 1; t < n; ++t) s -= l[t * n + i] * b[t * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
  }
}

}  // namespace rb

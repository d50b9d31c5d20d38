// The blocked float32 Cholesky, solves and inverse against the unblocked float64 reference on
// random SPD matrices (sizes straddling the 128-column block and the 96-row task), on every ISA
// path, with 1 and 2 threads (which must agree bit for bit); and the sparse cross product against
// dense sums.
#include <cmath>
#include <random>

#include "../kernels/isa.h"
#include "../kernels/spd.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

namespace {

// G Gᵀ / n + shift·I for Gaussian G: well conditioned for shift ≈ 1.
std::vector<double> spd_matrix(size_t n, uint32_t seed, double shift) {
  const auto g = normal_values(n * n, seed);
  std::vector<double> a(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (size_t t = 0; t < n; ++t) s += double(g[i * n + t]) * g[j * n + t];
      a[i * n + j] = a[j * n + i] = s / double(n) + (i == j ? shift : 0.0);
    }
  return a;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < b.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

}  // namespace

TEST_CASE("spd: factor, solve and inverse match the float64 reference") {
  for (int isa : runnable_isas()) {
    rb::force_isa(isa);
    for (size_t n : {size_t(1), size_t(2), size_t(3), size_t(17), size_t(97), size_t(129), size_t(301)}) {
      const auto a = spd_matrix(n, 11 + unsigned(n), 1.0);
      std::vector<double> lref(a);
      // CHECK_EQ evaluates its arguments twice: call first, compare the results.
      const size_t ref_status = rb::cholesky_factor_reference(lref.data(), n);
      CHECK_EQ(ref_status, size_t(0));
      std::vector<float> l1(a.begin(), a.end()), l2(l1);
      const size_t s1 = rb::cholesky_factor(l1.data(), n, 1), s2 = rb::cholesky_factor(l2.data(), n, 2);
      CHECK_EQ(s1, size_t(0));
      CHECK_EQ(s2, size_t(0));
      CHECK(l1 == l2);
      CHECK(max_abs_diff(l1, lref) < 1e-4);

      const size_t m = 5;
      const auto rhs = normal_values(n * m, 3 + unsigned(n));
      std::vector<double> xref(rhs.begin(), rhs.end());
      rb::cholesky_solve_reference(lref.data(), n, xref.data(), m);
      std::vector<float> x(rhs);
      rb::cholesky_solve(l1.data(), n, x.data(), m, 2);
      CHECK(max_abs_diff(x, xref) < 1e-3);

      // Inverse: A⁻¹ from the reference solve against the identity.
      std::vector<double> inv(n * n, 0.0);
      for (size_t i = 0; i < n; ++i) inv[i * n + i] = 1;
      rb::cholesky_solve_reference(lref.data(), n, inv.data(), n);
      std::vector<float> p(a.begin(), a.end());
      const size_t si = rb::spd_inverse(p.data(), n, 2);
      CHECK_EQ(si, size_t(0));
      CHECK(max_abs_diff(p, inv) < 1e-3);
    }
  }
  rb::reset_isa();
}

TEST_CASE("spd: a matrix that is not positive definite names its pivot") {
  std::vector<float> a = {1, 2, 2, 1};  // eigenvalues 3 and -1
  const size_t sa = rb::cholesky_factor(a.data(), 2, 1);
  CHECK_EQ(sa, size_t(2));
  std::vector<float> z = {0};
  const size_t sz = rb::cholesky_factor(z.data(), 1, 1);
  CHECK_EQ(sz, size_t(1));
  std::vector<float> nan = {std::nanf("")};
  const size_t sn = rb::spd_inverse(nan.data(), 1, 1);
  CHECK_EQ(sn, size_t(1));
  const size_t se = rb::cholesky_factor(nullptr, 0, 1);
  CHECK_EQ(se, size_t(0));
  rb::cholesky_solve(nullptr, 0, nullptr, 3, 1);
}

TEST_CASE("spd: sparse cross product equals the dense sum") {
  std::mt19937 g(5);
  const size_t rows = 40, na = 37, nb = 23;
  std::vector<int32_t> aoff{0}, acol, boff{0}, bcol;
  std::vector<float> aval, bval;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < na; ++i)
      if (g() % 4 == 0) {
        acol.push_back(int32_t(i));
        aval.push_back(float(1 + g() % 3));
      }
    for (size_t j = 0; j < nb; ++j)
      if (g() % 3 == 0) {
        bcol.push_back(int32_t(j));
        bval.push_back(float(1 + g() % 2));
      }
    aoff.push_back(int32_t(acol.size()));
    boff.push_back(int32_t(bcol.size()));
  }
  std::vector<double> dense(na * nb, 0.0), gram(na * na, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (int32_t p = aoff[r]; p < aoff[r + 1]; ++p) {
      for (int32_t q = boff[r]; q < boff[r + 1]; ++q)
        dense[size_t(acol[p]) * nb + size_t(bcol[q])] += aval[p] * bval[q];
      for (int32_t q = aoff[r]; q < aoff[r + 1]; ++q) gram[size_t(acol[p]) * na + size_t(acol[q])] += 1.0;
    }
  const rb::CsrView a{aoff.data(), acol.data(), aval.data(), na};
  const rb::CsrView b{boff.data(), bcol.data(), bval.data(), nb};
  const rb::CsrView a1{aoff.data(), acol.data(), nullptr, na};
  for (size_t threads : {size_t(1), size_t(2)}) {
    std::vector<float> out(na * nb, 9.f), g1(na * na, 9.f);
    rb::csr_cross_product(a, b, rows, out.data(), false, threads);
    rb::csr_cross_product(a1, a1, rows, g1.data(), false, threads);
    CHECK_EQ(max_abs_diff(out, dense), 0.0);
    CHECK_EQ(max_abs_diff(g1, gram), 0.0);
    rb::csr_cross_product(a1, a1, rows, g1.data(), true, threads);
    for (auto& x : gram) x *= 2;
    CHECK_EQ(max_abs_diff(g1, gram), 0.0);
    for (auto& x : gram) x /= 2;
  }
  const rb::CsrView none{aoff.data(), acol.data(), nullptr, 0};
  rb::csr_cross_product(none, b, rows, nullptr, false, 2);  // no columns: nothing written
}

// Every primitive of every runnable ISA path against a float64 reference, over tail sizes 1..65 and
// odd offsets. Integer-valued data must match exactly (all paths are exact there); Gaussian data
// within a bound that grows with sqrt(d), as the kernel_table.h numerics note promises.
#include <cmath>
#include <limits>

#include "../kernels/kernel_table.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

namespace {

double tolerance(size_t d) { return 1e-5 * (1.0 + std::sqrt(double(d))) * 4.0; }

void check_score_rows(const rb::KernelTable& kt, bool exact) {
  for (size_t d = 1; d <= 65; d += (d < 20 ? 1 : 7)) {
    for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(17), size_t(33)}) {
      for (size_t off : {size_t(0), size_t(1), size_t(3)}) {
        const auto qv = exact ? int_values(d, 1 + unsigned(d)) : normal_values(d, 1 + unsigned(d));
        const auto iv = exact ? int_values(n * d, 7 + unsigned(n)) : normal_values(n * d, 7 + unsigned(n));
        Shifted q(qv, off), items(iv, off + 1);
        std::vector<float> outv(n + 1, -123.f);
        kt.score_rows(q.data, n ? items.data : nullptr, n, d, outv.data());
        for (size_t i = 0; i < n; ++i) {
          const double ref = dot_ref(q.data, items.data + i * d, d);
          if (exact)
            CHECK_EQ(double(outv[i]), ref);
          else
            CHECK_NEAR(outv[i], ref, tolerance(d));
        }
        CHECK_EQ(outv[n], -123.f);  // nothing written past n
        // Indexed scoring over a shuffled subset with repeats.
        if (n > 0) {
          std::vector<int32_t> idx;
          for (size_t j = 0; j < 2 * n; ++j) idx.push_back(int32_t((j * 7 + 3) % n));
          std::vector<float> sub(idx.size());
          kt.score_indexed(q.data, items.data, d, idx.data(), idx.size(), sub.data());
          for (size_t j = 0; j < idx.size(); ++j) CHECK_EQ(sub[j], outv[size_t(idx[j])]);
        }
      }
    }
  }
}

void check_score_tile(const rb::KernelTable& kt) {
  const size_t qb = kt.query_block;
  CHECK(qb > 0);
  for (size_t d : {size_t(1), size_t(5), size_t(16), size_t(31), size_t(64)}) {
    for (size_t n : {size_t(1), size_t(7), size_t(40)}) {
      const auto qv = int_values(qb * d, 11 + unsigned(d));  // qb queries, row-major
      const auto iv = int_values(n * d, 13 + unsigned(n));
      AlignedFloats pack(qb * d);
      for (size_t c = 0; c < qb; ++c)
        for (size_t k = 0; k < d; ++k) pack[k * qb + c] = qv[c * d + k];
      Shifted items(iv, 1);
      AlignedFloats tile(n * qb);
      kt.score_tile(pack.data, items.data, n, d, tile.data);
      for (size_t i = 0; i < n; ++i)
        for (size_t c = 0; c < qb; ++c) CHECK_EQ(double(tile[i * qb + c]), dot_ref(&qv[c * d], items.data + i * d, d));
    }
  }
}

void check_candidates(const rb::KernelTable& kt) {
  for (size_t n = 0; n <= 70; ++n) {
    auto s = int_values(n, 17 + unsigned(n), -5, 5);
    if (n > 4) s[3] = std::numeric_limits<float>::quiet_NaN();  // NaN never passes >= thr
    const float thr = 1.f;
    std::vector<uint32_t> out(n + 1);
    const size_t got = kt.candidates(n ? s.data() : nullptr, n, thr, out.data());
    std::vector<uint32_t> want;
    for (size_t i = 0; i < n; ++i)
      if (s[i] >= thr) want.push_back(uint32_t(i));
    CHECK_EQ(got, want.size());
    for (size_t i = 0; i < std::min(got, want.size()); ++i) CHECK_EQ(out[i], want[i]);
  }
  const size_t qb = kt.query_block;
  for (size_t n : {size_t(1), size_t(9), size_t(33)}) {
    const auto tile = int_values(n * qb, 19 + unsigned(n), -5, 5);
    std::vector<float> thr(qb);
    for (size_t c = 0; c < qb; ++c) thr[c] = float(int(c % 7) - 3);
    std::vector<uint32_t> out(n * qb);
    const size_t got = kt.tile_candidates(tile.data(), n, thr.data(), out.data());
    std::vector<uint32_t> want;
    for (size_t p = 0; p < n * qb; ++p)
      if (tile[p] >= thr[p % qb]) want.push_back(uint32_t(p));
    CHECK_EQ(got, want.size());
    for (size_t i = 0; i < std::min(got, want.size()); ++i) CHECK_EQ(out[i], want[i]);
  }
}

void check_vector_ops(const rb::KernelTable& kt) {
  for (size_t d = 1; d <= 65; ++d) {
    const auto a = int_values(d, 23 + unsigned(d)), b = int_values(d, 29 + unsigned(d)),
               c = int_values(d, 31 + unsigned(d));
    Shifted x(a, d % 3), y(b, 1), z(c, 2);
    CHECK_EQ(double(kt.dot(x.data, y.data, d)), dot_ref(x.data, y.data, d));
    double diff = 0;
    for (size_t k = 0; k < d; ++k) diff += double(a[k]) * (double(b[k]) - double(c[k]));
    CHECK_EQ(double(kt.dot_diff(x.data, y.data, z.data, d)), diff);
    kt.axpy(2.f, x.data, y.data, d);
    bool ok = true;
    for (size_t k = 0; k < d; ++k) ok &= y.data[k] == b[k] + 2.f * a[k];
    CHECK(ok);
    kt.scale(-0.5f, y.data, d);
    ok = true;
    for (size_t k = 0; k < d; ++k) ok &= y.data[k] == -0.5f * (b[k] + 2.f * a[k]);
    CHECK(ok);
  }
  // Length 0 with null pointers is legal everywhere (Node-API hands NULL for empty arrays).
  kt.axpy(1.f, nullptr, nullptr, 0);
  kt.scale(1.f, nullptr, 0);
  CHECK_EQ(kt.dot(nullptr, nullptr, 0), 0.f);
  const std::vector<float> q(8, 1.f);  // zero rows: the query is real, the item pointer may be null
  kt.score_rows(q.data(), nullptr, 0, 8, nullptr);
}

}  // namespace

TEST_CASE("primitives: every ISA path matches the float64 reference") {
  const auto isas = runnable_isas();
  CHECK(!isas.empty() && isas[0] == 0);
  for (int isa : isas) {
    CHECK(rb::force_isa(isa));
    const auto& kt = rb::active_kernels();
    std::fprintf(stderr, "    isa %s\n", kt.name);
    check_score_rows(kt, true);
    check_score_rows(kt, false);
    check_score_tile(kt);
    check_candidates(kt);
    check_vector_ops(kt);
  }
  rb::reset_isa();
}

TEST_CASE("primitives: force_isa rejects unknown levels") {
  CHECK(!rb::force_isa(-1));
  CHECK(!rb::force_isa(3));
  rb::reset_isa();
}

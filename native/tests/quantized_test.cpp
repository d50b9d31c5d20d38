// Quantized tables, native side. Regression cases found by native/fuzz/quantized_fuzz; the broad
// numerics are covered by the jest suite (test/serving/quantized.test.ts).
#include <cmath>
#include <limits>

#include "../kernels/quantized.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

TEST_CASE("quantized: an int8 row or query holding NaN scores NaN and is never returned, on every path") {
  // Found by quantized_fuzz: std::max skipped the NaN when finding the row's scale, then the NaN
  // code clamped to 127, so the NaN row scored like a large positive entry and came first.
  const size_t rows = 3, dim = 5;
  std::vector<float> items = int_values(rows * dim, 11, -3, 3);
  items[1 * dim + 2] = std::numeric_limits<float>::quiet_NaN();
  for (size_t k = 0; k < dim; ++k) items[2 * dim + k] = -1.f;  // a clearly worse row than row 1 would be
  std::vector<int8_t> codes(rows * dim);
  std::vector<float> scale(rows);
  std::vector<int32_t> rowsum(rows);
  rb::quantize_i8(items.data(), 0, rows, dim, codes.data(), scale.data(), rowsum.data());
  CHECK(std::isnan(scale[1]));
  CHECK(!std::isnan(scale[0]) && !std::isnan(scale[2]));
  rb::QuantTable t{rb::QuantKind::Int8, nullptr, codes.data(), scale.data(), rowsum.data(), rows, dim};
  const std::vector<float> q(dim, 1.f);
  std::vector<float> nan_query(q);
  nan_query[4] = std::numeric_limits<float>::quiet_NaN();
  for (int isa : runnable_isas())
    for (bool ext : {false, true}) {
      rb::force_isa(isa);
      rb::use_isa_extensions(ext);
      float s[rows];
      rb::quant_score(t, q.data(), nullptr, 0, s, 1);
      CHECK(std::isnan(s[1]));
      rb::TopKOptions opt;
      opt.k = rows;
      int32_t idx[rows];
      float sc[rows];
      const size_t n = rb::quant_topk(t, q.data(), opt, nullptr, 0, 0, nullptr, idx, sc);
      CHECK_EQ(n, size_t(2));
      for (size_t i = 0; i < n; ++i) CHECK(idx[i] != 1);
      // A NaN query scores nothing, as with float32 tables.
      CHECK_EQ(rb::quant_topk(t, nan_query.data(), opt, nullptr, 0, 0, nullptr, idx, sc), size_t(0));
    }
  rb::reset_isa();
  rb::use_isa_extensions(true);
}

// Quantized tables (quantized.h): bf16 and int8 encoding, scoring and top-K (with and without the
// float32 rerank) on every kernel variant this CPU has (scalar, AVX2, AVX-512, AVX-512 BF16+VNNI).
//
// Oracles:
// - encoding: bf16 is the float rounded to nearest even (checked against an independent rounding in
//   float64); int8 codes are round(x / s) within [-127, 127] with s = max|x| / 127 and the row sum
//   of the codes;
// - int8 scores are bit-identical on every path and equal (float(dot) * s_i) * s_q from an integer
//   dot product of the codes; bf16 scores are within float32 summation error of the exact sum of
//   the bf16 products (bit-identical when every value is a small integer);
// - against the float32 dot product, the error bounds of the numerics note (finite tables);
// - top-K equals a brute-force selection over quant_score from the same path; with rerank, the
//   exact float32 top-k among the brute-force best max(rerank, k); with rerank covering every
//   candidate, exactly topk_one's result;
// - rows containing NaN are never returned (as for float32 tables).
#include <set>

#include "../kernels/quantized.h"
#include "../kernels/scoring.h"
#include "fuzz_support.h"

using namespace rbfuzz;

namespace {

struct Case {
  rb::QuantKind kind = rb::QuantKind::Bf16;
  size_t rows = 0, dim = 1, k = 0, rerank = 0, threads = 1;
  Values values = Values::SmallInt;
  bool specials = false, has_allow = false, with_f32 = false, with_subset = false;
  std::vector<float> items, query;
  std::vector<int32_t> exclude, block, allow, subset;
};

Case make_case(Source& src) {
  Case c;
  c.kind = src.flag() ? rb::QuantKind::Int8 : rb::QuantKind::Bf16;
  c.rows = src.range<size_t>(0, 300);
  // Up to 160: the AVX-512 kernels specialise up to 4 (bf16) or 2 (int8) chunks and loop beyond.
  c.dim = src.range<size_t>(1, 160);
  if (c.rows * c.dim > 2560) c.rows = 2560 / c.dim;
  c.k = src.flag() ? src.range<size_t>(0, 12) : src.range<size_t>(0, c.rows + 5);
  c.threads = src.range<size_t>(1, 2);
  c.values = src.flag() ? Values::General : Values::SmallInt;
  c.specials = c.values == Values::SmallInt && src.flag();
  c.items.resize(c.rows * c.dim);
  fill(src, c.items, c.values, c.specials);
  // The TS layer rejects non-finite queries; the kernel still gets them when lib/ is bypassed.
  c.query.resize(c.dim);
  fill(src, c.query, c.values, c.specials && src.flag());
  c.exclude = raw_ids(src, c.rows, 8);
  std::sort(c.exclude.begin(), c.exclude.end());
  c.block = raw_ids(src, c.rows, 8);
  std::sort(c.block.begin(), c.block.end());
  c.has_allow = src.flag();
  if (c.has_allow) c.allow = binding_list(raw_ids(src, c.rows, 24), c.rows);
  c.with_f32 = src.flag();
  if (c.with_f32) c.rerank = src.flag() ? src.range<size_t>(0, 12) : src.range<size_t>(0, c.rows + 2);
  c.with_subset = src.flag();
  // A scoring subset may repeat rows (the binding only range-checks it).
  if (c.with_subset) {
    c.subset = binding_list(raw_ids(src, c.rows, 12), c.rows);
    if (!c.subset.empty()) c.subset.push_back(c.subset[0]);
  }
  return c;
}

FUZZ_REFERENCE bool in_sorted(const std::vector<int32_t>& v, int32_t x) {
  return std::binary_search(v.begin(), v.end(), x);
}

FUZZ_REFERENCE bool eligible(const Case& c, int32_t i) {
  if (c.has_allow ? !in_sorted(c.allow, i) : (i < 0 || static_cast<size_t>(i) >= c.rows)) return false;
  return !in_sorted(c.exclude, i) && !in_sorted(c.block, i);
}

FUZZ_REFERENCE bool row_has_nan(const Case& c, size_t r) {
  for (size_t k = 0; k < c.dim; ++k)
    if (std::isnan(c.items[r * c.dim + k])) return true;
  return false;
}

FUZZ_REFERENCE bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// Nearest bf16 (ties to even) by comparing the two neighbours in float64: an independent check of
// the bit trick in float_to_bf16.
FUZZ_REFERENCE void check_bf16(float x, uint16_t h) {
  if (std::isnan(x)) {
    FUZZ_CHECK(std::isnan(rb::bf16_to_float(h)), "bf16 of NaN is %04x", h);
    return;
  }
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint16_t down = static_cast<uint16_t>(u >> 16), up = static_cast<uint16_t>(down + 1);
  const double dx = x, dd = rb::bf16_to_float(down), du = rb::bf16_to_float(up);
  uint16_t want;
  if ((u & 0xFFFFu) == 0) {
    want = down;
  } else if (std::isinf(du)) {
    return;  // past the largest finite bf16: the generators never make such values
  } else {
    const double ed = std::fabs(dx - dd), eu = std::fabs(du - dx);
    want = ed < eu ? down : eu < ed ? up : ((down & 1) ? up : down);
  }
  FUZZ_CHECK(h == want, "bf16 of %a is %04x, nearest-even is %04x", x, h, want);
}

FUZZ_REFERENCE void check_i8_row(const float* x, size_t d, const int8_t* codes, float scale, const int32_t* sum) {
  float m = 0.f;
  bool has_nan = false;
  for (size_t k = 0; k < d; ++k) {
    if (std::isnan(x[k]))
      has_nan = true;
    else
      m = std::max(m, std::fabs(x[k]));
  }
  int64_t s = 0;
  for (size_t k = 0; k < d; ++k) s += codes[k];
  if (sum) FUZZ_CHECK(*sum == s, "int8 row sum %d, codes sum to %lld", *sum, static_cast<long long>(s));
  if (has_nan) {
    FUZZ_CHECK(std::isnan(scale), "int8 row with NaN has scale %a (its rows must never be returned)", scale);
    return;
  }
  if (!(m > 0.f) || !std::isfinite(m)) {
    FUZZ_CHECK(scale == 0.f && s == 0, "int8 all-zero or infinite row: scale %a", scale);
    for (size_t k = 0; k < d; ++k) FUZZ_CHECK(codes[k] == 0, "int8 zero row code %d", codes[k]);
    return;
  }
  FUZZ_CHECK(scale == m / 127.f, "int8 scale %a, max|x| / 127 is %a", scale, m / 127.f);
  for (size_t k = 0; k < d; ++k) {
    FUZZ_CHECK(codes[k] >= -127 && codes[k] <= 127, "int8 code %d", codes[k]);
    const double want = static_cast<double>(x[k]) * 127.0 / m;
    FUZZ_CHECK(std::fabs(want - codes[k]) <= 0.5 + 1e-5, "int8 code %d for %a (x / s = %f)", codes[k], x[k], want);
  }
}

struct Encoded {
  std::vector<uint16_t> bf16;
  std::vector<int8_t> i8;
  std::vector<float> scale;
  std::vector<int32_t> rowsum;
  std::vector<uint16_t> q_bf16;
  std::vector<int8_t> q_i8;
  float q_scale = 0.f;
};

FUZZ_REFERENCE double ref_score(const Case& c, const Encoded& e, size_t r, double* magnitude) {
  double s = 0, m = 0;
  if (c.kind == rb::QuantKind::Bf16) {
    for (size_t k = 0; k < c.dim; ++k) {
      const double p = static_cast<double>(rb::bf16_to_float(e.q_bf16[k])) * rb::bf16_to_float(e.bf16[r * c.dim + k]);
      s += p;
      m += std::fabs(p);
    }
  } else {
    int64_t dot = 0;
    for (size_t k = 0; k < c.dim; ++k) dot += static_cast<int64_t>(e.q_i8[k]) * e.i8[r * c.dim + k];
    s = (static_cast<float>(dot) * e.scale[r]) * e.q_scale;
  }
  if (magnitude) *magnitude = m;
  return s;
}

// quant_score from the current path: checked against the reference, returned for the top-K checks.
FUZZ_REFERENCE std::vector<float> check_scores(const Case& c, const Encoded& e, const rb::QuantTable& t,
                                               const char* path) {
  std::vector<float> got(c.rows);
  rb::quant_score(t, c.query.data(), nullptr, 0, got.data(), c.threads);
  const bool exact = c.kind == rb::QuantKind::Int8 || c.values == Values::SmallInt;
  for (size_t r = 0; r < c.rows; ++r) {
    double mag = 0;
    const double ref = ref_score(c, e, r, &mag);
    if (exact)
      FUZZ_CHECK(same_bits(got[r], static_cast<float>(ref)), "%s row %zu: %a vs reference %a", path, r, got[r],
                 static_cast<float>(ref));
    else
      FUZZ_CHECK(std::fabs(got[r] - ref) <= (c.dim + 2) * std::ldexp(1.0, -23) * mag + 1e-37,
                 "%s row %zu: %a vs exact %a", path, r, got[r], ref);
    if (row_has_nan(c, r)) FUZZ_CHECK(std::isnan(got[r]), "%s: row %zu holds NaN but scores %a", path, r, got[r]);
  }
  if (!c.subset.empty()) {
    const Exact<int32_t> sub(c.subset);
    std::vector<float> part(c.subset.size());
    rb::quant_score(t, c.query.data(), sub.data(), sub.n, part.data(), c.threads);
    for (size_t j = 0; j < c.subset.size(); ++j)
      FUZZ_CHECK(same_bits(part[j], got[static_cast<size_t>(c.subset[j])]), "%s subset row %d: %a vs %a", path,
                 c.subset[j], part[j], got[static_cast<size_t>(c.subset[j])]);
  }
  return got;
}

// The documented bounds against float32 (finite tables and queries only).
FUZZ_REFERENCE void check_bounds(const Case& c, const Encoded& e, const std::vector<float>& got) {
  if (!all_finite(c.items) || !all_finite(c.query)) return;
  for (size_t r = 0; r < c.rows; ++r) {
    const float* x = &c.items[r * c.dim];
    double exact = 0, mag = 0, q1 = 0, x1 = 0;
    for (size_t k = 0; k < c.dim; ++k) {
      exact += static_cast<double>(c.query[k]) * x[k];
      mag += std::fabs(static_cast<double>(c.query[k]) * x[k]);
      q1 += std::fabs(c.query[k]);
      x1 += std::fabs(x[k]);
    }
    double bound;
    if (c.kind == rb::QuantKind::Bf16) {
      bound = (std::ldexp(1.0, -7) + std::ldexp(1.0, -16)) * mag + (c.dim + 2) * std::ldexp(1.0, -23) * 1.01 * mag;
    } else {
      const double s = e.scale[r], sq = e.q_scale;
      bound = (q1 * s + x1 * sq) / 2 + c.dim * s * sq / 4;
      bound += 4 * std::ldexp(1.0, -23) * (std::fabs(exact) + bound);  // float32 rounding of the products
    }
    FUZZ_CHECK(std::fabs(got[r] - exact) <= bound + 1e-37, "row %zu: quantized %a vs float32 %a, bound %a", r, got[r],
               exact, bound);
  }
}

FUZZ_REFERENCE std::vector<rb::Scored> best(const Case& c, const std::vector<float>& score_of_row, size_t keep) {
  std::vector<rb::Scored> all;
  for (size_t r = 0; r < c.rows; ++r)
    if (eligible(c, static_cast<int32_t>(r)) && !std::isnan(score_of_row[r]))
      all.push_back({score_of_row[r], static_cast<int32_t>(r)});
  std::sort(all.begin(), all.end(), rb::ranks_before);
  if (all.size() > keep) all.resize(keep);
  return all;
}

FUZZ_REFERENCE void check_topk(const Case& c, const rb::QuantTable& t, const rb::ItemTable& f32,
                               const std::vector<float>& qscore, const Exact<int32_t>& excl, const rb::TopKOptions& opt,
                               const char* path) {
  const size_t n_domain = c.has_allow ? c.allow.size() : c.rows;
  const size_t cap = std::min(c.k, n_domain);
  Exact<int32_t> oi(std::vector<int32_t>(cap, -7));
  Exact<float> os(std::vector<float>(cap, 0.f));
  const size_t n = rb::quant_topk(t, c.query.data(), opt, excl.data(), excl.n, c.rerank, c.with_f32 ? &f32 : nullptr,
                                  oi.data(), os.data());
  std::vector<rb::Scored> want;
  if (!c.with_f32 || c.rerank == 0 || c.k == 0) {
    want = best(c, qscore, c.k);
  } else {
    // The quantized best max(rerank, k), re-scored in float32 by the same kernel as topk_one.
    const size_t keep = std::min(std::max(c.rerank, c.k), n_domain);
    const auto cand = best(c, qscore, keep);
    std::vector<int32_t> ids;
    for (const auto& s : cand) ids.push_back(s.index);
    std::sort(ids.begin(), ids.end());
    std::vector<float> exact(ids.size());
    if (!ids.empty()) rb::score_items(f32, c.query.data(), ids.data(), ids.size(), exact.data(), 1);
    for (size_t j = 0; j < ids.size(); ++j)
      if (!std::isnan(exact[j])) want.push_back({exact[j], ids[j]});
    std::sort(want.begin(), want.end(), rb::ranks_before);
    if (want.size() > c.k) want.resize(c.k);
  }
  FUZZ_CHECK(n == want.size(), "%s quant_topk: %zu results, reference %zu", path, n, want.size());
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(oi.data()[i] == want[i].index && same_bits(os.data()[i], want[i].score),
               "%s quant_topk rank %zu: (%d, %a) vs (%d, %a)", path, i, oi.data()[i], os.data()[i], want[i].index,
               want[i].score);
    FUZZ_CHECK(!row_has_nan(c, static_cast<size_t>(oi.data()[i])), "%s quant_topk returned row %d, which holds NaN",
               path, oi.data()[i]);
  }
  if (c.with_f32 && c.rerank >= n_domain && c.k > 0) {
    // A rerank that covers every candidate row is the float32 top-K, bit for bit... unless a NaN row
    // was left out by the quantized scan that float32 would also leave out: same thing.
    Exact<int32_t> fi(std::vector<int32_t>(cap, -7));
    Exact<float> fs(std::vector<float>(cap, 0.f));
    const size_t fn = rb::topk_one(f32, c.query.data(), opt, excl.data(), excl.n, fi.data(), fs.data());
    // Rows the quantized scan cannot score (NaN quantized score, finite float32) are the only
    // allowed difference; with a NaN-free table there is none.
    bool nan_free = true;
    for (size_t r = 0; r < c.rows; ++r) nan_free = nan_free && !std::isnan(qscore[r]);
    if (nan_free) {
      FUZZ_CHECK(fn == n, "%s full rerank: %zu results, topk_one %zu", path, n, fn);
      for (size_t i = 0; i < n; ++i)
        FUZZ_CHECK(fi.data()[i] == oi.data()[i] && same_bits(fs.data()[i], os.data()[i]),
                   "%s full rerank rank %zu: (%d, %a) vs topk_one (%d, %a)", path, i, oi.data()[i], os.data()[i],
                   fi.data()[i], fs.data()[i]);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Source src(fdp);
  const Case c = make_case(src);
  const size_t cells = c.rows * c.dim;

  Encoded e;
  e.bf16.resize(cells);
  e.i8.resize(cells);
  e.scale.resize(c.rows);
  e.rowsum.resize(c.rows);
  e.q_bf16.resize(c.dim);
  e.q_i8.resize(c.dim);
  for (size_t k = 0; k < c.dim; ++k) e.q_bf16[k] = rb::float_to_bf16(c.query[k]);
  e.q_scale = rb::quantize_i8_query(c.query.data(), c.dim, e.q_i8.data());
  rb::QuantTable t{};
  t.kind = c.kind;
  t.rows = c.rows;
  t.dim = c.dim;
  // Exact-size copies of what the binding would hand over (ASan sees any read past a row).
  const Exact<float> items(c.items);
  std::unique_ptr<uint16_t[]> bf16(cells ? new uint16_t[cells] : nullptr);
  std::unique_ptr<int8_t[]> i8(cells ? new int8_t[cells] : nullptr);
  std::unique_ptr<float[]> scale(c.rows ? new float[c.rows] : nullptr);
  std::unique_ptr<int32_t[]> rowsum(c.rows ? new int32_t[c.rows] : nullptr);
  if (c.kind == rb::QuantKind::Bf16) {
    rb::quantize_bf16(items.data(), 0, c.rows, c.dim, bf16.get());
    std::copy(bf16.get(), bf16.get() + cells, e.bf16.begin());
    for (size_t j = 0; j < cells; ++j) check_bf16(c.items[j], e.bf16[j]);
    for (size_t k = 0; k < c.dim; ++k) check_bf16(c.query[k], e.q_bf16[k]);
    t.bf16 = bf16.get();
  } else {
    rb::quantize_i8(items.data(), 0, c.rows, c.dim, i8.get(), scale.get(), rowsum.get());
    std::copy(i8.get(), i8.get() + cells, e.i8.begin());
    std::copy(scale.get(), scale.get() + c.rows, e.scale.begin());
    std::copy(rowsum.get(), rowsum.get() + c.rows, e.rowsum.begin());
    for (size_t r = 0; r < c.rows; ++r)
      check_i8_row(&c.items[r * c.dim], c.dim, &e.i8[r * c.dim], e.scale[r], &e.rowsum[r]);
    check_i8_row(c.query.data(), c.dim, e.q_i8.data(), e.q_scale, nullptr);
    t.i8 = i8.get();
    t.scale = scale.get();
    t.rowsum = rowsum.get();
  }

  const rb::ItemTable f32{items.data(), c.rows, c.dim};
  const Exact<int32_t> excl(c.exclude), block(c.block), allow(c.allow);
  const rb::TopKOptions opt = topk_options(c, block, allow);

  std::vector<float> first;
  for (int isa : isas())
    for (int ext = 0; ext < (isa == 2 && rb::cpu_has_avx512_bf16_vnni() ? 2 : 1); ++ext) {
      rb::force_isa(isa);
      rb::use_isa_extensions(ext == 1);
      const char* path = rb::active_quant_kernels().name;
      const std::vector<float> got = check_scores(c, e, t, path);
      if (first.empty()) {
        first = got;
        check_bounds(c, e, got);
      }
      check_topk(c, t, f32, got, excl, opt, path);
    }
  rb::reset_isa();
  rb::use_isa_extensions(true);
  return 0;
}

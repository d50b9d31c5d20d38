// Exact top-K (scoring.h, topk_heap.h) on every ISA level against a brute-force reference.
//
// Oracles:
// - small-integer tables (with NaN, infinities and signed zeros sprinkled in): every score is exact,
//   so topk_one, topk_batch and score_items must equal the float64 reference bit for bit on every
//   ISA: same items, same order (score descending, ties to the lower index), NaN rows never returned;
// - general finite tables: topk_one must equal a brute-force selection over score_items' scores from
//   the same ISA (the same per-row kernel), and every score must be within float32 rounding of the
//   float64 dot product; topk_batch (a different, tiled kernel) must return eligible, distinct,
//   correctly ordered items whose scores are within rounding of the reference and beat, within
//   rounding, every eligible item it left out.
// Exclusion and block lists arrive sorted but may hold duplicates and ids outside the table (the
// batch binding passes duplicates through; the kernel only searches these lists). Allow-lists are
// what the binding makes of raw ids: in range, sorted, duplicate-free. Output buffers are exactly
// as long as the binding requires, so a write past them is an ASan report.
#include <set>

#include "../kernels/scoring.h"
#include "fuzz_support.h"

using namespace rbfuzz;

namespace {

struct Case {
  size_t rows = 0, dim = 1, k = 0, nq = 0, threads = 1;
  Values kind = Values::SmallInt;
  std::vector<float> items, queries;
  std::vector<std::vector<int32_t>> exclude;  // per query, sorted
  std::vector<int32_t> block, allow;
  bool has_allow = false;
};

FUZZ_REFERENCE bool in_sorted(const std::vector<int32_t>& v, int32_t x) {
  return std::binary_search(v.begin(), v.end(), x);
}

FUZZ_REFERENCE bool eligible(const Case& c, size_t q, int32_t i) {
  if (c.has_allow ? !in_sorted(c.allow, i) : (i < 0 || static_cast<size_t>(i) >= c.rows)) return false;
  return !in_sorted(c.exclude[q], i) && !in_sorted(c.block, i);
}

FUZZ_REFERENCE double dot64(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t k = 0; k < d; ++k) s += static_cast<double>(a[k]) * static_cast<double>(b[k]);
  return s;
}

FUZZ_REFERENCE double abs_dot64(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t k = 0; k < d; ++k) s += std::fabs(static_cast<double>(a[k]) * static_cast<double>(b[k]));
  return s;
}

// float32 accumulation in any order (with or without FMA) stays within this of the exact dot.
FUZZ_REFERENCE double tolerance(const Case& c, const float* q, int32_t i) {
  return (static_cast<double>(c.dim) + 2) * std::ldexp(1.0, -23) *
             abs_dot64(q, &c.items[static_cast<size_t>(i) * c.dim], c.dim) +
         1e-37;
}

// Best min(k, eligible) of the given per-row scores (indexed by row), NaN never kept.
FUZZ_REFERENCE std::vector<rb::Scored> select(const Case& c, size_t q, const std::vector<float>& score_of_row) {
  std::vector<rb::Scored> all;
  for (size_t i = 0; i < c.rows; ++i) {
    const int32_t id = static_cast<int32_t>(i);
    if (eligible(c, q, id) && !std::isnan(score_of_row[i])) all.push_back({score_of_row[i], id});
  }
  std::sort(all.begin(), all.end(), rb::ranks_before);
  if (all.size() > c.k) all.resize(c.k);
  return all;
}

Case make_case(Source& src) {
  Case c;
  c.rows = src.range<size_t>(0, 300);
  c.dim = src.range<size_t>(1, 67);
  if (c.rows * c.dim > 2560) c.rows = 2560 / c.dim;
  c.nq = src.flag() ? src.range<size_t>(0, 4) : src.range<size_t>(0, 40);
  if (c.nq * c.rows * c.dim > 8192) c.nq = 8192 / (c.rows * c.dim);
  c.k = src.flag() ? src.range<size_t>(0, 12) : src.range<size_t>(0, c.rows + 5);
  // Two threads only now and then: on a loaded machine every hand-off to a helper thread waits for
  // the scheduler, which would dominate the run.
  c.threads = src.range<int>(0, 7) == 0 ? 2 : 1;
  c.kind = src.flag() ? Values::General : Values::SmallInt;
  const bool specials = c.kind == Values::SmallInt && src.flag();
  c.items.resize(c.rows * c.dim);
  fill(src, c.items, c.kind, specials);
  c.queries.resize(std::max<size_t>(c.nq, 1) * c.dim);
  fill(src, c.queries, c.kind, specials && src.flag());
  for (size_t q = 0; q < std::max<size_t>(c.nq, 1); ++q) {
    std::vector<int32_t> ex = raw_ids(src, c.rows, 8);
    std::sort(ex.begin(), ex.end());
    c.exclude.push_back(ex);
  }
  c.block = raw_ids(src, c.rows, 8);
  std::sort(c.block.begin(), c.block.end());
  c.has_allow = src.flag();
  if (c.has_allow) c.allow = binding_list(raw_ids(src, c.rows, 24), c.rows);
  return c;
}

FUZZ_REFERENCE void check_single(const Case& c, const rb::ItemTable& t, const rb::TopKOptions& opt, int isa) {
  const size_t nq1 = std::max<size_t>(c.nq, 1);
  for (size_t q = 0; q < nq1; ++q) {
    const float* qv = &c.queries[q * c.dim];
    // Reference scores: float64 when exact, else this ISA's score_items (same per-row kernel).
    std::vector<float> row_score(c.rows);
    if (c.kind == Values::SmallInt) {
      for (size_t i = 0; i < c.rows; ++i) row_score[i] = static_cast<float>(dot64(qv, &c.items[i * c.dim], c.dim));
      std::vector<float> got(c.rows);
      rb::score_items(t, qv, nullptr, 0, got.data(), c.threads);
      for (size_t i = 0; i < c.rows; ++i)
        FUZZ_CHECK(same_bits(got[i], row_score[i]), "isa %d score_items row %zu: %a vs reference %a", isa, i, got[i],
                   row_score[i]);
    } else {
      rb::score_items(t, qv, nullptr, 0, row_score.data(), c.threads);
      for (size_t i = 0; i < c.rows; ++i) {
        const double ref = dot64(qv, &c.items[i * c.dim], c.dim);
        FUZZ_CHECK(std::fabs(row_score[i] - ref) <= tolerance(c, qv, static_cast<int32_t>(i)),
                   "isa %d score_items row %zu: %a vs float64 %a", isa, i, row_score[i], ref);
      }
    }
    if (c.has_allow && !c.allow.empty()) {
      // The subset path (score_indexed) must give each listed row the score of the full scan.
      const Exact<int32_t> subset(c.allow);
      std::vector<float> sub(c.allow.size());
      rb::score_items(t, qv, subset.data(), subset.n, sub.data(), c.threads);
      for (size_t j = 0; j < c.allow.size(); ++j)
        FUZZ_CHECK(same_bits(sub[j], row_score[static_cast<size_t>(c.allow[j])]),
                   "isa %d subset score of row %d: %a vs %a", isa, c.allow[j], sub[j],
                   row_score[static_cast<size_t>(c.allow[j])]);
    }

    const auto want = select(c, q, row_score);
    const size_t cap = std::min(c.k, c.has_allow ? c.allow.size() : c.rows);
    const Exact<int32_t> ex(c.exclude[q]);
    std::vector<int32_t> idx_init(cap, -7);
    std::vector<float> score_init(cap, 0.f);
    Exact<int32_t> out_idx(idx_init);
    Exact<float> out_scores(score_init);
    const size_t n = rb::topk_one(t, qv, opt, ex.data(), ex.n, out_idx.data(), out_scores.data());
    FUZZ_CHECK(n == want.size(), "isa %d topk_one query %zu: %zu results, reference %zu", isa, q, n, want.size());
    for (size_t i = 0; i < n; ++i)
      FUZZ_CHECK(out_idx.data()[i] == want[i].index && same_bits(out_scores.data()[i], want[i].score),
                 "isa %d topk_one query %zu rank %zu: (%d, %a) vs reference (%d, %a)", isa, q, i, out_idx.data()[i],
                 out_scores.data()[i], want[i].index, want[i].score);
  }
}

FUZZ_REFERENCE void check_batch(const Case& c, const rb::ItemTable& t, const rb::TopKOptions& opt, int isa) {
  std::vector<int32_t> off{0}, flat;
  for (size_t q = 0; q < c.nq; ++q) {
    flat.insert(flat.end(), c.exclude[q].begin(), c.exclude[q].end());
    off.push_back(static_cast<int32_t>(flat.size()));
  }
  const Exact<int32_t> excl_off(off), excl_idx(flat);
  const Exact<float> queries(
      std::vector<float>(c.queries.begin(), c.queries.begin() + static_cast<ptrdiff_t>(c.nq * c.dim)));
  Exact<int32_t> out_idx(std::vector<int32_t>(c.nq * c.k, -7));
  Exact<float> out_scores(std::vector<float>(c.nq * c.k, 0.f));
  Exact<int32_t> counts(std::vector<int32_t>(c.nq, -7));
  std::atomic<int> cancel{0};
  const bool done = rb::topk_batch(t, queries.data(), c.nq, opt, excl_off.data(), excl_idx.data(), &cancel,
                                   out_idx.data(), out_scores.data(), counts.data());
  FUZZ_CHECK(done, "isa %d topk_batch reported cancellation", isa);
  for (size_t q = 0; q < c.nq; ++q) {
    const float* qv = &c.queries[q * c.dim];
    const int32_t* oi = out_idx.data() + q * c.k;
    const float* os = out_scores.data() + q * c.k;
    const size_t n = static_cast<size_t>(counts.data()[q]);
    for (size_t i = n; i < c.k; ++i)
      FUZZ_CHECK(oi[i] == -1 && std::isnan(os[i]), "isa %d batch query %zu unused slot %zu: (%d, %a)", isa, q, i, oi[i],
                 os[i]);
    if (c.kind == Values::SmallInt) {
      std::vector<float> row_score(c.rows);
      for (size_t i = 0; i < c.rows; ++i) row_score[i] = static_cast<float>(dot64(qv, &c.items[i * c.dim], c.dim));
      const auto want = select(c, q, row_score);
      FUZZ_CHECK(n == want.size(), "isa %d batch query %zu: %zu results, reference %zu", isa, q, n, want.size());
      for (size_t i = 0; i < n; ++i)
        FUZZ_CHECK(oi[i] == want[i].index && same_bits(os[i], want[i].score),
                   "isa %d batch query %zu rank %zu: (%d, %a) vs reference (%d, %a)", isa, q, i, oi[i], os[i],
                   want[i].index, want[i].score);
      continue;
    }
    size_t n_eligible = 0;
    for (size_t i = 0; i < c.rows; ++i) n_eligible += eligible(c, q, static_cast<int32_t>(i));
    FUZZ_CHECK(n == std::min(c.k, n_eligible), "isa %d batch query %zu: %zu results of %zu eligible, k %zu", isa, q, n,
               n_eligible, c.k);
    std::set<int32_t> returned;
    double worst_kept = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      FUZZ_CHECK(eligible(c, q, oi[i]) && returned.insert(oi[i]).second,
                 "isa %d batch query %zu: item %d not eligible or repeated", isa, q, oi[i]);
      if (i)
        FUZZ_CHECK(rb::ranks_before({os[i - 1], oi[i - 1]}, {os[i], oi[i]}),
                   "isa %d batch query %zu: ranks %zu, %zu out of order", isa, q, i - 1, i);
      const double ref = dot64(qv, &c.items[static_cast<size_t>(oi[i]) * c.dim], c.dim);
      const double tol = tolerance(c, qv, oi[i]);
      FUZZ_CHECK(std::fabs(os[i] - ref) <= tol, "isa %d batch query %zu item %d: %a vs float64 %a", isa, q, oi[i],
                 os[i], ref);
      worst_kept = std::min(worst_kept, ref + tol);
    }
    if (n == c.k)
      for (size_t i = 0; i < c.rows; ++i) {
        const int32_t id = static_cast<int32_t>(i);
        if (!eligible(c, q, id) || returned.count(id)) continue;
        const double ref = dot64(qv, &c.items[i * c.dim], c.dim);
        FUZZ_CHECK(ref - tolerance(c, qv, id) <= worst_kept,
                   "isa %d batch query %zu: left out item %zu (%a) beats the kept ones", isa, q, i, ref);
      }
  }
  // Threads split the batch by query groups, so the thread count must not change a single bit.
  if (opt.threads > 1) {
    rb::TopKOptions one = opt;
    one.threads = 1;
    std::vector<int32_t> idx1(c.nq * c.k), counts1(c.nq);
    std::vector<float> scores1(c.nq * c.k);
    rb::topk_batch(t, queries.data(), c.nq, one, excl_off.data(), excl_idx.data(), nullptr, idx1.data(), scores1.data(),
                   counts1.data());
    for (size_t i = 0; i < c.nq * c.k; ++i)
      FUZZ_CHECK(idx1[i] == out_idx.data()[i] && same_bits(scores1[i], out_scores.data()[i]),
                 "isa %d batch slot %zu differs between 1 and %zu threads", isa, i, opt.threads);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Source src(fdp);
  const Case c = make_case(src);
  const Exact<float> items(c.items);
  const Exact<int32_t> block(c.block), allow(c.allow);
  const rb::ItemTable t{items.data(), c.rows, c.dim};
  const rb::TopKOptions opt = topk_options(c, block, allow);
  for (int isa : isas()) {
    rb::force_isa(isa);
    check_single(c, t, opt, isa);
    check_batch(c, t, opt, isa);
  }
  rb::reset_isa();
  return 0;
}

// Item-item neighbourhoods (item_knn.h): build from interactions, then query the graph, against
// brute-force references on small inputs.
//
// Interactions arrive as the binding accepts them: per user, item ids sorted and unique within
// [0, items) (raw ids with duplicates and out-of-range values are normalised first, as lib/ does),
// empty users allowed, values positive and finite. Query and candidate ranges are arbitrary
// sub-ranges. Oracles for knn_build:
// - moderate values: every kept neighbour is a real co-occurrence (not the item itself, inside the
//   candidate range, listed once), its score is within float32 rounding of the float64 similarity
//   (cosine, TF-IDF or BM25, shrinkage), each row keeps min(neighbours, co-occurring candidates),
//   and nothing left out beats the kept ones beyond rounding;
// - any values (up to the float32 maximum, where scores overflow): the same structure, and the
//   documented bit-level promises: sim(i, j) == sim(j, i) bit for bit, any thread count gives the
//   same graph.
// Queries run on the built graph and on an arbitrary graph as knnFromArrays accepts it (rows in
// any order, repeated neighbours, negative scores): knn_row, knn_recommend (histories with
// out-of-range and repeated ids, arbitrary weights including NaN), knn_recommend_batch and
// knn_scores must equal a reference that sums in the documented order, bit for bit.
#include <atomic>
#include <map>
#include <set>

#include "../kernels/item_knn.h"
#include "../kernels/topk_heap.h"
#include "fuzz_support.h"

using namespace rbfuzz;

namespace {

struct Interactions {
  size_t users = 0, items = 0;
  std::vector<int32_t> offsets{0}, indices;
  std::vector<float> values;  // empty: all ones
};

Interactions make_interactions(Source& src, bool extreme) {
  Interactions m;
  m.items = src.range<size_t>(0, 90);
  m.users = src.range<size_t>(0, 40);
  const bool valued = src.flag();
  for (size_t u = 0; u < m.users; ++u) {
    const auto ids = binding_list(raw_ids(src, m.items, 10), m.items);
    m.indices.insert(m.indices.end(), ids.begin(), ids.end());
    m.offsets.push_back(static_cast<int32_t>(m.indices.size()));
  }
  if (valued) {
    m.values.resize(m.indices.size());
    for (float& x : m.values) {
      const uint32_t r = static_cast<uint32_t>(src.next());
      // Moderate: small integers and powers of two in [2^-8, 2^8]; extreme: any positive finite.
      x = extreme ? std::fabs(general_value(r)) * std::ldexp(1.f, static_cast<int>(r % 68))
                  : std::ldexp(1.f + (r >> 8) % 4, static_cast<int>(r % 17) - 8);
      if (!(x > 0) || !std::isfinite(x)) x = std::numeric_limits<float>::max();
    }
  }
  return m;
}

// Per-entry weights as item_knn.h defines them, in float64.
FUZZ_REFERENCE std::vector<double> ref_weights(const Interactions& m, const rb::KnnBuildOptions& opt) {
  std::vector<double> w(m.indices.size());
  const double log_n = std::log(static_cast<double>(std::max<size_t>(m.items, 1)));
  std::vector<double> length(m.items, 0.0);
  double total = 0;
  for (size_t e = 0; e < m.indices.size(); ++e) {
    const double x = m.values.empty() ? 1.0 : m.values[e];
    length[static_cast<size_t>(m.indices[e])] += x;
    total += x;
  }
  double avg = m.items ? total / static_cast<double>(m.items) : 1.0;
  if (!(avg > 0)) avg = 1;
  for (size_t u = 0; u < m.users; ++u) {
    const double idf = log_n - std::log1p(static_cast<double>(m.offsets[u + 1] - m.offsets[u]));
    for (int32_t p = m.offsets[u]; p < m.offsets[u + 1]; ++p) {
      const double x = m.values.empty() ? 1.0 : m.values[static_cast<size_t>(p)];
      if (opt.weighting == rb::KnnWeighting::Cosine)
        w[static_cast<size_t>(p)] = x;
      else if (opt.weighting == rb::KnnWeighting::TfIdf)
        w[static_cast<size_t>(p)] = std::sqrt(x) * idf;
      else {
        const double norm =
            (1.0 - opt.b) + opt.b * length[static_cast<size_t>(m.indices[static_cast<size_t>(p)])] / avg;
        w[static_cast<size_t>(p)] = x * (opt.k1 + 1.0) / (opt.k1 * norm + x) * idf;
      }
    }
  }
  return w;
}

struct RefSim {
  double sim = 0, magnitude = 0;
  uint32_t count = 0;
};

// Dense items x items similarities with co-user counts.
FUZZ_REFERENCE std::vector<RefSim> ref_similarities(const Interactions& m, const rb::KnnBuildOptions& opt) {
  const auto w = ref_weights(m, opt);
  const size_t n = m.items;
  std::vector<RefSim> s(n * n);
  std::vector<double> sq(n, 0.0);
  for (size_t u = 0; u < m.users; ++u)
    for (int32_t p = m.offsets[u]; p < m.offsets[u + 1]; ++p) {
      const size_t i = static_cast<size_t>(m.indices[static_cast<size_t>(p)]);
      sq[i] += w[static_cast<size_t>(p)] * w[static_cast<size_t>(p)];
      for (int32_t q = m.offsets[u]; q < m.offsets[u + 1]; ++q) {
        const size_t j = static_cast<size_t>(m.indices[static_cast<size_t>(q)]);
        RefSim& r = s[i * n + j];
        r.sim += w[static_cast<size_t>(p)] * w[static_cast<size_t>(q)];
        r.magnitude += std::fabs(w[static_cast<size_t>(p)] * w[static_cast<size_t>(q)]);
        ++r.count;
      }
    }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      RefSim& r = s[i * n + j];
      if (opt.weighting == rb::KnnWeighting::Cosine && r.count) {
        const double d = std::sqrt(sq[i]) * std::sqrt(sq[j]);
        r.sim /= d;
        r.magnitude /= d;
      }
      if (opt.shrink > 0) r.sim *= r.count / (r.count + static_cast<double>(opt.shrink));
    }
  return s;
}

FUZZ_REFERENCE void check_build(const Interactions& m, const rb::KnnBuildOptions& opt, const rb::KnnGraph& g,
                                bool extreme) {
  const size_t nq = opt.query_end - opt.query_begin, nc = opt.cand_end - opt.cand_begin;
  const size_t keep = std::min(opt.neighbours, nc);
  FUZZ_CHECK(g.rows == nq && g.cols == nc && g.offsets.size() == nq + 1 && g.offsets[0] == 0, "graph shape %zu x %zu",
             g.rows, g.cols);
  FUZZ_CHECK(static_cast<size_t>(g.offsets[nq]) == g.indices.size() && g.scores.size() == g.indices.size(),
             "graph sizes");
  const auto ref = ref_similarities(m, opt);
  const size_t n = m.items;
  for (size_t r = 0; r < nq; ++r) {
    const size_t item = opt.query_begin + r;
    FUZZ_CHECK(g.offsets[r + 1] >= g.offsets[r] && static_cast<size_t>(g.offsets[r + 1] - g.offsets[r]) <= keep,
               "row %zu length", r);
    std::set<int32_t> kept;
    double worst = std::numeric_limits<double>::infinity();
    for (int32_t p = g.offsets[r]; p < g.offsets[r + 1]; ++p) {
      const int32_t j = g.indices[static_cast<size_t>(p)];
      FUZZ_CHECK(j >= 0 && static_cast<size_t>(j) < nc && kept.insert(j).second,
                 "row %zu: neighbour %d out of range or repeated", r, j);
      const size_t cand = opt.cand_begin + static_cast<size_t>(j);
      FUZZ_CHECK(cand != item, "item %zu is its own neighbour", item);
      const RefSim& s = ref[item * n + cand];
      FUZZ_CHECK(s.count > 0, "item %zu: neighbour %zu shares no user", item, cand);
      if (extreme) continue;
      const float got = g.scores[static_cast<size_t>(p)];
      const double tol = (s.count + 8) * std::ldexp(1.0, -20) * (s.magnitude + std::fabs(s.sim)) + 1e-30;
      FUZZ_CHECK(std::fabs(got - s.sim) <= tol, "item %zu neighbour %zu: %a vs float64 %a (tol %a)", item, cand, got,
                 s.sim, tol);
      worst = std::min(worst, s.sim + tol);
    }
    if (extreme) continue;
    size_t co = 0;
    for (size_t j = 0; j < nc; ++j) {
      const size_t cand = opt.cand_begin + j;
      const RefSim& s = ref[item * n + cand];
      if (cand == item || s.count == 0) continue;
      ++co;
      if (kept.count(static_cast<int32_t>(j)) || kept.size() < keep) continue;
      const double tol = (s.count + 8) * std::ldexp(1.0, -20) * (s.magnitude + std::fabs(s.sim)) + 1e-30;
      FUZZ_CHECK(s.sim - tol <= worst, "item %zu: left-out neighbour %zu (%a) beats the kept ones", item, cand, s.sim);
    }
    FUZZ_CHECK(kept.size() == std::min(keep, co), "item %zu keeps %zu of %zu co-occurring candidates, neighbours %zu",
               item, kept.size(), co, keep);
  }
  // sim(i, j) and sim(j, i) are bit-identical whenever both were kept.
  std::map<std::pair<size_t, size_t>, float> seen;
  for (size_t r = 0; r < nq; ++r)
    for (int32_t p = g.offsets[r]; p < g.offsets[r + 1]; ++p)
      seen[{opt.query_begin + r, opt.cand_begin + static_cast<size_t>(g.indices[static_cast<size_t>(p)])}] =
          g.scores[static_cast<size_t>(p)];
  for (const auto& e : seen) {
    const auto it = seen.find({e.first.second, e.first.first});
    if (it != seen.end())
      FUZZ_CHECK(same_bits(it->second, e.second), "sim(%zu, %zu) = %a but sim(%zu, %zu) = %a", e.first.first,
                 e.first.second, e.second, e.first.second, e.first.first, it->second);
  }
}

// A graph as knnFromArrays accepts it: offsets non-decreasing, indices in [0, cols) (repeats
// allowed), finite scores of either sign.
rb::KnnGraph make_graph(Source& src) {
  rb::KnnGraph g;
  g.rows = src.range<size_t>(0, 40);
  g.cols = src.range<size_t>(0, 60);
  g.offsets.push_back(0);
  for (size_t r = 0; r < g.rows; ++r) {
    const size_t len = g.cols ? src.range<size_t>(0, 8) : 0;
    for (size_t t = 0; t < len; ++t) {
      g.indices.push_back(static_cast<int32_t>(src.next() % g.cols));
      const int v = static_cast<int>(src.next() % 9) - 4;
      g.scores.push_back(src.flag() ? static_cast<float>(v) : general_value(static_cast<uint32_t>(src.next())) / 1e10f);
    }
    g.offsets.push_back(static_cast<int32_t>(g.indices.size()));
  }
  return g;
}

struct Query {
  std::vector<int32_t> hist, excl;
  std::vector<float> w;  // empty: no weights
};

Query make_query(Source& src, const rb::KnnGraph& g) {
  Query q;
  q.hist = raw_ids(src, g.rows, 8);
  if (src.flag()) {
    q.w.resize(q.hist.size());
    for (float& x : q.w) {
      const int kind = src.range<int>(0, 9);
      x = kind < 6   ? static_cast<float>(kind) - 1.f
          : kind < 8 ? general_value(static_cast<uint32_t>(src.next())) / 1e12f
                     : special(kind - 8);
    }
  }
  q.excl = raw_ids(src, g.cols, 6);
  std::sort(q.excl.begin(), q.excl.end());
  return q;
}

// Scores in the documented summation order (history order, then row order), in float32.
FUZZ_REFERENCE void ref_accumulate(const rb::KnnGraph& g, const Query& q, bool mean, float shrink,
                                   std::vector<float>* score, std::vector<char>* touched, size_t* skipped) {
  std::vector<float> acc(g.cols, 0.f), wsum(g.cols, 0.f);
  touched->assign(g.cols, 0);
  *skipped = 0;
  for (size_t t = 0; t < q.hist.size(); ++t) {
    const int32_t i = q.hist[t];
    if (i < 0 || static_cast<size_t>(i) >= g.rows) {
      ++*skipped;
      continue;
    }
    const float wi = q.w.empty() ? 1.f : q.w[t];
    for (int32_t p = g.offsets[static_cast<size_t>(i)]; p < g.offsets[static_cast<size_t>(i) + 1]; ++p) {
      const size_t j = static_cast<size_t>(g.indices[static_cast<size_t>(p)]);
      acc[j] += wi * g.scores[static_cast<size_t>(p)];
      wsum[j] += wi;
      (*touched)[j] = 1;
    }
  }
  score->assign(g.cols, 0.f);
  for (size_t j = 0; j < g.cols; ++j) {
    if (!(*touched)[j]) continue;
    if (!mean)
      (*score)[j] = acc[j];
    else {
      const float d = wsum[j] + shrink;
      (*score)[j] = d > 0 ? acc[j] / d : 0.f;
    }
  }
}

FUZZ_REFERENCE std::vector<rb::Scored> ref_recommend(const rb::KnnGraph& g, const Query& q,
                                                     const rb::KnnQueryOptions& opt, size_t* skipped) {
  std::vector<float> score;
  std::vector<char> touched;
  ref_accumulate(g, q, opt.mean, opt.shrink, &score, &touched, skipped);
  std::vector<int32_t> hist_sorted(q.hist);
  std::sort(hist_sorted.begin(), hist_sorted.end());
  std::vector<rb::Scored> all;
  for (size_t j = 0; j < g.cols; ++j) {
    const int32_t id = static_cast<int32_t>(j);
    if (!touched[j] || std::isnan(score[j]) || std::binary_search(q.excl.begin(), q.excl.end(), id)) continue;
    if (opt.exclude_history && std::binary_search(hist_sorted.begin(), hist_sorted.end(), id)) continue;
    all.push_back({score[j], id});
  }
  std::sort(all.begin(), all.end(), rb::ranks_before);
  if (all.size() > opt.k) all.resize(opt.k);
  return all;
}

FUZZ_REFERENCE void check_queries(Source& src, const rb::KnnGraph& g) {
  // knn_row on every row (k capped to the row length, as the binding does).
  for (size_t r = 0; r < g.rows; ++r) {
    const size_t len = static_cast<size_t>(g.offsets[r + 1] - g.offsets[r]);
    const size_t k = std::min(len, src.range<size_t>(1, 10));
    std::vector<int32_t> excl = raw_ids(src, g.cols, 4);
    std::sort(excl.begin(), excl.end());
    std::vector<rb::Scored> want;
    for (int32_t p = g.offsets[r]; p < g.offsets[r + 1]; ++p)
      if (!std::binary_search(excl.begin(), excl.end(), g.indices[static_cast<size_t>(p)]))
        want.push_back({g.scores[static_cast<size_t>(p)], g.indices[static_cast<size_t>(p)]});
    std::sort(want.begin(), want.end(), rb::ranks_before);
    if (want.size() > k) want.resize(k);
    const Exact<int32_t> ex(excl);
    Exact<int32_t> oi(std::vector<int32_t>(k, -7));
    Exact<float> os(std::vector<float>(k, 0.f));
    const size_t n = rb::knn_row(g, r, k, ex.data(), ex.n, oi.data(), os.data());
    FUZZ_CHECK(n == want.size(), "knn_row %zu: %zu results, reference %zu", r, n, want.size());
    for (size_t i = 0; i < n; ++i)
      FUZZ_CHECK(oi.data()[i] == want[i].index && same_bits(os.data()[i], want[i].score),
                 "knn_row %zu rank %zu: (%d, %a) vs (%d, %a)", r, i, oi.data()[i], os.data()[i], want[i].index,
                 want[i].score);
  }

  rb::KnnQueryOptions opt;
  opt.k = std::min(g.cols, src.range<size_t>(1, 12));  // the binding caps k at the column count
  opt.mean = src.flag();
  opt.shrink = src.flag() ? static_cast<float>(src.range<int>(0, 4)) : 0.f;
  opt.exclude_history = src.flag();
  const size_t nq = src.range<size_t>(1, 20);
  std::vector<Query> qs;
  for (size_t i = 0; i < nq; ++i) qs.push_back(make_query(src, g));
  rb::KnnScratch scratch;
  for (size_t i = 0; i < nq; ++i) {
    const Query& q = qs[i];
    size_t want_skipped = 0;
    const auto want = ref_recommend(g, q, opt, &want_skipped);
    const Exact<int32_t> hist(q.hist), ex(q.excl);
    const Exact<float> w(q.w);
    Exact<int32_t> oi(std::vector<int32_t>(opt.k, -7));
    Exact<float> os(std::vector<float>(opt.k, 0.f));
    size_t skipped = 99;
    const size_t n = rb::knn_recommend(g, hist.data(), w.data(), hist.n, ex.data(), ex.n, opt, scratch, oi.data(),
                                       os.data(), &skipped);
    FUZZ_CHECK(skipped == want_skipped, "knn_recommend skipped %zu, reference %zu", skipped, want_skipped);
    FUZZ_CHECK(n == want.size(), "knn_recommend query %zu: %zu results, reference %zu", i, n, want.size());
    for (size_t r = 0; r < n; ++r)
      FUZZ_CHECK(oi.data()[r] == want[r].index && same_bits(os.data()[r], want[r].score),
                 "knn_recommend query %zu rank %zu: (%d, %a) vs (%d, %a)", i, r, oi.data()[r], os.data()[r],
                 want[r].index, want[r].score);
    // Dense scores (the scratch must have been left clean by the call above).
    std::vector<float> dense_want;
    std::vector<char> touched;
    ref_accumulate(g, q, opt.mean, opt.shrink, &dense_want, &touched, &want_skipped);
    std::vector<float> dense_init(g.cols, 7.f);
    Exact<float> dense(dense_init);
    FUZZ_CHECK(
        rb::knn_scores(g, hist.data(), w.data(), hist.n, opt.mean, opt.shrink, scratch, dense.data()) == want_skipped,
        "knn_scores skipped");
    for (size_t j = 0; j < g.cols; ++j)
      FUZZ_CHECK(same_bits(dense.data()[j], dense_want[j]), "knn_scores query %zu column %zu: %a vs %a", i, j,
                 dense.data()[j], dense_want[j]);
  }

  // The batch driver: the same answers, unused slots -1 and NaN, any thread count.
  const bool weighted = src.flag(), with_excl = src.flag();
  std::vector<int32_t> hoff{0}, hidx, eoff{0}, eidx;
  std::vector<float> hw;
  for (const Query& q : qs) {
    hidx.insert(hidx.end(), q.hist.begin(), q.hist.end());
    for (size_t t = 0; t < q.hist.size(); ++t) hw.push_back(weighted && !q.w.empty() ? q.w[t] : 1.f);
    hoff.push_back(static_cast<int32_t>(hidx.size()));
    eidx.insert(eidx.end(), q.excl.begin(), q.excl.end());
    eoff.push_back(static_cast<int32_t>(eidx.size()));
  }
  const Exact<int32_t> xhoff(hoff), xhidx(hidx), xeoff(eoff), xeidx(eidx);
  const Exact<float> xhw(hw);
  const size_t threads = src.range<size_t>(1, 2);
  Exact<int32_t> oi(std::vector<int32_t>(nq * opt.k, -7)), counts(std::vector<int32_t>(nq, -7)),
      skipped(std::vector<int32_t>(nq, -7));
  Exact<float> os(std::vector<float>(nq * opt.k, 0.f));
  std::atomic<int> cancel{0};
  const bool done = rb::knn_recommend_batch(g, xhoff.data(), xhidx.data(), weighted ? xhw.data() : nullptr, nq,
                                            with_excl ? xeoff.data() : nullptr, xeidx.data(), opt, threads, &cancel,
                                            oi.data(), os.data(), counts.data(), skipped.data());
  FUZZ_CHECK(done, "knn_recommend_batch reported cancellation");
  for (size_t i = 0; i < nq; ++i) {
    Query q = qs[i];
    if (!weighted)
      q.w.clear();
    else if (q.w.empty())
      q.w.assign(q.hist.size(), 1.f);
    if (!with_excl) q.excl.clear();
    size_t want_skipped = 0;
    const auto want = ref_recommend(g, q, opt, &want_skipped);
    FUZZ_CHECK(
        static_cast<size_t>(skipped.data()[i]) == want_skipped && static_cast<size_t>(counts.data()[i]) == want.size(),
        "batch query %zu: %d results, %d skipped; reference %zu, %zu", i, counts.data()[i], skipped.data()[i],
        want.size(), want_skipped);
    for (size_t r = 0; r < opt.k; ++r) {
      const int32_t gi = oi.data()[i * opt.k + r];
      const float gs = os.data()[i * opt.k + r];
      if (r < want.size())
        FUZZ_CHECK(gi == want[r].index && same_bits(gs, want[r].score),
                   "batch query %zu rank %zu: (%d, %a) vs (%d, %a)", i, r, gi, gs, want[r].index, want[r].score);
      else
        FUZZ_CHECK(gi == -1 && std::isnan(gs), "batch query %zu unused slot %zu: (%d, %a)", i, r, gi, gs);
    }
  }
}

FUZZ_REFERENCE bool same_graph(const rb::KnnGraph& a, const rb::KnnGraph& b) {
  if (a.offsets != b.offsets || a.indices != b.indices || a.scores.size() != b.scores.size()) return false;
  for (size_t p = 0; p < a.scores.size(); ++p)
    if (!same_bits(a.scores[p], b.scores[p])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Source src(fdp);
  if (src.flag()) {
    // An imported graph, straight to the queries.
    const rb::KnnGraph g = make_graph(src);
    check_queries(src, g);
    return 0;
  }
  const bool extreme = src.range<int>(0, 3) == 0;
  const Interactions m = make_interactions(src, extreme);
  rb::KnnBuildOptions opt;
  opt.weighting = static_cast<rb::KnnWeighting>(src.range<int>(0, 2));
  opt.k1 = src.flag() ? 1.2f : static_cast<float>(src.range<int>(0, 40)) / 10.f;
  opt.b = src.flag() ? 0.75f : static_cast<float>(src.range<int>(0, 8)) / 8.f;
  opt.shrink = src.flag() ? 0.f : static_cast<float>(src.range<int>(0, 20)) / 4.f;
  opt.neighbours = src.flag() ? src.range<size_t>(1, 6) : src.range<size_t>(1, 100);
  opt.query_begin = src.range<size_t>(0, m.items);
  opt.query_end = src.range<size_t>(opt.query_begin, m.items);
  opt.cand_begin = src.range<size_t>(0, m.items);
  opt.cand_end = src.range<size_t>(opt.cand_begin, m.items);
  if (src.flag()) opt.query_begin = opt.cand_begin = 0, opt.query_end = opt.cand_end = m.items;
  opt.threads = 1;

  const Exact<int32_t> offsets(m.offsets), indices(m.indices);
  const Exact<float> values(m.values);
  rb::KnnMatrix km;
  km.users = m.users;
  km.items = m.items;
  km.offsets = offsets.data();
  km.indices = indices.data();
  km.values = values.data();
  rb::KnnGraph g;
  std::atomic<int> cancel{0};
  FUZZ_CHECK(rb::knn_build(km, opt, &cancel, &g), "knn_build reported cancellation");
  check_build(m, opt, g, extreme);
  if (opt.query_end - opt.query_begin > 64) {  // more than one block of rows: threads take part
    rb::KnnBuildOptions two = opt;
    two.threads = 2;
    rb::KnnGraph g2;
    rb::knn_build(km, two, nullptr, &g2);
    FUZZ_CHECK(same_graph(g, g2), "knn_build differs between 1 and 2 threads");
  }
  rb::KnnGraph sorted = g;
  rb::knn_sort_rows(&sorted, 1);
  for (size_t r = 0; r < sorted.rows; ++r) {
    std::vector<rb::Scored> row;
    for (int32_t p = g.offsets[r]; p < g.offsets[r + 1]; ++p)
      row.push_back({g.scores[static_cast<size_t>(p)], g.indices[static_cast<size_t>(p)]});
    std::sort(row.begin(), row.end(), rb::ranks_before);
    for (size_t t = 0; t < row.size(); ++t) {
      const size_t p = static_cast<size_t>(sorted.offsets[r]) + t;
      FUZZ_CHECK(sorted.indices[p] == row[t].index && same_bits(sorted.scores[p], row[t].score),
                 "knn_sort_rows row %zu slot %zu", r, t);
    }
  }
  check_queries(src, g);
  return 0;
}

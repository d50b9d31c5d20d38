// Exact top-K drivers against a brute-force reference: sorted by score then index, filters applied
// before selection, NaN rows never returned, and the batch driver equal to the single-query one for
// every ISA and thread count. Integer data makes ties common, which is where order bugs hide.
#include <algorithm>
#include <atomic>
#include <limits>
#include <set>

#include "../kernels/scoring.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

namespace {

std::vector<rb::Scored> reference(const std::vector<float>& items, size_t rows, size_t dim, const float* q, size_t k,
                                  const std::set<int32_t>& excluded, const std::vector<int32_t>* allow) {
  std::vector<rb::Scored> all;
  auto consider = [&](int32_t i) {
    if (excluded.count(i)) return;
    const double s = dot_ref(q, &items[size_t(i) * dim], dim);
    if (std::isnan(s)) return;
    all.push_back({float(s), i});
  };
  if (allow)
    for (int32_t i : *allow) consider(i);
  else
    for (size_t i = 0; i < rows; ++i) consider(int32_t(i));
  std::sort(all.begin(), all.end(), rb::ranks_before);
  if (all.size() > k) all.resize(k);
  return all;
}

struct Scenario {
  size_t rows, dim, k;
  std::vector<int32_t> exclude, block, allow;
  bool has_allow;
};

std::vector<Scenario> scenarios() {
  std::vector<Scenario> out;
  for (size_t rows : {size_t(1), size_t(5), size_t(64), size_t(300), size_t(1031)})
    for (size_t dim : {size_t(1), size_t(7), size_t(32)})
      for (size_t k : {size_t(1), size_t(10), size_t(2000)}) {
        Scenario s{rows, dim, k, {}, {}, {}, false};
        for (size_t i = 1; i < rows; i += 3) s.exclude.push_back(int32_t(i));
        for (size_t i = 2; i < rows; i += 11) s.block.push_back(int32_t(i));
        out.push_back(s);
        Scenario a = s;
        a.has_allow = true;
        for (size_t i = 0; i < rows; i += 2) a.allow.push_back(int32_t(i));
        out.push_back(a);
      }
  return out;
}

void run_scenario(const Scenario& s, size_t threads) {
  auto items = int_values(s.rows * s.dim, unsigned(s.rows * 31 + s.dim), -2, 2);
  if (s.rows > 4) items[4 * s.dim] = std::numeric_limits<float>::quiet_NaN();  // row 4 is NaN
  const size_t nq = 5;
  const auto queries = int_values(nq * s.dim, unsigned(s.dim + 5), -2, 2);
  rb::ItemTable t{items.data(), s.rows, s.dim};
  rb::TopKOptions opt;
  opt.k = s.k;
  opt.threads = threads;
  opt.has_allow = s.has_allow;
  opt.allow = s.allow.empty() ? nullptr : s.allow.data();
  opt.allow_len = s.allow.size();
  opt.block = s.block.empty() ? nullptr : s.block.data();
  opt.block_len = s.block.size();

  // Batch: query q excludes s.exclude shifted by q (still sorted, unique, in range).
  std::vector<int32_t> off{0}, idx;
  for (size_t q = 0; q < nq; ++q) {
    for (int32_t e : s.exclude)
      if (e + int32_t(q) < int32_t(s.rows)) idx.push_back(e + int32_t(q));
    off.push_back(int32_t(idx.size()));
  }
  std::vector<int32_t> bidx(nq * s.k), bcounts(nq);
  std::vector<float> bscores(nq * s.k);
  std::atomic<int> cancel{0};
  CHECK(rb::topk_batch(t, queries.data(), nq, opt, off.data(), idx.empty() ? nullptr : idx.data(), &cancel, bidx.data(),
                       bscores.data(), bcounts.data()));

  for (size_t q = 0; q < nq; ++q) {
    const int32_t* ex = idx.data() + off[q];
    const size_t exn = size_t(off[q + 1] - off[q]);
    std::set<int32_t> excluded(ex, ex + exn);
    excluded.insert(s.block.begin(), s.block.end());
    const auto want =
        reference(items, s.rows, s.dim, &queries[q * s.dim], s.k, excluded, s.has_allow ? &s.allow : nullptr);
    std::vector<int32_t> oi(s.k, -7);
    std::vector<float> os(s.k);
    const size_t got = rb::topk_one(t, &queries[q * s.dim], opt, exn ? ex : nullptr, exn, oi.data(), os.data());
    bool same = got == want.size();
    for (size_t i = 0; same && i < got; ++i) same = oi[i] == want[i].index && os[i] == want[i].score;
    CHECK(same);
    bool batch_same = size_t(bcounts[q]) == want.size();
    for (size_t i = 0; batch_same && i < want.size(); ++i)
      batch_same = bidx[q * s.k + i] == want[i].index && bscores[q * s.k + i] == want[i].score;
    for (size_t i = want.size(); batch_same && i < s.k; ++i)
      batch_same = bidx[q * s.k + i] == -1 && std::isnan(bscores[q * s.k + i]);
    CHECK(batch_same);
  }
}

}  // namespace

TEST_CASE("topk: single and batch drivers equal the brute-force reference on every ISA and thread count") {
  for (int isa : runnable_isas()) {
    rb::force_isa(isa);
    for (size_t threads : {size_t(1), size_t(2), size_t(4)})
      for (const auto& s : scenarios()) run_scenario(s, threads);
  }
  rb::reset_isa();
}

TEST_CASE("topk: empty inputs and k = 0 return nothing and write nothing") {
  rb::ItemTable empty{nullptr, 0, 8};
  rb::TopKOptions opt;
  opt.k = 5;
  const std::vector<float> q(8, 1.f);
  int32_t oi[5] = {-9, -9, -9, -9, -9};
  float os[5] = {};
  CHECK_EQ(rb::topk_one(empty, q.data(), opt, nullptr, 0, oi, os), size_t(0));
  CHECK_EQ(oi[0], -9);
  const auto items = int_values(40, 3);
  rb::ItemTable t{items.data(), 5, 8};
  opt.k = 0;
  CHECK_EQ(rb::topk_one(t, q.data(), opt, nullptr, 0, oi, os), size_t(0));
  opt.k = 3;
  opt.has_allow = true;  // an empty allow-list admits nothing
  CHECK_EQ(rb::topk_one(t, q.data(), opt, nullptr, 0, oi, os), size_t(0));
  // A batch of zero queries.
  rb::TopKOptions bopt;
  bopt.k = 3;
  CHECK(rb::topk_batch(t, nullptr, 0, bopt, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
}

TEST_CASE("topk: a cancelled batch stops and says so") {
  const size_t rows = 2000, dim = 16, nq = 512, k = 10;
  const auto items = normal_values(rows * dim, 5);
  const auto queries = normal_values(nq * dim, 6);
  rb::ItemTable t{items.data(), rows, dim};
  rb::TopKOptions opt;
  opt.k = k;
  opt.threads = 2;
  std::vector<int32_t> oi(nq * k), counts(nq);
  std::vector<float> os(nq * k);
  std::atomic<int> cancel{1};
  CHECK(!rb::topk_batch(t, queries.data(), nq, opt, nullptr, nullptr, &cancel, oi.data(), os.data(), counts.data()));
}

TEST_CASE("topk: score_items with and without a subset, any thread count") {
  const size_t rows = 1500, dim = 33;
  const auto items = normal_values(rows * dim, 8);
  const auto q = normal_values(dim, 9);
  rb::ItemTable t{items.data(), rows, dim};
  std::vector<float> one(rows), two(rows);
  rb::score_items(t, q.data(), nullptr, rows, one.data(), 1);
  rb::score_items(t, q.data(), nullptr, rows, two.data(), 3);
  CHECK(one == two);
  std::vector<int32_t> subset{1499, 0, 7, 7, 1000};
  std::vector<float> sub(subset.size());
  rb::score_items(t, q.data(), subset.data(), subset.size(), sub.data(), 2);
  for (size_t j = 0; j < subset.size(); ++j) CHECK_NEAR(sub[j], one[size_t(subset[j])], 1e-4);
}

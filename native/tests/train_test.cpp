// Training: the per-ISA update rules against the textbook formulas in float64, and whole epochs
// (mf_chunk) for every loss, optimizer and sampler — reproducible with one thread, learning on a
// planted block structure, frozen rows bit-identical, bad indices counted instead of dereferenced.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "../kernels/rng.h"
#include "../kernels/train_mf.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

TEST_CASE("train: sgd and adagrad triple steps equal the float64 formulas on every ISA") {
  for (int isa : runnable_isas()) {
    rb::force_isa(isa);
    const auto& kt = rb::active_kernels();
    for (size_t d = 1; d <= 65; d += 4) {
      const auto u0 = normal_values(d, 1), i0 = normal_values(d, 2), j0 = normal_values(d, 3);
      const float g = 0.3f, lu = 0.05f, li = 0.04f, lj = 0.03f, l2 = 0.01f, eps = 1e-8f;
      Shifted u(u0, 1), vi(i0, 2), vj(j0, 3);
      kt.sgd_triple(u.data, vi.data, vj.data, d, g, lu, li, lj, l2);
      for (size_t k = 0; k < d; ++k) {
        const double uk = u0[k], ik = i0[k], jk = j0[k];
        CHECK_NEAR(u.data[k], uk + lu * (g * (ik - jk) - l2 * uk), 1e-6);
        CHECK_NEAR(vi.data[k], ik + li * (g * uk - l2 * ik), 1e-6);
        CHECK_NEAR(vj.data[k], jk + lj * (-g * uk - l2 * jk), 1e-6);
      }
      // Adagrad from accumulators of 1.
      Shifted a(u0, 0), b(i0, 1), c(j0, 2);
      std::vector<float> ones(d, 1.f);
      Shifted au(ones, 1), ai(ones, 2), aj(ones, 3);
      kt.adagrad_triple(a.data, b.data, c.data, au.data, ai.data, aj.data, d, g, lu, li, lj, l2, eps);
      for (size_t k = 0; k < d; ++k) {
        const double uk = u0[k], ik = i0[k], jk = j0[k];
        const double su = g * (ik - jk) - l2 * uk, si = g * uk - l2 * ik, sj = -g * uk - l2 * jk;
        CHECK_NEAR(au.data[k], 1 + su * su, 1e-5);
        CHECK_NEAR(a.data[k], uk + lu * su / (std::sqrt(1 + su * su) + eps), 1e-5);
        CHECK_NEAR(b.data[k], ik + li * si / (std::sqrt(1 + si * si) + eps), 1e-5);
        CHECK_NEAR(c.data[k], jk + lj * sj / (std::sqrt(1 + sj * sj) + eps), 1e-5);
      }
      // A zero learning rate leaves that row (and its accumulator) bit-identical.
      Shifted x(u0, 0), y(i0, 0), z(j0, 0);
      kt.adagrad_triple(x.data, y.data, z.data, au.data, ai.data, aj.data, d, g, 0.f, li, lj, l2, eps);
      CHECK(std::memcmp(x.data, u0.data(), d * sizeof(float)) == 0);
      CHECK_NEAR(au.data[0], 1 + std::pow(g * (i0[0] - j0[0]) - l2 * u0[0], 2), 1e-5);
    }
  }
  rb::reset_isa();
}

namespace {

// Interactions (u[k], i[k]) with the users' sorted positive lists off/idx (CSR).
rb::MfData csr_data(const std::vector<int32_t>& u, const std::vector<int32_t>& i, const std::vector<int32_t>& off,
                    const std::vector<int32_t>& idx) {
  rb::MfData d;
  d.users = u.data();
  d.items = i.data();
  d.n = u.size();
  d.pos_off = off.data();
  d.pos_idx = idx.data();
  d.pos_off_len = off.size();
  d.pos_idx_len = idx.size();
  return d;
}

// Users 0..U/2 like items 0..I/2, the rest like the rest: a model that learns ranks in-block first.
struct Planted {
  size_t users = 40, items = 30, dim = 8;
  std::vector<int32_t> u, i, pos_off, pos_idx;
  std::vector<float> values;
  Planted() {
    pos_off.push_back(0);
    for (size_t a = 0; a < users; ++a) {
      const size_t lo = a < users / 2 ? 0 : items / 2, hi = a < users / 2 ? items / 2 : items;
      for (size_t b = lo; b < hi; b += 2) {  // every other in-block item: held-out ones must rank too
        u.push_back(int32_t(a));
        i.push_back(int32_t(b));
        values.push_back(4.f);
        pos_idx.push_back(int32_t(b));
      }
      pos_off.push_back(int32_t(pos_idx.size()));
    }
  }
  rb::MfData data() const {
    rb::MfData d = csr_data(u, i, pos_off, pos_idx);
    d.values = values.data();
    return d;
  }
};

struct Model {
  std::vector<float> uw, iw, bw, us, is, bs;
  std::vector<uint8_t> frozen;
  rb::TrainParam user, item, bias;
  Model(const Planted& p, rb::OptimizerKind opt) {
    uw = normal_values(p.users * p.dim, 41);
    iw = normal_values(p.items * p.dim, 42);
    for (auto& x : uw) x *= 0.1f;
    for (auto& x : iw) x *= 0.1f;
    bw.assign(p.items, 0.f);
    auto state_size = [&](size_t rows, size_t dim) -> size_t {
      switch (opt) {
        case rb::OptimizerKind::Sgd:
          return 0;
        case rb::OptimizerKind::Adagrad:
          return rows * dim;
        case rb::OptimizerKind::RowwiseAdagrad:
          return rows;
        case rb::OptimizerKind::Adam:
          return 2 * rows * dim + rows;
      }
      return 0;
    };
    us.assign(state_size(p.users, p.dim), 0.f);
    is.assign(state_size(p.items, p.dim), 0.f);
    bs.assign(state_size(p.items, 1), 0.f);
    frozen.assign(p.items, 0);
    user = {uw.data(), p.users, p.dim, us.empty() ? nullptr : us.data(), nullptr, 1.f};
    item = {iw.data(), p.items, p.dim, is.empty() ? nullptr : is.data(), frozen.data(), 1.f};
    bias = {bw.data(), p.items, 1, bs.empty() ? nullptr : bs.data(), frozen.data(), 1.f};
  }
  // Share of (user, in-block item) vs (user, out-of-block item) pairs ranked correctly.
  double auc(const Planted& p) const {
    size_t good = 0, total = 0;
    for (size_t a = 0; a < p.users; ++a)
      for (size_t x = 0; x < p.items; ++x)
        for (size_t y = 0; y < p.items; ++y) {
          const bool xin = (a < p.users / 2) == (x < p.items / 2), yin = (a < p.users / 2) == (y < p.items / 2);
          if (!xin || yin) continue;
          const double sx = dot_ref(&uw[a * p.dim], &iw[x * p.dim], p.dim) + bw[x];
          const double sy = dot_ref(&uw[a * p.dim], &iw[y * p.dim], p.dim) + bw[y];
          good += sx > sy;
          ++total;
        }
    return double(good) / double(total);
  }
};

rb::MfResult epochs(Model& m, const Planted& p, rb::MfConfig cfg, int n, const std::vector<int32_t>* bad = nullptr) {
  rb::MfData data = p.data();
  if (bad) {  // records from the interaction arrays, where the bad users are
    data.users = bad->data();
    data.pos_off = data.pos_idx = nullptr;
  }
  data.num_items = m.item.rows;
  std::vector<int32_t> records(data.n * rb::mf_record_stride(rb::mf_records(data, cfg)));
  rb::MfResult last;
  for (int e = 0; e < n; ++e) {
    cfg.epoch = uint64_t(e);
    rb::shuffle_records(data, cfg, records.data());
    last = rb::mf_chunk(m.user, m.item, m.bias, data, records.data(), 0, data.n, cfg, nullptr);
  }
  return last;
}

}  // namespace

TEST_CASE("train: shuffle_schedule is a permutation, fixed by (seed, epoch)") {
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(1000)}) {
    std::vector<int32_t> a(n), b(n), c(n);
    rb::shuffle_schedule(n ? a.data() : nullptr, n, 7, 1);
    rb::shuffle_schedule(n ? b.data() : nullptr, n, 7, 1);
    rb::shuffle_schedule(n ? c.data() : nullptr, n, 7, 2);
    CHECK(a == b);
    if (n == 1000) CHECK(a != c);
    std::vector<int32_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    bool perm = true;
    for (size_t i = 0; i < n; ++i) perm &= sorted[i] == int32_t(i);
    CHECK(perm);
  }
}

TEST_CASE("train: every loss x optimizer x sampler learns the planted blocks, one thread reproducible") {
  const Planted p;
  // Popularity alias table over the items (equal weights: prob 1, alias self).
  std::vector<float> prob(p.items, 1.f);
  std::vector<int32_t> alias(p.items);
  for (size_t i = 0; i < p.items; ++i) alias[i] = int32_t(i);
  for (int isa : runnable_isas()) {
    rb::force_isa(isa);
    for (int loss = 0; loss <= 3; ++loss)
      for (int opt = 0; opt <= 3; ++opt)
        for (int sampler = 0; sampler <= 2; ++sampler) {
          rb::MfConfig cfg;
          cfg.loss = rb::MfLoss(loss);
          cfg.optimizer = rb::OptimizerKind(opt);
          cfg.lr = opt == 0 ? 0.1f : (opt == 3 ? 0.02f : 0.2f);
          cfg.l2 = 1e-4f;
          cfg.seed = 3;
          cfg.negatives = 3;
          cfg.sampler.kind = rb::SamplerKind(sampler);
          cfg.sampler.prob = prob.data();
          cfg.sampler.alias = alias.data();
          cfg.sampler.n = p.items;
          cfg.sampler.window = 16;
          Model a(p, cfg.optimizer), b(p, cfg.optimizer);
          a.frozen[p.items - 1] = 1;
          b.frozen[p.items - 1] = 1;
          const std::vector<float> frozen_row(a.iw.end() - long(p.dim), a.iw.end());
          const auto r = epochs(a, p, cfg, 30);
          epochs(b, p, cfg, 30);
          if (!CHECK(a.uw == b.uw && a.iw == b.iw && a.bw == b.bw))
            std::fprintf(stderr, "    isa %d loss %d opt %d sampler %d not reproducible\n", isa, loss, opt, sampler);
          CHECK(std::equal(frozen_row.begin(), frozen_row.end(), a.iw.end() - long(p.dim)));
          CHECK_EQ(a.bw[p.items - 1], 0.f);
          // In-batch sampling may skip a sample whose window holds only the user's positives.
          if (!CHECK(!r.diverged && r.invalid == 0 && r.samples <= p.u.size() && r.samples * 10 >= p.u.size() * 9))
            std::fprintf(stderr, "    loss %d opt %d sampler %d diverged %d invalid %zu samples %zu\n", loss, opt,
                         sampler, int(r.diverged), r.invalid, r.samples);
          // MSE fits the constant rating, which says nothing about ranking; the others must rank.
          if (loss != 2 && !rbtest::record(a.auc(p) > 0.7, __FILE__, __LINE__, "auc > 0.7"))
            std::fprintf(stderr, "    loss %d opt %d sampler %d auc %.3f\n", loss, opt, sampler, a.auc(p));
          // Two threads (Hogwild) run and stay finite.
          Model c(p, cfg.optimizer);
          cfg.threads = 2;
          const auto r2 = epochs(c, p, cfg, 3);
          CHECK(!r2.diverged);
        }
  }
  rb::reset_isa();
}

TEST_CASE("train: out-of-range and negative indices are skipped and counted") {
  const Planted p;
  std::vector<int32_t> bad = p.u;
  bad[0] = -1;
  bad[1] = int32_t(p.users);
  bad[2] = 1 << 30;
  Model m(p, rb::OptimizerKind::Adagrad);
  rb::MfConfig cfg;
  cfg.optimizer = rb::OptimizerKind::Adagrad;
  const auto r = epochs(m, p, cfg, 1, &bad);
  CHECK_EQ(r.invalid, size_t(3));
  CHECK_EQ(r.samples + r.invalid, p.u.size());

  // Records from the grouped lists: a corrupt range drops its user's interactions, which become
  // invalid records, and an out-of-range item in a list is counted, for every kind of record.
  for (int loss : {0, 1, 3}) {
    for (int sampler : {0, 2}) {
      std::vector<int32_t> off = p.pos_off, idx = p.pos_idx;
      const size_t lost = size_t(off[2] - off[0]);
      off[1] = -7;  // user 0's range [0, -7) and user 1's [-7, off[2]) are both invalid
      idx[size_t(off[3])] = 1 << 30;
      rb::MfData d = csr_data(p.u, p.i, off, idx);
      d.num_items = p.items;
      rb::MfConfig c;
      c.loss = rb::MfLoss(loss);
      c.sampler.kind = rb::SamplerKind(sampler);
      Model mm(p, rb::OptimizerKind::Sgd);
      std::vector<int32_t> records(d.n * rb::mf_record_stride(rb::mf_records(d, c)));
      rb::shuffle_records(d, c, records.data());
      const rb::MfResult rr = rb::mf_chunk(mm.user, mm.item, mm.bias, d, records.data(), 0, d.n, c, nullptr);
      CHECK_EQ(rr.invalid, lost + 1);
      if (loss != 0) CHECK_EQ(rr.samples + rr.invalid, d.n);
    }
  }
}

TEST_CASE("train: a huge learning rate is reported as divergence, not a crash") {
  const Planted p;
  Model m(p, rb::OptimizerKind::Sgd);
  rb::MfConfig cfg;
  cfg.loss = rb::MfLoss::Mse;
  cfg.lr = 1e6f;
  bool diverged = false;
  for (int e = 0; e < 5 && !diverged; ++e) diverged = epochs(m, p, cfg, 1).diverged;
  CHECK(diverged);
}

// Where each of a few elements lands, over many epochs: a uniform shuffle puts each in every tenth
// of the array equally often. n spans several buckets, so the two-pass shuffle is what is tested.
TEST_CASE("train: shuffle_schedule is uniform across buckets") {
  const size_t n = 200000, epochs = 300;
  std::vector<int32_t> s(n);
  const int32_t watched[] = {0, 1, int32_t(n / 2), int32_t(n - 1)};
  std::vector<std::array<int, 10>> deciles(4, std::array<int, 10>{});
  size_t first_before_second = 0;
  for (size_t e = 0; e < epochs; ++e) {
    rb::shuffle_schedule(s.data(), n, 3, e);
    size_t where[4] = {};
    for (size_t p = 0; p < n; ++p)
      for (int w = 0; w < 4; ++w)
        if (s[p] == watched[w]) where[w] = p;
    for (int w = 0; w < 4; ++w) ++deciles[size_t(w)][where[w] * 10 / n];
    first_before_second += where[0] < where[1];
  }
  for (const auto& d : deciles) {
    double chi2 = 0;
    for (int c : d) chi2 += (c - 30.0) * (c - 30.0) / 30.0;
    CHECK(chi2 < 33.7);  // 9 degrees of freedom, p = 1e-4
  }
  CHECK(first_before_second > 110);  // expected 150 of 300, sd 8.7
  CHECK(first_before_second < 190);
}

// Records carry each interaction once, with its rating, its user's list or a negative outside that
// list, in an order fixed by (seed, epoch). With rejection they are built from the grouped lists: a
// user whose range is invalid loses its interactions to invalid records.
TEST_CASE("train: shuffle_records holds every interaction once, for each kind of record") {
  const size_t n = 50000, users = 700, items = 300;
  std::vector<int32_t> u(n), i(n);
  std::vector<float> v(n);
  rb::Rng rng(5);
  for (size_t k = 0; k < n; ++k) {
    u[k] = int32_t(rng.below(users));
    i[k] = int32_t(rng.below(items));
    v[k] = float(k);
  }
  std::vector<int32_t> off(users + 1, 0), idx(n);
  for (size_t k = 0; k < n; ++k) ++off[size_t(u[k]) + 1];
  for (size_t a = 0; a < users; ++a) off[a + 1] += off[a];
  {
    std::vector<int32_t> at(off.begin(), off.end() - 1);
    for (size_t k = 0; k < n; ++k) idx[size_t(at[size_t(u[k])]++)] = i[k];
    for (size_t a = 0; a < users; ++a) std::sort(idx.begin() + off[a], idx.begin() + off[a + 1]);
  }
  const rb::MfRecords kinds[] = {rb::MfRecords::Pairs, rb::MfRecords::Ratings, rb::MfRecords::Ranges,
                                 rb::MfRecords::Negatives};
  for (rb::MfRecords kind : kinds) {
    rb::MfData d = csr_data(u, i, off, idx);
    d.values = v.data();
    d.num_items = items;
    if (kind == rb::MfRecords::Pairs) d.pos_off = d.pos_idx = nullptr;
    rb::MfConfig cfg;
    cfg.loss = kind == rb::MfRecords::Ratings ? rb::MfLoss::Mse : rb::MfLoss::Bpr;
    if (kind == rb::MfRecords::Ranges) cfg.sampler.kind = rb::SamplerKind::InBatch;
    CHECK(rb::mf_records(d, cfg) == kind);
    const size_t stride = rb::mf_record_stride(kind);
    std::vector<int32_t> a(n * stride), b(n * stride), c(n * stride);
    cfg.seed = 9;
    cfg.epoch = 4;
    rb::shuffle_records(d, cfg, a.data());
    rb::shuffle_records(d, cfg, b.data());
    cfg.epoch = 5;
    rb::shuffle_records(d, cfg, c.data());
    CHECK(a == b);
    CHECK(a != c);
    std::vector<std::array<int32_t, 4>> got, want;
    std::vector<size_t> drawn(items, 0);
    size_t none = 0;
    for (size_t k = 0; k < n; ++k) {
      const int32_t* r = &a[k * stride];
      std::array<int32_t, 4> g{r[0], r[1], 0, 0}, w{u[k], i[k], 0, 0};
      if (kind == rb::MfRecords::Ratings) {
        g[2] = r[2];
        std::memcpy(&w[2], &v[k], sizeof(float));
      } else if (kind == rb::MfRecords::Ranges) {
        g = {r[0], r[1], r[2], r[3]};
        w = {u[k], i[k], off[size_t(u[k])], off[size_t(u[k]) + 1]};
      } else if (kind == rb::MfRecords::Negatives) {
        const int32_t j = r[2];
        if (j < 0) {
          ++none;
        } else {
          const int32_t* list = idx.data() + off[size_t(r[0])];
          const size_t len = size_t(off[size_t(r[0]) + 1] - off[size_t(r[0])]);
          CHECK(j < int32_t(items));
          CHECK(!std::binary_search(list, list + len, j));  // never a known positive (nor the positive itself)
          ++drawn[size_t(j)];
        }
      }
      got.push_back(g);
      want.push_back(w);
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    if (kind == rb::MfRecords::Negatives) {
      CHECK_EQ(none, size_t(0));  // each user likes ~71 of 300 items: 21 rejections in a row never happen
      // Uniform over the items each user does not like: every item is drawn about n / items times.
      for (size_t x : drawn) CHECK(x > n / items / 2);
      for (size_t x : drawn) CHECK(x < n / items * 2);
    }
  }

  // Users 9 and 10 get an invalid range: their interactions become invalid records.
  std::vector<int32_t> bad_off = off;
  bad_off[10] = -5;
  rb::MfData d = csr_data(u, i, bad_off, idx);
  d.num_items = items;
  rb::MfConfig cfg;
  std::vector<int32_t> r(n * 3);
  rb::shuffle_records(d, cfg, r.data());
  size_t invalid = 0;
  for (size_t k = 0; k < n; ++k) invalid += r[k * 3] == -1 && r[k * 3 + 1] == -1 && r[k * 3 + 2] == -1;
  CHECK_EQ(invalid, size_t(off[11] - off[9]));
}

TEST_CASE("train: rejection of known positives is exact: a user who likes every item gives no negative") {
  // No sample may train on a negative that is one of the user's positives: BPR skips every sample
  // and WARP finds no violator, so nothing moves; BCE trains the positives only. Every ISA.
  const size_t n_items = 12, dim = 4;
  std::vector<int32_t> su, si, soff{0, int32_t(n_items)}, sidx;
  for (size_t i = 0; i < n_items; ++i) {
    su.push_back(0);
    si.push_back(int32_t(i));
    sidx.push_back(int32_t(i));
  }
  for (int isa : runnable_isas()) {
    rb::force_isa(isa);
    for (int loss : {0, 1, 3}) {
      std::vector<float> uw(dim, 0.1f), iw(n_items * dim, 0.1f);
      rb::TrainParam user{uw.data(), 1, dim, nullptr, nullptr, 1.f},
          item{iw.data(), n_items, dim, nullptr, nullptr, 1.f}, bias;
      rb::MfData d = csr_data(su, si, soff, sidx);
      d.num_items = n_items;
      rb::MfConfig cfg;
      cfg.loss = rb::MfLoss(loss);
      cfg.seed = 1;
      std::vector<int32_t> records(d.n * rb::mf_record_stride(rb::mf_records(d, cfg)));
      rb::shuffle_records(d, cfg, records.data());
      const std::vector<float> before = iw;
      const rb::MfResult r = rb::mf_chunk(user, item, bias, d, records.data(), 0, d.n, cfg, nullptr);
      CHECK(!r.diverged);
      if (loss == 0) CHECK_EQ(r.samples, size_t(0));
      if (loss != 1) CHECK(iw == before);
    }
  }
  rb::reset_isa();
}

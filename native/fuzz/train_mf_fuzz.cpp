// Matrix-factorization epochs (train_mf.h: shuffle_records, then mf_chunk) with everything the
// caller controls chosen by the fuzzer. The binding checks only lengths and scalar ranges; the
// contents of the interaction, record, positive-list (CSR) and alias arrays live in JS memory and
// reach the kernels unchecked, and the kernels promise to bounds-check every index before use. The
// records are either shuffled from the interactions or, as if JS had overwritten them, arbitrary.
// Every array here is an exact-size heap block, so any read or write outside it is an ASan report.
//
// Oracles (on the ISA level the input picks):
// - freezing is data: a frozen row, a parameter with lrMult 0, or lr 0 leaves the row's weights and
//   optimizer state bit-identical;
// - shuffled records hold every interaction once;
// - a user row that no in-range record names is never written; with the MSE loss (no negatives)
//   the same holds for item and bias rows;
// - with MSE every record is either a sample or counted invalid (unless it diverged), and exactly
//   the out-of-range ones are invalid; for every loss samples + invalid <= end - begin;
// - one thread is bit-reproducible (same inputs, same weights, same result).
#include <atomic>

#include "../kernels/train_mf.h"
#include "fuzz_support.h"

using namespace rbfuzz;

namespace {

struct Param {
  size_t rows = 0, dim = 1;
  std::vector<float> w, state;
  std::vector<uint8_t> frozen;  // empty: none
  float lr_mult = 1.f;
};

size_t state_len(rb::OptimizerKind opt, size_t rows, size_t dim) {
  switch (opt) {
    case rb::OptimizerKind::Adagrad:
      return rows * dim;
    case rb::OptimizerKind::RowwiseAdagrad:
      return rows;
    case rb::OptimizerKind::Adam:
      return rows * (2 * dim + 1);
    default:
      return 0;
  }
}

float pick(Source& src, std::initializer_list<float> options) {
  return options.begin()[src.range<size_t>(0, options.size() - 1)];
}

Param make_param(Source& src, rb::OptimizerKind opt, size_t rows, size_t dim) {
  Param p;
  p.rows = rows;
  p.dim = dim;
  p.w.resize(rows * dim);
  fill(src, p.w, src.flag() ? Values::General : Values::SmallInt, src.range<int>(0, 3) == 0);
  for (float& x : p.w) x = std::isfinite(x) ? x / 64.f : x;
  p.state.resize(state_len(opt, rows, dim));
  for (float& x : p.state) {
    const int kind = src.range<int>(0, 15);  // mostly what a real optimizer leaves, sometimes garbage
    x = kind < 12   ? static_cast<float>(src.next() % 100) / 50.f
        : kind < 14 ? general_value(static_cast<uint32_t>(src.next()))
                    : special(kind - 14);
  }
  if (src.flag()) {
    p.frozen.resize(rows);
    for (auto& f : p.frozen) f = static_cast<uint8_t>(src.next() % 3 == 0 ? 1 + src.next() % 255 : 0);
  }
  p.lr_mult = pick(src, {1.f, 1.f, 1.f, 0.f, 0.5f, 1e6f});
  return p;
}

// Exact-size copies handed to the kernel, and the TrainParam over them.
struct Live {
  std::unique_ptr<float[]> w, state;
  std::unique_ptr<uint8_t[]> frozen;
  rb::TrainParam tp;
  explicit Live(const Param& p) {
    if (!p.w.empty()) w.reset(new float[p.w.size()]), std::copy(p.w.begin(), p.w.end(), w.get());
    if (!p.state.empty())
      state.reset(new float[p.state.size()]), std::copy(p.state.begin(), p.state.end(), state.get());
    if (!p.frozen.empty())
      frozen.reset(new uint8_t[p.frozen.size()]), std::copy(p.frozen.begin(), p.frozen.end(), frozen.get());
    tp.w = w.get();
    tp.rows = p.rows;
    tp.dim = p.dim;
    tp.state = state.get();
    tp.frozen_rows = frozen.get();
    tp.lr_mult = p.lr_mult;
  }
};

// Per row: the weights and every optimizer-state entry that belongs to it.
FUZZ_REFERENCE bool row_unchanged(const Param& before, const Live& after, rb::OptimizerKind opt, size_t r) {
  const size_t d = before.dim, rows = before.rows;
  if (!std::equal(before.w.begin() + r * d, before.w.begin() + (r + 1) * d, after.w.get() + r * d,
                  [](float a, float b) { return std::memcmp(&a, &b, 4) == 0; }))
    return false;
  auto same = [&](size_t at, size_t len) {
    return std::memcmp(before.state.data() + at, after.state.get() + at, len * sizeof(float)) == 0;
  };
  switch (opt) {
    case rb::OptimizerKind::Adagrad:
      return same(r * d, d);
    case rb::OptimizerKind::RowwiseAdagrad:
      return same(r, 1);
    case rb::OptimizerKind::Adam:
      return same(r * d, d) && same(rows * d + r * d, d) && same(2 * rows * d + r, 1);
    default:
      return true;
  }
}

struct Case {
  rb::MfConfig cfg;
  Param user, item, bias;
  bool has_bias = false;
  size_t n = 0;
  std::vector<int32_t> users, items, pos_off, pos_idx, alias;
  std::vector<int32_t> raw_records;  // empty: shuffled from the interactions
  std::vector<float> values, prob;
  bool has_values = false, has_pos = false, raw = false;
  size_t begin = 0, end = 0;
  int isa = 0;
};

int32_t some_id(Source& src, size_t bound) {
  switch (src.range<int>(0, 15)) {
    case 0:
      return std::numeric_limits<int32_t>::min();
    case 1:
      return std::numeric_limits<int32_t>::max();
    default:
      return static_cast<int32_t>(src.next() % (bound + 4)) - 2;
  }
}

Case make_case(Source& src) {
  Case c;
  c.isa = isas()[src.range<size_t>(0, isas().size() - 1)];
  rb::MfConfig& cfg = c.cfg;
  cfg.optimizer = static_cast<rb::OptimizerKind>(src.range<int>(0, 3));
  cfg.loss = static_cast<rb::MfLoss>(src.range<int>(0, 3));
  const size_t dim = src.range<size_t>(1, 40);
  c.user = make_param(src, cfg.optimizer, src.range<size_t>(0, 12), dim);
  c.item = make_param(src, cfg.optimizer, src.range<size_t>(0, 16), dim);
  c.has_bias = src.flag();
  if (c.has_bias) c.bias = make_param(src, cfg.optimizer, c.item.rows, 1);

  c.n = src.range<size_t>(0, 40);
  for (size_t i = 0; i < c.n; ++i) {
    c.users.push_back(some_id(src, c.user.rows));
    c.items.push_back(some_id(src, c.item.rows));
  }
  c.has_values = cfg.loss == rb::MfLoss::Mse || src.flag();
  if (c.has_values) {
    c.values.resize(c.n);
    fill(src, c.values, Values::SmallInt, src.flag());
  }
  c.has_pos = src.flag();
  if (c.has_pos) {
    if (src.flag()) {  // a well-formed CSR over the users, positives sorted (not the interactions: records come from
                       // it)
      c.pos_off.push_back(0);
      for (size_t u = 0; u < c.user.rows; ++u) {
        const auto ids = binding_list(raw_ids(src, c.item.rows, 6), c.item.rows);
        c.pos_idx.insert(c.pos_idx.end(), ids.begin(), ids.end());
        c.pos_off.push_back(static_cast<int32_t>(c.pos_idx.size()));
      }
    } else {  // anything at all
      c.pos_idx.resize(src.range<size_t>(0, 30));
      for (int32_t& x : c.pos_idx) x = some_id(src, c.item.rows);
      c.pos_off.resize(src.range<size_t>(0, c.user.rows + 3));
      for (int32_t& x : c.pos_off) x = some_id(src, c.pos_idx.size());
    }
  }
  c.raw = src.range<int>(0, 3) == 0;
  if (c.raw) {  // enough for the widest layout (4 values per record); Run uses what its layout needs
    const size_t bound = std::max({c.user.rows, c.item.rows, c.pos_idx.size()});
    c.raw_records.resize(c.n * 4);
    for (int32_t& x : c.raw_records)
      x = src.range<int>(0, 3) == 0 ? static_cast<int32_t>(src.next()) : some_id(src, bound);
  }
  c.begin = src.range<size_t>(0, c.n);
  c.end = src.range<size_t>(c.begin, c.n);

  cfg.lr = pick(src, {0.05f, 0.05f, 0.f, 0.5f, 1e3f, 1e6f});
  cfg.l2 = pick(src, {0.f, 1e-4f, 0.1f, 10.f});
  cfg.eps = pick(src, {1e-8f, 0.f, 1.f});
  cfg.beta1 = pick(src, {0.9f, 0.f, 0.999999f});
  cfg.beta2 = pick(src, {0.999f, 0.f, 0.999999f});
  cfg.seed = src.next();
  cfg.epoch = src.range<uint64_t>(0, 3);
  cfg.chunk = src.range<uint64_t>(0, 3);
  cfg.threads = src.range<int>(0, 7) == 0 ? 2 : 1;
  cfg.max_rejections = src.range<int>(0, 30);
  cfg.negatives = src.range<int>(1, rb::kMaxNegatives);
  cfg.warp_max_trials = src.range<int>(1, 200);  // the binding allows up to 100000; cost only
  cfg.margin = pick(src, {1.f, 0.f, 1e6f});
  cfg.sampler.kind = static_cast<rb::SamplerKind>(src.range<int>(0, 2));
  if (cfg.sampler.kind == rb::SamplerKind::Alias) {
    c.prob.resize(c.item.rows);
    for (float& p : c.prob) {
      const int kind = src.range<int>(0, 9);
      p = kind < 7   ? static_cast<float>(src.next() % 101) / 100.f
          : kind < 9 ? general_value(static_cast<uint32_t>(src.next()))
                     : special(src.range<int>(0, 2));
    }
    c.alias.resize(c.item.rows);
    for (int32_t& a : c.alias) a = some_id(src, c.item.rows);
  }
  cfg.sampler.window = src.flag() ? src.range<size_t>(2, 64) : 1000000000;
  return c;
}

struct Run {
  Live user, item, bias;
  rb::MfResult result;
  std::vector<int32_t> records;  // what mf_chunk trained on
  rb::MfRecords kind = rb::MfRecords::Pairs;
  Run(const Case& c) : user(c.user), item(c.item), bias(c.bias) {
    if (!c.has_bias) bias.tp = rb::TrainParam{};  // w == null: no bias
    const Exact<int32_t> users(c.users), items(c.items), pos_off(c.pos_off), pos_idx(c.pos_idx), alias(c.alias);
    const Exact<float> values(c.values), prob(c.prob);
    rb::MfData data;
    data.users = users.data();
    data.items = items.data();
    data.values = c.has_values ? values.data() : nullptr;
    data.n = c.n;
    if (c.has_pos) {
      data.pos_off = pos_off.data();
      data.pos_idx = pos_idx.data();
      data.pos_off_len = pos_off.n;
      data.pos_idx_len = pos_idx.n;
    }
    rb::MfConfig cfg = c.cfg;
    if (cfg.sampler.kind == rb::SamplerKind::Alias) {
      cfg.sampler.prob = prob.data();
      cfg.sampler.alias = alias.data();
      cfg.sampler.n = c.item.rows;
    }
    std::atomic<int> cancel{0};
    data.num_items = c.item.rows;
    kind = rb::mf_records(data, cfg);
    Exact<int32_t> shuffled(std::vector<int32_t>(c.n * rb::mf_record_stride(kind)));
    if (c.raw)
      std::copy(c.raw_records.begin(), c.raw_records.begin() + static_cast<std::ptrdiff_t>(shuffled.n),
                shuffled.data());
    else
      rb::shuffle_records(data, cfg, shuffled.data());
    records.assign(shuffled.data(), shuffled.data() + shuffled.n);
    result = rb::mf_chunk(user.tp, item.tp, bias.tp, data, shuffled.data(), c.begin, c.end, cfg, &cancel);
  }
};

FUZZ_REFERENCE bool same_run(const Case& c, const Run& a, const Run& b) {
  auto eq = [](const float* x, const float* y, size_t n) {
    return n == 0 || std::memcmp(x, y, n * sizeof(float)) == 0;
  };
  return eq(a.user.w.get(), b.user.w.get(), c.user.w.size()) && eq(a.item.w.get(), b.item.w.get(), c.item.w.size()) &&
         eq(a.user.state.get(), b.user.state.get(), c.user.state.size()) &&
         eq(a.item.state.get(), b.item.state.get(), c.item.state.size()) &&
         (!c.has_bias || (eq(a.bias.w.get(), b.bias.w.get(), c.bias.w.size()) &&
                          eq(a.bias.state.get(), b.bias.state.get(), c.bias.state.size()))) &&
         a.result.samples == b.result.samples && a.result.invalid == b.result.invalid &&
         a.result.diverged == b.result.diverged && std::memcmp(&a.result.loss, &b.result.loss, sizeof(double)) == 0;
}

FUZZ_REFERENCE void check(const Case& c, const Run& run) {
  const rb::OptimizerKind opt = c.cfg.optimizer;
  const rb::MfResult& r = run.result;
  // Shuffled records hold the interactions, each once: from the arrays, or with rejection from the
  // grouped lists walked in user order (invalid ranges skipped, then invalid records for what the
  // lists lack); a drawn negative is in range and neither the positive nor in the user's list.
  const size_t stride = rb::mf_record_stride(run.kind);
  if (!c.raw) {
    std::vector<std::pair<int32_t, int32_t>> got, want;
    const bool grouped = run.kind == rb::MfRecords::Negatives || run.kind == rb::MfRecords::Ranges;
    if (!grouped) {
      for (size_t k = 0; k < c.n; ++k) want.emplace_back(c.users[k], c.items[k]);
    } else {
      for (size_t u = 0; u + 1 < c.pos_off.size() && want.size() < c.n; ++u) {
        const int32_t b = c.pos_off[u], e = c.pos_off[u + 1];
        if (b < 0 || e < b || static_cast<size_t>(e) > c.pos_idx.size()) continue;
        for (int32_t k = b; k < e && want.size() < c.n; ++k)
          want.emplace_back(static_cast<int32_t>(u), c.pos_idx[static_cast<size_t>(k)]);
      }
      while (want.size() < c.n) want.emplace_back(-1, -1);
    }
    for (size_t k = 0; k < c.n; ++k) {
      const int32_t* r = &run.records[k * stride];
      got.emplace_back(r[0], r[1]);
      if (run.kind != rb::MfRecords::Negatives || r[0] < 0 || r[2] == -1) continue;
      const int32_t j = r[2], b = c.pos_off[static_cast<size_t>(r[0])], e = c.pos_off[static_cast<size_t>(r[0]) + 1];
      FUZZ_CHECK(j >= 0 && static_cast<size_t>(j) < c.item.rows && j != r[1], "negative %d for item %d of %zu", j, r[1],
                 c.item.rows);
      const auto first = c.pos_idx.begin() + b, last = c.pos_idx.begin() + e;
      if (std::is_sorted(first, last))  // the contract: on an unsorted list the search may miss
        FUZZ_CHECK(std::find(first, last, j) == last, "negative %d is a known positive of user %d", j, r[0]);
    }
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    FUZZ_CHECK(got == want, "shuffled records are not the %zu interactions", c.n);
  }
  // Which rows valid samples name, and how many records are out of range.
  std::vector<char> user_named(c.user.rows, 0), item_named(c.item.rows, 0);
  size_t bad = 0;
  for (size_t s = c.begin; s < c.end; ++s) {
    const int32_t u = run.records[s * stride], i = run.records[s * stride + 1];
    if (u < 0 || static_cast<size_t>(u) >= c.user.rows || i < 0 || static_cast<size_t>(i) >= c.item.rows) {
      ++bad;
      continue;
    }
    user_named[static_cast<size_t>(u)] = 1;
    item_named[static_cast<size_t>(i)] = 1;
  }
  FUZZ_CHECK(r.samples + r.invalid <= c.end - c.begin, "%zu samples + %zu invalid of %zu scheduled", r.samples,
             r.invalid, c.end - c.begin);
  const bool mse = c.cfg.loss == rb::MfLoss::Mse;
  // (With no items mf_chunk returns at once without counting anything.)
  if (mse && !r.diverged && c.item.rows > 0)
    FUZZ_CHECK(r.samples + r.invalid == c.end - c.begin && r.invalid == bad,
               "mse: %zu samples, %zu invalid of %zu scheduled (%zu out of range)", r.samples, r.invalid,
               c.end - c.begin, bad);

  auto check_param = [&](const Param& p, const Live& live, const std::vector<char>* named, const char* name) {
    for (size_t row = 0; row < p.rows; ++row) {
      const bool frozen = !p.frozen.empty() && p.frozen[row];
      const bool still = frozen || p.lr_mult == 0.f || c.cfg.lr == 0.f || (named && !(*named)[row]);
      if (still)
        FUZZ_CHECK(row_unchanged(p, live, opt, row), "%s row %zu changed (frozen %d, lrMult %g, lr %g, named %d)", name,
                   row, int(frozen), p.lr_mult, c.cfg.lr, named ? int((*named)[row]) : -1);
    }
  };
  check_param(c.user, run.user, &user_named, "user");
  check_param(c.item, run.item, mse ? &item_named : nullptr, "item");
  if (c.has_bias) check_param(c.bias, run.bias, mse ? &item_named : nullptr, "bias");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Source src(fdp);
  const Case c = make_case(src);
  const bool twice = c.cfg.threads == 1 && src.range<int>(0, 3) == 0;
  rb::force_isa(c.isa);
  const Run a(c);
  check(c, a);
  if (twice) {
    const Run b(c);
    FUZZ_CHECK(same_run(c, a, b), "one thread is not reproducible");
  }
  rb::reset_isa();
  return 0;
}

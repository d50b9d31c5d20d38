// An epoch's shuffled training records (train_mf.h). Training reads its samples in record order, so
// the random reads that a shuffled index schedule would cost per sample (the interaction's user and
// item, the user's list of positives) are paid here instead, as sequential reads: with rejection
// the records are built walking the users' grouped lists, so each list is in cache while its
// interactions are copied and, for BPR, while their negatives are drawn and checked against it.
//
// The shuffle is two-pass (Rao-Sandelius): every record goes to a uniformly random bucket, in the
// order it is built, then each bucket is Fisher-Yates shuffled. That is a uniform permutation, and
// each bucket is small enough to shuffle inside the L2 cache, where a Fisher-Yates pass over the
// whole array would take a cache miss per swap.
#include <array>
#include <cstring>
#include <limits>
#include <vector>

#include "negative_sampling.h"
#include "rng.h"
#include "train_mf.h"

namespace rb {
namespace {

constexpr size_t kBucketBytes = 256 * 1024;
constexpr uint64_t kBucketStream = 0x5348554646ull;     // "SHUFF"
constexpr uint64_t kShuffleStream = 0x4255434b4554ull;  // "BUCKET"
constexpr uint64_t kNegativeStream = 0x4e4547ull;       // "NEG"

template <size_t kStride>
using Record = std::array<int32_t, kStride>;

// Shuffles n records into out; build(emit) must call emit(record) exactly n times.
template <size_t kStride, class Build>
void shuffle(size_t n, int32_t* out, uint64_t seed, uint64_t epoch, Build build) {
  Record<kStride>* const records = reinterpret_cast<Record<kStride>*>(out);
  int bits = 0;
  while (bits < 16 && (n * sizeof(Record<kStride>) >> bits) > kBucketBytes) ++bits;
  const size_t buckets = size_t(1) << bits;
  // Each record's bucket is drawn twice from one stream (to count, then to place), which costs
  // less than storing it.
  auto bucket = [bits](Rng& r) { return bits == 0 ? size_t(0) : static_cast<size_t>(r.next() >> (64 - bits)); };
  std::vector<size_t> start(buckets + 1, 0);
  {
    Rng r(seed, epoch, kBucketStream);
    for (size_t k = 0; k < n; ++k) ++start[bucket(r) + 1];
  }
  for (size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<size_t> fill(start.begin(), start.end() - 1);
  {
    Rng r(seed, epoch, kBucketStream);
    build([&](const Record<kStride>& rec) { records[fill[bucket(r)]++] = rec; });
  }
  for (size_t b = 0; b < buckets; ++b) {
    Rng r(seed, epoch, kShuffleStream, b);
    Record<kStride>* const a = records + start[b];
    for (size_t m = start[b + 1] - start[b]; m > 1; --m) std::swap(a[m - 1], a[r.below(static_cast<uint32_t>(m))]);
  }
}

int32_t float_bits(float v) {
  int32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Walks the grouped lists in user order: visit(u, item, list, b, e) for each of at most n entries,
// then invalid(count) for what the lists lacked. Ranges outside pos_idx are empty.
template <class Visit, class Invalid>
void walk_users(const MfData& d, Visit visit, Invalid invalid) {
  size_t done = 0;
  const size_t users = d.pos_off_len ? d.pos_off_len - 1 : 0;
  for (size_t u = 0; u < users && done < d.n; ++u) {
    const int32_t b = d.pos_off[u], e = d.pos_off[u + 1];
    if (b < 0 || e < b || static_cast<size_t>(e) > d.pos_idx_len) continue;
    for (int32_t k = b; k < e && done < d.n; ++k, ++done) visit(static_cast<int32_t>(u), d.pos_idx[k], b, e);
  }
  invalid(d.n - done);
}

// A negative for (user list, positive i) as the training step would draw it, or -1.
class NegativeDraw {
 public:
  NegativeDraw(const MfConfig& cfg, size_t num_items)
      : cfg_(cfg), rng_(cfg.seed, cfg.epoch, kNegativeStream), items_(num_items) {}
  int32_t operator()(const int32_t* list, size_t len, int32_t i) {
    for (int tries = 0; tries <= cfg_.max_rejections; ++tries) {
      const int32_t j = table_candidate(cfg_.sampler, rng_, items_);
      if (j >= 0 && j != i && !sorted_contains(list, len, j)) return j;
    }
    return -1;
  }

 private:
  const MfConfig& cfg_;
  Rng rng_;
  size_t items_;
};

}  // namespace

void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch) {
  shuffle<1>(n, schedule, seed, epoch, [n](auto emit) {
    for (size_t k = 0; k < n; ++k) emit(Record<1>{static_cast<int32_t>(k)});
  });
}

MfRecords mf_records(const MfData& data, const MfConfig& cfg) {
  if (cfg.loss == MfLoss::Mse) return MfRecords::Ratings;
  if (!data.pos_idx || !data.pos_off) return MfRecords::Pairs;
  const bool drawn =
      cfg.loss == MfLoss::Bpr && (cfg.sampler.kind == SamplerKind::Uniform || cfg.sampler.kind == SamplerKind::Alias);
  return drawn ? MfRecords::Negatives : MfRecords::Ranges;
}

size_t mf_record_stride(MfRecords kind) {
  switch (kind) {
    case MfRecords::Pairs:
      return 2;
    case MfRecords::Ratings:
      return 3;
    case MfRecords::Negatives:
      return 3;
    default:
      return 4;
  }
}

void shuffle_records(const MfData& data, const MfConfig& cfg, int32_t* records) {
  const size_t n = data.n;
  const uint64_t seed = cfg.seed, epoch = cfg.epoch;
  switch (mf_records(data, cfg)) {
    case MfRecords::Pairs:
      shuffle<2>(n, records, seed, epoch, [&](auto emit) {
        for (size_t k = 0; k < n; ++k) emit(Record<2>{data.users[k], data.items[k]});
      });
      break;
    case MfRecords::Ratings: {
      const float nan = std::numeric_limits<float>::quiet_NaN();  // no ratings: every sample diverges
      shuffle<3>(n, records, seed, epoch, [&](auto emit) {
        for (size_t k = 0; k < n; ++k)
          emit(Record<3>{data.users[k], data.items[k], float_bits(data.values ? data.values[k] : nan)});
      });
      break;
    }
    case MfRecords::Negatives: {
      const bool usable = data.num_items > 0 && (cfg.sampler.kind != SamplerKind::Alias ||
                                                 (cfg.sampler.prob && cfg.sampler.alias && cfg.sampler.n > 0));
      NegativeDraw draw(cfg, data.num_items);
      shuffle<3>(n, records, seed, epoch, [&](auto emit) {
        walk_users(
            data,
            [&](int32_t u, int32_t i, int32_t b, int32_t e) {
              const int32_t* const list = data.pos_idx + b;
              emit(Record<3>{u, i, usable ? draw(list, static_cast<size_t>(e - b), i) : -1});
            },
            [&](size_t missing) {
              for (size_t k = 0; k < missing; ++k) emit(Record<3>{-1, -1, -1});
            });
      });
      break;
    }
    case MfRecords::Ranges:
      shuffle<4>(n, records, seed, epoch, [&](auto emit) {
        walk_users(
            data,
            [&](int32_t u, int32_t i, int32_t b, int32_t e) {
              emit(Record<4>{u, i, b, e});
            },
            [&](size_t missing) {
              for (size_t k = 0; k < missing; ++k) emit(Record<4>{-1, -1, 0, 0});
            });
      });
      break;
  }
}

}  // namespace rb

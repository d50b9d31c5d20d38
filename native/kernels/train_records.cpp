// An epoch's shuffled training records (train_mf.h). Training reads its samples in record order, so
// the random reads that a shuffled index schedule would cost per sample (the interaction's user and
// item, then the user's CSR offsets) are paid here instead, as sequential reads.
//
// The shuffle is two-pass (Rao-Sandelius): every interaction goes to a uniformly random bucket, in
// input order, then each bucket is Fisher-Yates shuffled. That is a uniform permutation, and each
// bucket is small enough to shuffle inside the L2 cache, where a Fisher-Yates pass over the whole
// array would take a cache miss per swap.
#include <array>
#include <cstring>
#include <limits>
#include <vector>

#include "rng.h"
#include "train_mf.h"

namespace rb {
namespace {

constexpr size_t kBucketBytes = 256 * 1024;
constexpr uint64_t kBucketStream = 0x5348554646ull;  // "SHUFF"
constexpr uint64_t kShuffleStream = 0x4255434b4554ull;  // "BUCKET"

template <size_t kStride>
using Record = std::array<int32_t, kStride>;

template <size_t kStride, class Make>
void shuffle(size_t n, int32_t* out, uint64_t seed, uint64_t epoch, Make make) {
  Record<kStride>* const records = reinterpret_cast<Record<kStride>*>(out);
  int bits = 0;
  while (bits < 16 && (n * sizeof(Record<kStride>) >> bits) > kBucketBytes) ++bits;
  const size_t buckets = size_t(1) << bits;
  // The bucket of each interaction is drawn twice from one stream (to count, then to place), which
  // costs less than storing it.
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
    for (size_t k = 0; k < n; ++k) records[fill[bucket(r)]++] = make(k);
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

}  // namespace

void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch) {
  shuffle<1>(n, schedule, seed, epoch, [](size_t k) { return Record<1>{static_cast<int32_t>(k)}; });
}

size_t mf_record_stride(const MfData& data, MfLoss loss) {
  if (loss == MfLoss::Mse) return 3;
  return data.pos_idx && data.pos_off ? 4 : 2;
}

void shuffle_records(const MfData& data, MfLoss loss, int32_t* records, uint64_t seed, uint64_t epoch) {
  const size_t n = data.n;
  switch (mf_record_stride(data, loss)) {
    case 2:
      shuffle<2>(n, records, seed, epoch, [&](size_t k) { return Record<2>{data.users[k], data.items[k]}; });
      break;
    case 3: {
      const float nan = std::numeric_limits<float>::quiet_NaN();  // no ratings: every sample diverges
      shuffle<3>(n, records, seed, epoch, [&](size_t k) { return Record<3>{data.users[k], data.items[k], float_bits(data.values ? data.values[k] : nan)}; });
      break;
    }
    default:
      shuffle<4>(n, records, seed, epoch, [&](size_t k) {
        const int32_t u = data.users[k];
        int32_t b = 0, e = 0;
        if (u >= 0 && static_cast<size_t>(u) + 1 < data.pos_off_len) {
          b = data.pos_off[u];
          e = data.pos_off[u + 1];
          if (b < 0 || e < b || static_cast<size_t>(e) > data.pos_idx_len) b = e = 0;
        }
        return Record<4>{u, data.items[k], b, e};
      });
  }
}

}  // namespace rb

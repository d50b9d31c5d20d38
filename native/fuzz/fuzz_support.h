// Shared pieces of the libFuzzer targets: turning fuzzer bytes into tables and index lists, the ISA
// levels to compare, and a failure report that libFuzzer records as a crash.
//
// Inputs stay small on purpose (a few thousand multiply-adds per call): every input is run on every
// ISA level and against a brute-force reference, and the long runs need a million of them.
#pragma once
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "../kernels/kernel_table.h"
#include "../kernels/scoring.h"

namespace rbfuzz {

// A mismatch is a finding like any sanitizer report: print what differed and abort, so libFuzzer
// stores the input as crash-<sha1>.
#define FUZZ_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                       \
      std::fprintf(stderr, "\n");                                                              \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

// Reference code: no coverage feedback (its loops would only tell the fuzzer about sizes, and
// comparison tracing in them costs more than the kernels under test).
#define FUZZ_REFERENCE __attribute__((no_sanitize("coverage")))

// ISA levels this CPU runs (force_isa values), detected once.
inline const std::vector<int>& isas() {
  static const std::vector<int> levels = [] {
    std::vector<int> out;
    for (int isa = 0; isa <= static_cast<int>(rb::Isa::Avx512); ++isa)
      if (rb::force_isa(isa)) out.push_back(isa);
    rb::reset_isa();
    return out;
  }();
  return levels;
}

// Values: bytes first, then a generator seeded from the bytes, so a short input can still fill a
// table while every byte the fuzzer does provide maps to one value it can steer.
class Source {
 public:
  explicit Source(FuzzedDataProvider& fdp) : fdp_(fdp), state_(fdp.ConsumeIntegral<uint64_t>()) {}

  FuzzedDataProvider& fdp() { return fdp_; }

  uint64_t next() {
    if (fdp_.remaining_bytes() >= 4) return fdp_.ConsumeIntegral<uint32_t>();
    state_ += 0x9E3779B97F4A7C15ull;  // splitmix64
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Shapes and counts come from the bytes only, lo once they run out: the cost of an input grows
  // with its length, so libFuzzer's short early inputs stay cheap.
  template <class T>
  T range(T lo, T hi) {  // inclusive
    return fdp_.ConsumeIntegralInRange<T>(lo, hi);
  }

  bool flag() { return range<int>(0, 1) == 1; }

 private:
  FuzzedDataProvider& fdp_;
  uint64_t state_;
};

// Value families. Small integers keep every float32 partial sum exact, so every ISA path and the
// float64 reference agree bit for bit, and ties are everywhere; the specials (NaN, infinities,
// signed zeros) keep that property because their results do not depend on summation order.
// General values are finite with |x| < 2^60: products and sums of up to 128 terms cannot overflow,
// so no NaN or infinity appears and results may differ across paths only by rounding.
enum class Values { SmallInt, General };

inline float special(int kind) {
  switch (kind) {
    case 0:
      return std::numeric_limits<float>::quiet_NaN();
    case 1:
      return std::numeric_limits<float>::infinity();
    case 2:
      return -std::numeric_limits<float>::infinity();
    case 3:
      return -0.f;
    default:
      return 0.f;
  }
}

inline float general_value(uint32_t bits) {
  // Keep sign and significand, fold the exponent into [2^-60, 2^60): finite and non-overflowing.
  const uint32_t exp = (bits >> 23) & 0xFF;
  const uint32_t folded = 127 - 60 + exp % 120;
  bits = (bits & 0x807FFFFFu) | (folded << 23);
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

inline void fill(Source& src, std::vector<float>& v, Values kind, bool specials) {
  if (kind == Values::SmallInt) {
    const int hi = src.range<int>(1, 4);
    for (float& x : v) x = static_cast<float>(static_cast<int>(src.next() % (2 * hi + 1)) - hi);
  } else {
    for (float& x : v) x = general_value(static_cast<uint32_t>(src.next()));
  }
  if (specials && !v.empty()) {
    const int patches = src.range<int>(0, 4);
    for (int p = 0; p < patches; ++p) v[src.next() % v.size()] = special(src.range<int>(0, 4));
  }
}

// Ids in [-2, bound + 2): mostly valid, some just outside on either side.
inline std::vector<int32_t> raw_ids(Source& src, size_t bound, size_t max_len) {
  std::vector<int32_t> ids(src.range<size_t>(0, max_len));
  for (int32_t& x : ids) x = static_cast<int32_t>(src.next() % (bound + 4)) - 2;
  return ids;
}

// What the binding hands a kernel for a list it dereferences: in range, sorted, duplicate-free
// (sorted_indices rejects out-of-range ids; here they are dropped so the call still happens).
inline std::vector<int32_t> binding_list(std::vector<int32_t> ids, size_t bound) {
  ids.erase(std::remove_if(ids.begin(), ids.end(), [&](int32_t x) { return x < 0 || static_cast<size_t>(x) >= bound; }),
            ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// A copy at the end of an exact-size heap block, so ASan flags a read one element past the end
// (std::vector's capacity can hide it).
template <class T>
struct Exact {
  std::unique_ptr<T[]> block;
  size_t n;
  explicit Exact(const std::vector<T>& v) : block(v.empty() ? nullptr : new T[v.size()]), n(v.size()) {
    std::copy(v.begin(), v.end(), block.get());
  }
  T* data() const { return block.get(); }  // null when empty, as Node-API may hand over
};

// The kernel's top-K options for a case (any struct with k, has_allow and threads) over its
// block and allow lists, as the binding hands them over.
template <class C>
rb::TopKOptions topk_options(const C& c, const Exact<int32_t>& block, const Exact<int32_t>& allow) {
  rb::TopKOptions opt;
  opt.k = c.k;
  opt.has_allow = c.has_allow;
  opt.allow = allow.data();
  opt.allow_len = allow.n;
  opt.block = block.data();
  opt.block_len = block.n;
  opt.threads = c.threads;
  return opt;
}

FUZZ_REFERENCE inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (a != a && b != b); }

}  // namespace rbfuzz

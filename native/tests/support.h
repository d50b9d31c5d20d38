// Shared helpers: seeded data, misaligned buffers and the list of ISA paths this CPU can run.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "../kernels/kernel_table.h"

namespace rbtest {

// Every ISA the CPU supports, as force_isa levels; tests loop over them and call reset_isa() after.
inline std::vector<int> runnable_isas() {
  std::vector<int> out;
  for (int isa = 0; isa <= static_cast<int>(rb::Isa::Avx512); ++isa)
    if (rb::force_isa(isa)) out.push_back(isa);
  rb::reset_isa();
  return out;
}

// Small integers keep every partial sum exact in float32, so all ISA paths must agree bit for bit.
inline std::vector<float> int_values(size_t n, uint32_t seed, int lo = -4, int hi = 4) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = float(d(g));
  return v;
}

inline std::vector<float> normal_values(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// A copy of v placed `offset` floats into an exact-size heap block: the vector paths must handle
// unaligned rows and tails, and ASan flags any read or write past the last element.
struct Shifted {
  std::unique_ptr<float[]> block;
  float* data;
  Shifted(const std::vector<float>& v, size_t offset)
      : block(new float[v.size() + offset]), data(block.get() + offset) {
    for (size_t i = 0; i < v.size(); ++i) data[i] = v[i];
  }
};

// A zeroed, 64-byte aligned float buffer: the packed query panel and tile of score_tile are
// aligned by contract (the kernels use aligned vector loads on them).
struct AlignedFloats {
  float* data;
  explicit AlignedFloats(size_t n)
      : data(static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64 + 1) * 64))) {
    for (size_t i = 0; i < n; ++i) data[i] = 0.f;
  }
  ~AlignedFloats() { std::free(data); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float& operator[](size_t i) { return data[i]; }
};

inline double dot_ref(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t k = 0; k < d; ++k) s += double(a[k]) * double(b[k]);
  return s;
}

}  // namespace rbtest

// Counter-free, splittable random streams for training: every (seed, epoch, chunk, thread) gets its
// own independent generator, so a run is reproducible for a fixed thread count and no two threads
// ever share state.
#pragma once
#include <cstdint>

namespace rb {

// SplitMix64: used to derive well-mixed stream seeds from structured inputs.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro128+-sized state is enough here; we use a 64-bit xorshift-multiply (xorshift64*) generator,
// fast and adequate for sampling negatives and shuffling.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
    uint64_t x = seed;
    x ^= splitmix64(x) + a;
    x ^= splitmix64(x) + b;
    x ^= splitmix64(x) + c;
    state_ = splitmix64(x) | 1;  // never zero
  }
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [0, n) without modulo bias worth caring about for n < 2^32 (Lemire's multiply-shift).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(next() >> 32) * n) >> 32); }
  // Uniform float in [0, 1).
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

 private:
  uint64_t state_;
};

}  // namespace rb

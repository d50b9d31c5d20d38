// Counter-free, splittable random streams for training: every (seed, epoch, chunk, thread) gets its
// own independent generator, so a run is reproducible for a fixed thread count and no two threads
// ever share state.
#pragma once
#include <cstdint>

namespace rb {

// Everything here has internal linkage, so ISA files compiled with their own target flags can use
// it without the linker sharing an AVX-512 compilation with the other paths. (So no header may
// declare a function taking these types.)
namespace {

// SplitMix64: used to derive well-mixed stream seeds from structured inputs.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A stream's first state from structured inputs (never zero).
inline uint64_t rng_seed_state(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = seed;
  x ^= splitmix64(x) + a;
  x ^= splitmix64(x) + b;
  x ^= splitmix64(x) + c;
  return splitmix64(x) | 1;
}

// A 64-bit xorshift-multiply (xorshift64*) generator: fast and adequate for sampling negatives and
// shuffling. Rng (below) and the training loops compiled per ISA step the same state this way.
class RngCore {
 public:
  explicit RngCore(uint64_t state) : state_(state) {}
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
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// The stream for (seed, a, b, c).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) : core_(rng_seed_state(seed, a, b, c)) {}
  uint64_t next() { return core_.next(); }
  uint32_t below(uint32_t n) { return core_.below(n); }
  float uniform() { return core_.uniform(); }
  uint64_t state() const { return core_.state(); }

 private:
  RngCore core_;
};

}  // namespace

}  // namespace rb

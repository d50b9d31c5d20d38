// Scalar reference path: portable C++, no intrinsics. It is both the fallback for CPUs without AVX2
// and the reference the SIMD paths are tested against, so it favours obviousness over speed; the
// four partial sums only give the compiler independent chains to schedule.
#include "kernel_table.h"

namespace rb {
namespace {

constexpr size_t kQueryBlock = 8;

inline float dot_scalar_impl(const float* a, const float* b, size_t d) {
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
  size_t k = 0;
  for (; k + 4 <= d; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < d; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

void score_rows_scalar(const float* q, const float* items, size_t n, size_t d, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = dot_scalar_impl(q, items + i * d, d);
}

void score_indexed_scalar(const float* q, const float* items, size_t d, const int32_t* idx, size_t m, float* out) {
  for (size_t j = 0; j < m; ++j) out[j] = dot_scalar_impl(q, items + static_cast<size_t>(idx[j]) * d, d);
}

void score_tile_scalar(const float* qpack, const float* items, size_t n, size_t d, float* tile) {
  for (size_t i = 0; i < n; ++i) {
    float acc[kQueryBlock] = {0.f};
    const float* row = items + i * d;
    for (size_t k = 0; k < d; ++k) {
      const float x = row[k];
      const float* qk = qpack + k * kQueryBlock;
      for (size_t c = 0; c < kQueryBlock; ++c) acc[c] += qk[c] * x;
    }
    for (size_t c = 0; c < kQueryBlock; ++c) tile[i * kQueryBlock + c] = acc[c];
  }
}

size_t candidates_scalar(const float* s, size_t n, float thr, uint32_t* out) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i)
    if (s[i] >= thr) out[count++] = static_cast<uint32_t>(i);
  return count;
}

size_t tile_candidates_scalar(const float* tile, size_t n, const float* thr, uint32_t* out) {
  size_t count = 0;
  for (size_t p = 0; p < n * kQueryBlock; ++p)
    if (tile[p] >= thr[p % kQueryBlock]) out[count++] = static_cast<uint32_t>(p);
  return count;
}

void axpy_scalar(float a, const float* x, float* y, size_t d) {
  for (size_t k = 0; k < d; ++k) y[k] += a * x[k];
}

void scale_scalar(float a, float* y, size_t d) {
  for (size_t k = 0; k < d; ++k) y[k] *= a;
}

float dot_diff_scalar(const float* u, const float* vi, const float* vj, size_t d) {
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
  size_t k = 0;
  for (; k + 4 <= d; k += 4) {
    s0 += u[k] * (vi[k] - vj[k]);
    s1 += u[k + 1] * (vi[k + 1] - vj[k + 1]);
    s2 += u[k + 2] * (vi[k + 2] - vj[k + 2]);
    s3 += u[k + 3] * (vi[k + 3] - vj[k + 3]);
  }
  for (; k < d; ++k) s0 += u[k] * (vi[k] - vj[k]);
  return (s0 + s1) + (s2 + s3);
}

float dot_scalar(const float* a, const float* b, size_t d) { return dot_scalar_impl(a, b, d); }

#include "train_steps.inc"

}  // namespace

const KernelTable& kernels_scalar() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.name = "scalar";
    t.query_block = kQueryBlock;
    t.score_rows = score_rows_scalar;
    t.score_indexed = score_indexed_scalar;
    t.score_tile = score_tile_scalar;
    t.candidates = candidates_scalar;
    t.tile_candidates = tile_candidates_scalar;
    t.axpy = axpy_scalar;
    t.scale = scale_scalar;
    t.dot = dot_scalar;
    t.dot_diff = dot_diff_scalar;
    set_train_steps(t);
    return t;
  }();
  return table;
}

}  // namespace rb

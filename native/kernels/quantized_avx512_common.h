// Shared by quantized_avx512.cpp and quantized_avx512x.cpp, each compiled with its own target flags:
// everything here has internal linkage so each translation unit keeps its own copy and no code built
// for one set of extensions can be picked by the linker for the other.
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace rb {
namespace {

inline __mmask16 q_tail16(size_t r) { return static_cast<__mmask16>((1u << r) - 1u); }

// acc[r] holds lane partials of row r; returns lane r = sum of acc[r]. Integer adds: exact, so the
// tree order does not matter for int8.
inline __m512i reduce16_epi32(const __m512i* acc) {
  __m512i pair[8];
  for (int p = 0; p < 8; ++p) {
    const __m512i a = acc[2 * p], b = acc[2 * p + 1];
    pair[p] = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  }
  __m512i quad[4];
  for (int p = 0; p < 4; ++p) {
    const __m512 a = _mm512_castsi512_ps(pair[2 * p]), b = _mm512_castsi512_ps(pair[2 * p + 1]);
    quad[p] = _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0))),
                               _mm512_castps_si512(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2))));
  }
  const __m512i s0 =
      _mm512_add_epi32(_mm512_shuffle_i32x4(quad[0], quad[1], 0x88), _mm512_shuffle_i32x4(quad[0], quad[1], 0xDD));
  const __m512i s1 =
      _mm512_add_epi32(_mm512_shuffle_i32x4(quad[2], quad[3], 0x88), _mm512_shuffle_i32x4(quad[2], quad[3], 0xDD));
  return _mm512_add_epi32(_mm512_shuffle_i32x4(s0, s1, 0x88), _mm512_shuffle_i32x4(s0, s1, 0xDD));
}

inline __m512 reduce16_ps(const __m512* acc) {
  __m512 pair[8];
  for (int p = 0; p < 8; ++p) {
    const __m512 a = acc[2 * p], b = acc[2 * p + 1];
    pair[p] = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  }
  __m512 quad[4];
  for (int p = 0; p < 4; ++p) {
    const __m512 a = pair[2 * p], b = pair[2 * p + 1];
    quad[p] = _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                            _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  const __m512 s0 =
      _mm512_add_ps(_mm512_shuffle_f32x4(quad[0], quad[1], 0x88), _mm512_shuffle_f32x4(quad[0], quad[1], 0xDD));
  const __m512 s1 =
      _mm512_add_ps(_mm512_shuffle_f32x4(quad[2], quad[3], 0x88), _mm512_shuffle_f32x4(quad[2], quad[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(s0, s1, 0x88), _mm512_shuffle_f32x4(s0, s1, 0xDD));
}

// Calls block(rowIndexOf, contiguousFirst) for groups of 16 rows; rowIndexOf(r) gives the table row
// of lane r, and contiguousFirst is the first row when the 16 rows are consecutive (else SIZE_MAX),
// so per-row scales can be loaded as one vector. The last partial group repeats its final row in the
// missing lanes (every row goes through the same arithmetic, so its score never depends on its
// position) and stores only the valid lanes.
constexpr size_t kNotContiguous = ~size_t{0};

template <class Block>
inline void for_each_16(const int32_t* idx, size_t n, float* out, Block block) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const size_t base = i;
    if (idx) {
      const int32_t* ids = idx + i;
      _mm512_storeu_ps(out + i, block([ids](int r) { return static_cast<size_t>(ids[r]); }, kNotContiguous));
    } else {
      _mm512_storeu_ps(out + i, block([base](int r) { return base + static_cast<size_t>(r); }, base));
    }
  }
  if (i == n) return;
  const size_t rest = n - i, base = i;
  _mm512_mask_storeu_ps(out + i, q_tail16(rest),
                        block(
                            [=](int r) {
                              const size_t rr = static_cast<size_t>(r) < rest ? static_cast<size_t>(r) : rest - 1;
                              return idx ? static_cast<size_t>(idx[base + rr]) : base + rr;
                            },
                            kNotContiguous));
}

// 16 row scales (or row sums) for the lanes: one load for consecutive rows, else gathered.
template <class RowOf>
inline __m512 lane_scales(const float* scale, RowOf row, size_t first) {
  if (first != kNotContiguous) return _mm512_loadu_ps(scale + first);
  alignas(64) int32_t ids[16];
  for (int r = 0; r < 16; ++r) ids[r] = static_cast<int32_t>(row(r));
  return _mm512_i32gather_ps(_mm512_load_si512(ids), scale, 4);
}

template <class RowOf>
inline __m512i lane_sums(const int32_t* sums, RowOf row, size_t first) {
  if (first != kNotContiguous) return _mm512_loadu_si512(sums + first);
  alignas(64) int32_t ids[16];
  for (int r = 0; r < 16; ++r) ids[r] = static_cast<int32_t>(row(r));
  return _mm512_i32gather_epi32(_mm512_load_si512(ids), sums, 4);
}

// (float(dot) * s_i) * s_q, the order every path uses.
inline __m512 i8_finish(__m512i dot, __m512 scales, float qscale) {
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), scales), _mm512_set1_ps(qscale));
}

}  // namespace
}  // namespace rb

// AVX2+FMA quantized kernels: bf16 widened to float32 (a 16-bit shift) and FMA'd, eight rows at a
// time; int8 through maddubs/madd with the sign trick (|q| times x carrying q's sign: pair sums stay
// below 2^15, so nothing saturates). Tails shorter than a vector go through plain scalar code, which
// computes the same products (exact) in the same float32 or int32 accumulators.
#include <immintrin.h>

#include "quantized.h"

namespace rb {
namespace {

inline __m256 widen_bf16(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

inline int32_t hsum_epi32(__m256i v) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1))));
}

void score_bf16_avx2(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  const size_t full = d / 8 * 8;
  for (size_t j = 0; j < n; ++j) {
    const uint16_t* row = items + (idx ? static_cast<size_t>(idx[j]) : j) * d;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= full; k += 16) {
      acc0 = _mm256_fmadd_ps(widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + k))),
                             widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k))), acc0);
      acc1 = _mm256_fmadd_ps(widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + k + 8))),
                             widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k + 8))), acc1);
    }
    if (k < full)
      acc0 = _mm256_fmadd_ps(widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + k))),
                             widen_bf16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k))), acc0);
    float s = hsum(_mm256_add_ps(acc0, acc1));
    for (k = full; k < d; ++k) s += bf16_to_float(q[k]) * bf16_to_float(row[k]);
    out[j] = s;
  }
}

void score_i8_avx2(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t*,
                   const int32_t* idx, size_t n, size_t d, float* out) {
  const size_t full = d / 32 * 32;
  const __m256i ones_i16x16 = _mm256_set1_epi16(1);
  for (size_t j = 0; j < n; ++j) {
    const size_t r = idx ? static_cast<size_t>(idx[j]) : j;
    const int8_t* row = items + r * d;
    __m256i acc = _mm256_setzero_si256();
    for (size_t k = 0; k < full; k += 32) {
      const __m256i q_i8x32 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + k));
      const __m256i x_i8x32 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k));
      const __m256i p_i16x16 = _mm256_maddubs_epi16(_mm256_abs_epi8(q_i8x32), _mm256_sign_epi8(x_i8x32, q_i8x32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_i16x16, ones_i16x16));
    }
    int32_t dot = hsum_epi32(acc);
    for (size_t k = full; k < d; ++k) dot += static_cast<int32_t>(q[k]) * static_cast<int32_t>(row[k]);
    out[j] = (static_cast<float>(dot) * scale[r]) * qscale;
  }
}

const QuantKernels kAvx2{"avx2", score_bf16_avx2, score_i8_avx2};

}  // namespace

const QuantKernels& quant_kernels_avx2() { return kAvx2; }

}  // namespace rb

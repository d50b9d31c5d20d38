// AVX-512 (F, DQ, BW, VL) quantized kernels without the BF16/VNNI extensions: bf16 rows widened to
// float32 (a 16-bit shift) and FMA'd with the widened query; int8 through maddubs/madd with the sign
// trick (|q| times sign-adjusted x, whose pair sums stay below 2^15, so nothing saturates).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "quantized.h"
#include "quantized_avx512_common.h"

namespace rb {
namespace {

inline __m512 widen_bf16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

void score_bf16_avx512(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  const size_t full = d / 16 * 16;
  const __mmask16 tail = q_tail16(d - full);
  for_each_16(idx, n, out, [&](auto row, size_t) {
    __m512 acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t k = 0; k < full; k += 16) {
      const __m512 q_f32x16 = widen_bf16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + k)));
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        acc[r] = _mm512_fmadd_ps(
            q_f32x16, widen_bf16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(items + row(r) * d + k))), acc[r]);
    }
    if (full < d) {
      const __m512 q_f32x16 = widen_bf16(_mm256_maskz_loadu_epi16(tail, q + full));
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        acc[r] =
            _mm512_fmadd_ps(q_f32x16, widen_bf16(_mm256_maskz_loadu_epi16(tail, items + row(r) * d + full)), acc[r]);
    }
    return reduce16_ps(acc);
  });
}

void score_i8_avx512(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t*,
                     const int32_t* idx, size_t n, size_t d, float* out) {
  const __m512i ones_i16x32 = _mm512_set1_epi16(1);
  for_each_16(idx, n, out, [&](auto row, size_t first) {
    __m512i acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_si512();
    for (size_t k = 0; k < d; k += 64) {
      const __mmask64 m = d - k >= 64 ? ~__mmask64{0} : ((__mmask64{1} << (d - k)) - 1);
      const __m512i q_i8x64 = _mm512_maskz_loadu_epi8(m, q + k);
      const __m512i qabs_u8x64 = _mm512_abs_epi8(q_i8x64);
      const __mmask64 neg = _mm512_movepi8_mask(q_i8x64);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) {
        const __m512i x_i8x64 = _mm512_maskz_loadu_epi8(m, items + row(r) * d + k);
        // x with q's sign: negate where q < 0 (x = -128 never occurs: codes are in [-127, 127]).
        const __m512i xs_i8x64 = _mm512_mask_sub_epi8(x_i8x64, neg, _mm512_setzero_si512(), x_i8x64);
        const __m512i p_i16x32 = _mm512_maddubs_epi16(qabs_u8x64, xs_i8x64);
        acc[r] = _mm512_add_epi32(acc[r], _mm512_madd_epi16(p_i16x32, ones_i16x32));
      }
    }
    return i8_finish(reduce16_epi32(acc), lane_scales(scale, row, first), qscale);
  });
}

const QuantKernels kAvx512{"avx512", score_bf16_avx512, score_i8_avx512};

}  // namespace

const QuantKernels& quant_kernels_avx512() { return kAvx512; }

}  // namespace rb

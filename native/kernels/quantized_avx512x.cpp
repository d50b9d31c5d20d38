// AVX-512 with the BF16 and VNNI extensions: vdpbf16ps multiplies 32 bf16 pairs and accumulates
// into 16 float32 lanes (two products per lane, each exact); vpdpbusd multiplies 64 unsigned by
// signed bytes into 16 int32 lanes, so the query goes in as q + 128 (q XOR 0x80) and 128 x rowsum
// comes off again at the end, exactly, in wrap-around int32 arithmetic.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "quantized.h"
#include "quantized_avx512_common.h"

namespace rb {
namespace {

inline __m512bh as_bh(__m512i v) { return reinterpret_cast<__m512bh>(v); }

void score_bf16_avx512x(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  const size_t full = d / 32 * 32;
  const __mmask32 tail = static_cast<__mmask32>((uint64_t{1} << (d - full)) - 1);
  for_each_16(idx, n, out, [&](auto row) {
    __m512 acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_ps();
    for (size_t k = 0; k < full; k += 32) {
      const __m512i q_bf16x32 = _mm512_loadu_si512(q + k);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        acc[r] = _mm512_dpbf16_ps(acc[r], as_bh(q_bf16x32), as_bh(_mm512_loadu_si512(items + row(r) * d + k)));
    }
    if (full < d) {
      const __m512i q_bf16x32 = _mm512_maskz_loadu_epi16(tail, q + full);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        acc[r] = _mm512_dpbf16_ps(acc[r], as_bh(q_bf16x32), as_bh(_mm512_maskz_loadu_epi16(tail, items + row(r) * d + full)));
    }
    return reduce16_ps(acc);
  });
}

void score_i8_avx512x(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t* rowsum,
                      const int32_t* idx, size_t n, size_t d, float* out) {
  const __m512i bias_u8x64 = _mm512_set1_epi8(static_cast<char>(0x80));
  for_each_16(idx, n, out, [&](auto row) {
    __m512i acc[16];
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_si512();
    for (size_t k = 0; k < d; k += 64) {
      const __mmask64 m = d - k >= 64 ? ~__mmask64{0} : ((__mmask64{1} << (d - k)) - 1);
      // Masked-off lanes hold 128 in the query but 0 in the row, so they add nothing.
      const __m512i qu_u8x64 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, q + k), bias_u8x64);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        acc[r] = _mm512_dpbusd_epi32(acc[r], qu_u8x64, _mm512_maskz_loadu_epi8(m, items + row(r) * d + k));
    }
    const __m512i dot = _mm512_sub_epi32(reduce16_epi32(acc), _mm512_slli_epi32(lane_sums(rowsum, row), 7));
    return i8_finish(dot, lane_scales(scale, row), qscale);
  });
}

const QuantKernels kAvx512x{"avx512-bf16-vnni", score_bf16_avx512x, score_i8_avx512x};

}  // namespace

const QuantKernels& quant_kernels_avx512x() { return kAvx512x; }

}  // namespace rb

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

constexpr size_t kPrefetchRows = 256;

// Rows are walked one at a time (a sequential stream of loads, as in the float32 kernel) with the
// query in registers; NC is the number of 32-element (bf16) or 64-element (int8) chunks, 0 = any d.
template <int NC, class RowOf>
inline __m512 bf16_16rows(const uint16_t* q, const uint16_t* items, size_t n, size_t d, RowOf row, size_t first) {
  const size_t full = d / 32 * 32;
  const __mmask32 tail = static_cast<__mmask32>((uint64_t{1} << (d - full)) - 1);
  __m512 acc[16];
  if constexpr (NC > 0) {
    if (first != kNotContiguous && first + kPrefetchRows + 16 <= n)
      for (size_t b = 0; b < 32 * d; b += 64)
        _mm_prefetch(reinterpret_cast<const char*>(items + (first + kPrefetchRows) * d) + b, _MM_HINT_T0);
    __m512i q_bf16x32[NC];
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c)
      q_bf16x32[c] = _mm512_maskz_loadu_epi16(32 * (c + 1) <= static_cast<int>(d) ? ~__mmask32{0} : tail, q + 32 * c);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) {
      const uint16_t* p = items + row(r) * d;
      __m512 a = _mm512_setzero_ps();
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const __m512i x = 32 * (c + 1) <= static_cast<int>(d) ? _mm512_loadu_si512(p + 32 * c)
                                                              : _mm512_maskz_loadu_epi16(tail, p + 32 * c);
        a = _mm512_dpbf16_ps(a, as_bh(q_bf16x32[c]), as_bh(x));
      }
      acc[r] = a;
    }
  } else {
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
        acc[r] = _mm512_dpbf16_ps(acc[r], as_bh(q_bf16x32),
                                  as_bh(_mm512_maskz_loadu_epi16(tail, items + row(r) * d + full)));
    }
  }
  return reduce16_ps(acc);
}

template <int NC>
void bf16_rows(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  for_each_16(idx, n, out, [&](auto row, size_t first) { return bf16_16rows<NC>(q, items, n, d, row, first); });
}

void score_bf16_avx512x(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  switch ((d + 31) / 32) {
    case 1:
      return bf16_rows<1>(q, items, idx, n, d, out);
    case 2:
      return bf16_rows<2>(q, items, idx, n, d, out);
    case 3:
      return bf16_rows<3>(q, items, idx, n, d, out);
    case 4:
      return bf16_rows<4>(q, items, idx, n, d, out);
    default:
      return bf16_rows<0>(q, items, idx, n, d, out);
  }
}

template <int NC>
void i8_rows(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t* rowsum,
             const int32_t* idx, size_t n, size_t d, float* out) {
  const __m512i bias_u8x64 = _mm512_set1_epi8(static_cast<char>(0x80));
  const size_t chunks = (d + 63) / 64;
  const __mmask64 tail = d % 64 ? ((__mmask64{1} << (d % 64)) - 1) : ~__mmask64{0};
  const bool has_tail = d % 64 != 0;
  // Masked-off lanes hold 128 in the query but 0 in the row, so they add nothing.
  __m512i qu_u8x64[NC > 0 ? NC : 1];
  if constexpr (NC > 0)
    for (int c = 0; c < NC; ++c)
      qu_u8x64[c] =
          _mm512_xor_si512(_mm512_maskz_loadu_epi8(c == NC - 1 ? tail : ~__mmask64{0}, q + 64 * c), bias_u8x64);
  for_each_16(idx, n, out, [&](auto row, size_t first) {
    __m512i acc[16];
    if constexpr (NC > 0) {
      // One int8 row per cache line leaves the hardware prefetcher behind on a single core: ask
      // for the lines kPrefetchRows ahead explicitly.
      if (first != kNotContiguous && first + kPrefetchRows + 16 <= n)
        for (size_t b = 0; b < 16 * d; b += 64)
          _mm_prefetch(reinterpret_cast<const char*>(items + (first + kPrefetchRows) * d + b), _MM_HINT_T0);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) {
        const int8_t* p = items + row(r) * d;
        __m512i a = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int c = 0; c < NC; ++c) {
          // Unmasked loads for whole chunks: byte-masked loads cost extra on the hot path.
          const __m512i x =
              c == NC - 1 && has_tail ? _mm512_maskz_loadu_epi8(tail, p + 64 * c) : _mm512_loadu_si512(p + 64 * c);
          a = _mm512_dpbusd_epi32(a, qu_u8x64[c], x);
        }
        acc[r] = a;
      }
    } else {
      for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_si512();
      for (size_t c = 0; c < chunks; ++c) {
        const __mmask64 m = c + 1 == chunks ? tail : ~__mmask64{0};
        const __m512i qu = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, q + 64 * c), bias_u8x64);
#pragma GCC unroll 16
        for (int r = 0; r < 16; ++r)
          acc[r] = _mm512_dpbusd_epi32(acc[r], qu, _mm512_maskz_loadu_epi8(m, items + row(r) * d + 64 * c));
      }
    }
    const __m512i dot = _mm512_sub_epi32(reduce16_epi32(acc), _mm512_slli_epi32(lane_sums(rowsum, row, first), 7));
    return i8_finish(dot, lane_scales(scale, row, first), qscale);
  });
}

void score_i8_avx512x(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t* rowsum,
                      const int32_t* idx, size_t n, size_t d, float* out) {
  switch ((d + 63) / 64) {
    case 1:
      return i8_rows<1>(q, qscale, items, scale, rowsum, idx, n, d, out);
    case 2:
      return i8_rows<2>(q, qscale, items, scale, rowsum, idx, n, d, out);
    default:
      return i8_rows<0>(q, qscale, items, scale, rowsum, idx, n, d, out);
  }
}

const QuantKernels kAvx512x{"avx512-bf16-vnni", score_bf16_avx512x, score_i8_avx512x};

}  // namespace

const QuantKernels& quant_kernels_avx512x() { return kAvx512x; }

}  // namespace rb

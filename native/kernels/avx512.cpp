// AVX-512 (F, DQ, BW, VL) path. Compiled with AVX-512 target flags for this file only; called only
// when isa.cpp found the CPU and OS support it. No standard-library headers here, so no inline
// library code compiled for AVX-512 can leak into the other paths through the linker.
//
// Single-query scoring streams 16 rows at a time with one accumulator per row and reduces the 16
// accumulators with a shuffle tree into one vector of 16 scores (about 3 shuffles+adds per row rather
// than a full horizontal sum per row). The block product holds a 6-row x 32-query tile of scores in
// 12 registers and feeds it one broadcast item element and two query vectors per step.
// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_ps() placeholders.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernel_table.h"

namespace rb {
namespace {

constexpr size_t kQueryBlock = 32;
constexpr int kTileRows = 6;

inline __mmask16 tail_mask16(size_t r) { return static_cast<__mmask16>((1u << r) - 1u); }

// acc[r] holds lane partials of row r; returns lane r = sum of acc[r].
inline __m512 reduce16x16(const __m512* acc) {
  __m512 pair[8];
  for (int p = 0; p < 8; ++p) {
    const __m512 a = acc[2 * p], b = acc[2 * p + 1];
    pair[p] = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // [a b a b]/lane
  }
  __m512 quad[4];
  for (int p = 0; p < 4; ++p) {
    const __m512 a = pair[2 * p], b = pair[2 * p + 1];
    quad[p] = _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                            _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));  // rows 4p..4p+3
  }
  const __m512 s0 =
      _mm512_add_ps(_mm512_shuffle_f32x4(quad[0], quad[1], 0x88), _mm512_shuffle_f32x4(quad[0], quad[1], 0xDD));
  const __m512 s1 =
      _mm512_add_ps(_mm512_shuffle_f32x4(quad[2], quad[3], 0x88), _mm512_shuffle_f32x4(quad[2], quad[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(s0, s1, 0x88), _mm512_shuffle_f32x4(s0, s1, 0xDD));
}

// Runs block(row) over blocks of 16 rows (row(r) gives the r-th row's pointer) and stores the 16
// scores. The last partial block repeats its final row in the missing lanes and stores only the
// valid ones: every row then goes through the same FMA chain and reduction tree, so a row's score
// never depends on its position (subset vs full scan, chunk or thread boundaries).
template <class Block>
inline void for_each_block(const float* items, const int32_t* idx, size_t n, size_t d, float* out, Block block) {
  size_t i = 0;
  if (idx) {
    for (; i + 16 <= n; i += 16) {
      const int32_t* ids = idx + i;
      _mm512_storeu_ps(out + i, block([items, ids, d](int r) { return items + static_cast<size_t>(ids[r]) * d; }));
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const float* base = items + i * d;
      _mm512_storeu_ps(out + i, block([base, d](int r) { return base + static_cast<size_t>(r) * d; }));
    }
  }
  if (i == n) return;
  const size_t rest = n - i;
  const int32_t* ids = idx ? idx + i : nullptr;
  const float* base = items + i * d;
  _mm512_mask_storeu_ps(out + i, tail_mask16(rest), block([=](int r) {
                          const size_t rr = static_cast<size_t>(r) < rest ? static_cast<size_t>(r) : rest - 1;
                          return ids ? items + static_cast<size_t>(ids[rr]) * d : base + rr * d;
                        }));
}

// Scores 16 rows whose start pointers come from row(r).
template <class RowAt>
inline __m512 dot_16rows(const float* q, size_t d, RowAt row) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int r = 0; r < 16; ++r) acc[r] = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 16 <= d; k += 16) {
    const __m512 q_f32x16 = _mm512_loadu_ps(q + k);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_fmadd_ps(q_f32x16, _mm512_loadu_ps(row(r) + k), acc[r]);
  }
  if (k < d) {
    const __mmask16 m = tail_mask16(d - k);
    const __m512 q_f32x16 = _mm512_maskz_loadu_ps(m, q + k);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) acc[r] = _mm512_fmadd_ps(q_f32x16, _mm512_maskz_loadu_ps(m, row(r) + k), acc[r]);
  }
  return reduce16x16(acc);
}

// Small d (up to 8 chunks of 16): the query stays in registers and rows are walked with one pointer,
// so the loop is a plain sequential stream of loads feeding 16 independent FMA chains.
template <int NC, class RowAt>
inline __m512 dot_16rows_fixed(const __m512* q, __mmask16 last, RowAt row) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int r = 0; r < 16; ++r) {
    const float* p = row(r);
    __m512 a = NC == 1 ? _mm512_mul_ps(q[0], _mm512_maskz_loadu_ps(last, p)) : _mm512_mul_ps(q[0], _mm512_loadu_ps(p));
#pragma GCC unroll 8
    for (int c = 1; c < NC; ++c)
      a = _mm512_fmadd_ps(q[c], c == NC - 1 ? _mm512_maskz_loadu_ps(last, p + 16 * c) : _mm512_loadu_ps(p + 16 * c), a);
    acc[r] = a;
  }
  return reduce16x16(acc);
}

template <int NC>
void score_fixed(const float* qp, const float* items, const int32_t* idx, size_t n, size_t d, float* out) {
  const __mmask16 last = d % 16 ? tail_mask16(d % 16) : static_cast<__mmask16>(0xFFFF);
  __m512 q[NC];
#pragma GCC unroll 8
  for (int c = 0; c < NC; ++c)
    q[c] = c == NC - 1 ? _mm512_maskz_loadu_ps(last, qp + 16 * c) : _mm512_loadu_ps(qp + 16 * c);
  for_each_block(items, idx, n, d, out, [&](auto row) { return dot_16rows_fixed<NC>(q, last, row); });
}

// Returns false when d is outside the fixed-size range.
bool score_small_d(const float* q, const float* items, const int32_t* idx, size_t n, size_t d, float* out) {
  switch ((d + 15) / 16) {
    case 1:
      score_fixed<1>(q, items, idx, n, d, out);
      return true;
    case 2:
      score_fixed<2>(q, items, idx, n, d, out);
      return true;
    case 3:
      score_fixed<3>(q, items, idx, n, d, out);
      return true;
    case 4:
      score_fixed<4>(q, items, idx, n, d, out);
      return true;
    case 5:
      score_fixed<5>(q, items, idx, n, d, out);
      return true;
    case 6:
      score_fixed<6>(q, items, idx, n, d, out);
      return true;
    case 7:
      score_fixed<7>(q, items, idx, n, d, out);
      return true;
    case 8:
      score_fixed<8>(q, items, idx, n, d, out);
      return true;
    default:
      return false;
  }
}

void score_rows_avx512(const float* q, const float* items, size_t n, size_t d, float* out) {
  if (score_small_d(q, items, nullptr, n, d, out)) return;
  for_each_block(items, nullptr, n, d, out, [&](auto row) { return dot_16rows(q, d, row); });
}

void score_indexed_avx512(const float* q, const float* items, size_t d, const int32_t* idx, size_t m, float* out) {
  if (score_small_d(q, items, idx, m, d, out)) return;
  for_each_block(items, idx, m, d, out, [&](auto row) { return dot_16rows(q, d, row); });
}

template <int NR>
inline void tile_rows(const float* qpack, const float* rows, size_t d, float* tile) {
  __m512 lo[NR], hi[NR];
#pragma GCC unroll 6
  for (int r = 0; r < NR; ++r) lo[r] = hi[r] = _mm512_setzero_ps();
  for (size_t k = 0; k < d; ++k) {
    const __m512 qlo_f32x16 = _mm512_load_ps(qpack + k * kQueryBlock);
    const __m512 qhi_f32x16 = _mm512_load_ps(qpack + k * kQueryBlock + 16);
#pragma GCC unroll 6
    for (int r = 0; r < NR; ++r) {
      const __m512 x = _mm512_set1_ps(rows[static_cast<size_t>(r) * d + k]);
      lo[r] = _mm512_fmadd_ps(qlo_f32x16, x, lo[r]);
      hi[r] = _mm512_fmadd_ps(qhi_f32x16, x, hi[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < NR; ++r) {
    _mm512_storeu_ps(tile + r * kQueryBlock, lo[r]);
    _mm512_storeu_ps(tile + r * kQueryBlock + 16, hi[r]);
  }
}

void score_tile_avx512(const float* qpack, const float* items, size_t n, size_t d, float* tile) {
  size_t i = 0;
  for (; i + kTileRows <= n; i += kTileRows) tile_rows<kTileRows>(qpack, items + i * d, d, tile + i * kQueryBlock);
  const float* rows = items + i * d;
  float* t = tile + i * kQueryBlock;
  switch (n - i) {
    case 5:
      tile_rows<5>(qpack, rows, d, t);
      break;
    case 4:
      tile_rows<4>(qpack, rows, d, t);
      break;
    case 3:
      tile_rows<3>(qpack, rows, d, t);
      break;
    case 2:
      tile_rows<2>(qpack, rows, d, t);
      break;
    case 1:
      tile_rows<1>(qpack, rows, d, t);
      break;
    default:
      break;
  }
}

size_t candidates_avx512(const float* s, size_t n, float thr, uint32_t* out) {
  const __m512 t = _mm512_set1_ps(thr);
  size_t count = 0, i = 0;
  for (; i < n; i += 16) {
    const __mmask16 valid = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : tail_mask16(n - i);
    unsigned m = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, s + i), t, _CMP_GE_OQ);
    while (m) {
      out[count++] = static_cast<uint32_t>(i + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  return count;
}

size_t tile_candidates_avx512(const float* tile, size_t n, const float* thr, uint32_t* out) {
  const __m512 tlo = _mm512_loadu_ps(thr), thi = _mm512_loadu_ps(thr + 16);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* row = tile + i * kQueryBlock;
    uint32_t m = _mm512_cmp_ps_mask(_mm512_loadu_ps(row), tlo, _CMP_GE_OQ) |
                 (static_cast<uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(row + 16), thi, _CMP_GE_OQ)) << 16);
    while (m) {
      out[count++] = static_cast<uint32_t>(i * kQueryBlock + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  return count;
}

void axpy_avx512(float a, const float* x, float* y, size_t d) {
  const __m512 av = _mm512_set1_ps(a);
  size_t k = 0;
  for (; k + 16 <= d; k += 16)
    _mm512_storeu_ps(y + k, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + k), _mm512_loadu_ps(y + k)));
  if (k < d) {
    const __mmask16 m = tail_mask16(d - k);
    _mm512_mask_storeu_ps(y + k, m,
                          _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + k), _mm512_maskz_loadu_ps(m, y + k)));
  }
}

void scale_avx512(float a, float* y, size_t d) {
  const __m512 av = _mm512_set1_ps(a);
  size_t k = 0;
  for (; k + 16 <= d; k += 16) _mm512_storeu_ps(y + k, _mm512_mul_ps(av, _mm512_loadu_ps(y + k)));
  if (k < d) {
    const __mmask16 m = tail_mask16(d - k);
    _mm512_mask_storeu_ps(y + k, m, _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, y + k)));
  }
}

float dot_diff_avx512(const float* u, const float* vi, const float* vj, size_t d) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 32 <= d; k += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(u + k), _mm512_sub_ps(_mm512_loadu_ps(vi + k), _mm512_loadu_ps(vj + k)), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(u + k + 16),
                         _mm512_sub_ps(_mm512_loadu_ps(vi + k + 16), _mm512_loadu_ps(vj + k + 16)), a1);
  }
  for (; k < d; k += 16) {
    const __mmask16 m = d - k >= 16 ? static_cast<__mmask16>(0xFFFF) : tail_mask16(d - k);
    a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, u + k),
                         _mm512_sub_ps(_mm512_maskz_loadu_ps(m, vi + k), _mm512_maskz_loadu_ps(m, vj + k)), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float dot_avx512(const float* a, const float* b, size_t d) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 32 <= d; k += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), a1);
  }
  for (; k < d; k += 16) {
    const __mmask16 m = d - k >= 16 ? static_cast<__mmask16>(0xFFFF) : tail_mask16(d - k);
    a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), a0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

#include "train_steps.inc"

}  // namespace

const KernelTable& kernels_avx512() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.name = "avx512";
    t.query_block = kQueryBlock;
    t.score_rows = score_rows_avx512;
    t.score_indexed = score_indexed_avx512;
    t.score_tile = score_tile_avx512;
    t.candidates = candidates_avx512;
    t.tile_candidates = tile_candidates_avx512;
    t.axpy = axpy_avx512;
    t.scale = scale_avx512;
    t.dot = dot_avx512;
    t.dot_diff = dot_diff_avx512;
    set_train_steps(t);
    return t;
  }();
  return table;
}

}  // namespace rb

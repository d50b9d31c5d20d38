// AVX2 + FMA path: the same structure as avx512.cpp at half the width (8-row score blocks, a 6-row x
// 16-query register tile that uses 15 of the 16 ymm registers). Compiled with -mavx2 -mfma for this
// file only; no standard-library headers, for the same reason as avx512.cpp.
#include <immintrin.h>

#include "kernel_table.h"

namespace rb {
namespace {

constexpr size_t kQueryBlock = 16;
constexpr int kTileRows = 6;

alignas(32) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
// Lanes [0, r) set, for 0 < r < 8.
inline __m256i tail_mask8(size_t r) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - r)); }

// acc[r] holds lane partials of row r; returns lane r = sum of acc[r].
inline __m256 reduce8x8(const __m256* acc) {
  __m256 pair[4];
  for (int p = 0; p < 4; ++p) {
    const __m256 a = acc[2 * p], b = acc[2 * p + 1];
    pair[p] = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
  }
  const __m256 q0 = _mm256_add_ps(_mm256_shuffle_ps(pair[0], pair[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(pair[0], pair[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 q1 = _mm256_add_ps(_mm256_shuffle_ps(pair[2], pair[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(pair[2], pair[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
}

template <class RowAt>
inline __m256 dot_8rows(const float* q, size_t d, RowAt row) {
  __m256 acc[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) acc[r] = _mm256_setzero_ps();
  size_t k = 0;
  for (; k + 8 <= d; k += 8) {
    const __m256 q_f32x8 = _mm256_loadu_ps(q + k);
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(q_f32x8, _mm256_loadu_ps(row(r) + k), acc[r]);
  }
  if (k < d) {
    const __m256i m = tail_mask8(d - k);
    const __m256 q_f32x8 = _mm256_maskload_ps(q + k, m);
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(q_f32x8, _mm256_maskload_ps(row(r) + k, m), acc[r]);
  }
  return reduce8x8(acc);
}

// Blocks of 8 rows; the last partial block repeats its final row and stores only the valid lanes, so
// every row takes the same arithmetic path wherever it sits (see avx512.cpp).
template <class Block>
inline void for_each_block(const float* items, const int32_t* idx, size_t n, size_t d, float* out, Block block) {
  size_t i = 0;
  if (idx) {
    for (; i + 8 <= n; i += 8) {
      const int32_t* ids = idx + i;
      _mm256_storeu_ps(out + i, block([items, ids, d](int r) { return items + static_cast<size_t>(ids[r]) * d; }));
    }
  } else {
    for (; i + 8 <= n; i += 8) {
      const float* base = items + i * d;
      _mm256_storeu_ps(out + i, block([base, d](int r) { return base + static_cast<size_t>(r) * d; }));
    }
  }
  if (i == n) return;
  const size_t rest = n - i;
  const int32_t* ids = idx ? idx + i : nullptr;
  const float* base = items + i * d;
  _mm256_maskstore_ps(out + i, tail_mask8(rest), block([=](int r) {
                        const size_t rr = static_cast<size_t>(r) < rest ? static_cast<size_t>(r) : rest - 1;
                        return ids ? items + static_cast<size_t>(ids[rr]) * d : base + rr * d;
                      }));
}

void score_rows_avx2(const float* q, const float* items, size_t n, size_t d, float* out) {
  for_each_block(items, nullptr, n, d, out, [&](auto row) { return dot_8rows(q, d, row); });
}

void score_indexed_avx2(const float* q, const float* items, size_t d, const int32_t* idx, size_t m, float* out) {
  for_each_block(items, idx, m, d, out, [&](auto row) { return dot_8rows(q, d, row); });
}

template <int NR>
inline void tile_rows(const float* qpack, const float* rows, size_t d, float* tile) {
  __m256 lo[NR], hi[NR];
#pragma GCC unroll 6
  for (int r = 0; r < NR; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
  for (size_t k = 0; k < d; ++k) {
    const __m256 qlo_f32x8 = _mm256_load_ps(qpack + k * kQueryBlock);
    const __m256 qhi_f32x8 = _mm256_load_ps(qpack + k * kQueryBlock + 8);
#pragma GCC unroll 6
    for (int r = 0; r < NR; ++r) {
      const __m256 x = _mm256_broadcast_ss(rows + static_cast<size_t>(r) * d + k);
      lo[r] = _mm256_fmadd_ps(qlo_f32x8, x, lo[r]);
      hi[r] = _mm256_fmadd_ps(qhi_f32x8, x, hi[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < NR; ++r) {
    _mm256_storeu_ps(tile + r * kQueryBlock, lo[r]);
    _mm256_storeu_ps(tile + r * kQueryBlock + 8, hi[r]);
  }
}

void score_tile_avx2(const float* qpack, const float* items, size_t n, size_t d, float* tile) {
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

size_t candidates_avx2(const float* s, size_t n, float thr, uint32_t* out) {
  const __m256 t = _mm256_set1_ps(thr);
  size_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + i), t, _CMP_GE_OQ)));
    while (m) {
      out[count++] = static_cast<uint32_t>(i + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  for (; i < n; ++i)
    if (s[i] >= thr) out[count++] = static_cast<uint32_t>(i);
  return count;
}

size_t tile_candidates_avx2(const float* tile, size_t n, const float* thr, uint32_t* out) {
  const __m256 tlo = _mm256_loadu_ps(thr), thi = _mm256_loadu_ps(thr + 8);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* row = tile + i * kQueryBlock;
    unsigned m =
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row), tlo, _CMP_GE_OQ))) |
        (static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + 8), thi, _CMP_GE_OQ))) << 8);
    while (m) {
      out[count++] = static_cast<uint32_t>(i * kQueryBlock + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  return count;
}

void axpy_avx2(float a, const float* x, float* y, size_t d) {
  const __m256 av = _mm256_set1_ps(a);
  size_t k = 0;
  for (; k + 8 <= d; k += 8)
    _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
  for (; k < d; ++k) y[k] += a * x[k];
}

void scale_avx2(float a, float* y, size_t d) {
  const __m256 av = _mm256_set1_ps(a);
  size_t k = 0;
  for (; k + 8 <= d; k += 8) _mm256_storeu_ps(y + k, _mm256_mul_ps(av, _mm256_loadu_ps(y + k)));
  for (; k < d; ++k) y[k] *= a;
}

float dot_diff_avx2(const float* u, const float* vi, const float* vj, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t k = 0;
  for (; k + 16 <= d; k += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(u + k), _mm256_sub_ps(_mm256_loadu_ps(vi + k), _mm256_loadu_ps(vj + k)), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(u + k + 8),
                         _mm256_sub_ps(_mm256_loadu_ps(vi + k + 8), _mm256_loadu_ps(vj + k + 8)), a1);
  }
  for (; k < d; k += 8) {
    const __m256i m = d - k >= 8 ? _mm256_set1_epi32(-1) : tail_mask8(d - k);
    a0 = _mm256_fmadd_ps(_mm256_maskload_ps(u + k, m),
                         _mm256_sub_ps(_mm256_maskload_ps(vi + k, m), _mm256_maskload_ps(vj + k, m)), a0);
  }
  const __m256 s = _mm256_add_ps(a0, a1);
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

float dot_avx2(const float* a, const float* b, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t k = 0;
  for (; k + 16 <= d; k += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), a1);
  }
  for (; k < d; k += 8) {
    const __m256i m = d - k >= 8 ? _mm256_set1_epi32(-1) : tail_mask8(d - k);
    a0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m), _mm256_maskload_ps(b + k, m), a0);
  }
  const __m256 s = _mm256_add_ps(a0, a1);
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

#include "train_steps.inc"

}  // namespace

const KernelTable& kernels_avx2() {
  static const KernelTable table = [] {
    KernelTable t{};
    t.name = "avx2";
    t.query_block = kQueryBlock;
    t.score_rows = score_rows_avx2;
    t.score_indexed = score_indexed_avx2;
    t.score_tile = score_tile_avx2;
    t.candidates = candidates_avx2;
    t.tile_candidates = tile_candidates_avx2;
    t.axpy = axpy_avx2;
    t.scale = scale_avx2;
    t.dot = dot_avx2;
    t.dot_diff = dot_diff_avx2;
    set_train_steps(t);
    return t;
  }();
  return table;
}

}  // namespace rb

// Quantized item tables for single-query serving: bf16 rows, and int8 rows with one float scale per
// row. A 1M x 64 scan is memory-bound, so halving (bf16) or quartering (int8) the bytes read is the
// whole point; the arithmetic is chosen so every ISA path computes the same thing.
//
// Numerics:
// - bf16: the query is rounded to bf16 (round-to-nearest-even) like the items, so each product is
//   exact in float32 (8-bit x 8-bit significands); paths differ only in float32 summation order, so
//   they agree to within a few ulps x d of the sum of |products|. Against the float32 score the
//   error is bounded by about 2^-7 x sum_k |q_k x_k| (two roundings of relative size 2^-8: bf16
//   keeps 8 significant bits).
// - int8: row i holds round(x / s_i) with s_i = max|x| / 127 (symmetric, per row), plus the row's code
//   sum; the query is quantized the same way (scale s_q). The integer dot product is exact on every
//   path (int32, d <= kMaxInt8Dim), so scores are bit-identical across ISAs:
//   score = float(dot) * s_i * s_q, evaluated as (float(dot) * s_i) * s_q everywhere.
//   Against float32 the error is at most (|q|_1 s_i + |x|_1 s_q) / 2 + d s_i s_q / 4.
//   A row (or query) holding NaN gets scale NaN: its scores are NaN and top-K never returns it, as
//   with float32 and bf16. A row with an infinite value (and no NaN) quantizes to zeros, scale 0.
//   VNNI multiplies unsigned by signed bytes, so it feeds q + 128 and subtracts 128 x rowsum (exact in
//   wrap-around int32 arithmetic).
//
// Conventions as in kernel_table.h: rows are contiguous (stride d), lengths may be zero with null
// pointers, nothing allocates in the per-ISA kernels or touches Node-API.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "constants.h"
#include "isa.h"
#include "scoring.h"

namespace rb {

// Largest d for which an int8 dot product (|code| <= 127) cannot overflow int32.
constexpr size_t kMaxInt8Dim = 131072;

struct QuantTable {
  QuantKind kind;
  const uint16_t* bf16;   // rows x dim (kind Bf16)
  const int8_t* i8;       // rows x dim (kind Int8)
  const float* scale;     // rows (kind Int8)
  const int32_t* rowsum;  // rows: sum of each row's codes (kind Int8)
  size_t rows;
  size_t dim;
};

// A query prepared once per call for the table's kind.
struct QuantQuery {
  const uint16_t* bf16 = nullptr;  // dim values
  const int8_t* i8 = nullptr;      // dim values
  float scale = 0.f;               // int8 only
};

struct QuantKernels {
  const char* name;
  // out[j] = <q, row j> for j in [0, n) rows starting at `items`, or rows idx[j] of the table when
  // idx is non-null (then `items` is the table's first row). Indices are trusted.
  void (*score_bf16)(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out);
  // scale/rowsum are indexed like items (first row's entries, or the table's with idx).
  void (*score_i8)(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t* rowsum,
                   const int32_t* idx, size_t n, size_t d, float* out);
};

const QuantKernels& quant_kernels_scalar();
const QuantKernels& quant_kernels_avx2();
const QuantKernels& quant_kernels_avx512();
// AVX-512 with the BF16 (vdpbf16ps) and VNNI (vpdpbusd) extensions: the Avx512x level.
const QuantKernels& quant_kernels_avx512x();

// The kernels at kernel_level() (isa.h), so force_isa moves them together with the other families,
// and the Avx512 level runs the BF16+VNNI kernels where the CPU has them unless extensions are off.
const QuantKernels& active_quant_kernels();
// use_isa_extensions under the binding's name (quantUseExtensions): of all families, only the
// quantized kernels have an Avx512x table.
void quant_use_extensions(bool on);

// Round-to-nearest-even float -> bf16 (NaN stays NaN).
uint16_t float_to_bf16(float x);
// Internal linkage: per-ISA files include this header with their own -m flags, and a shared inline
// copy picked by the linker could carry AVX2 instructions into callers on CPUs without AVX2.
static inline float bf16_to_float(uint16_t h) {
  union {
    uint32_t u;
    float f;
  } v{static_cast<uint32_t>(h) << 16};
  return v.f;
}

// Quantizes rows [begin, end) of a rows x dim float table (out arrays are indexed by row).
void quantize_bf16(const float* src, size_t begin, size_t end, size_t dim, uint16_t* out);
void quantize_i8(const float* src, size_t begin, size_t end, size_t dim, int8_t* out, float* scale, int32_t* rowsum);
// One query for the int8 kernels: codes into q (dim values); returns the scale.
float quantize_i8_query(const float* q, size_t dim, int8_t* out);

// Scores of one float32 query against every row, or rows subset[0..m).
void quant_score(const QuantTable& t, const float* q, const int32_t* subset, size_t m, float* out, size_t threads);

// Exact top-K of the quantized scores (ties by lower index; exclusions, block list and allow-list
// applied during the scan as in topk_one). With rerank > 0 and an f32 table, the best
// max(rerank, k) quantized candidates are re-scored in float32 against f32 and the exact top-k
// among them is returned (scores are then float32 dot products).
size_t quant_topk(const QuantTable& t, const float* q, const TopKOptions& opt, const int32_t* exclude,
                  size_t exclude_len, size_t rerank, const ItemTable* f32, int32_t* out_idx, float* out_scores);

}  // namespace rb

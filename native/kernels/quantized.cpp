// Quantized scoring: the scalar reference kernels, the per-level table, quantization and the top-K
// driver. The per-ISA kernels live in quantized_avx2.cpp, quantized_avx512.cpp and quantized_avx512x.cpp.
#include "quantized.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "isa.h"
#include "kernel_table.h"
#include "thread_pool.h"
#include "topk_heap.h"

namespace rb {
namespace {

// Plain loops: the reference the SIMD paths are tested against.
void score_bf16_scalar(const uint16_t* q, const uint16_t* items, const int32_t* idx, size_t n, size_t d, float* out) {
  for (size_t j = 0; j < n; ++j) {
    const uint16_t* row = items + (idx ? static_cast<size_t>(idx[j]) : j) * d;
    float s0 = 0.f, s1 = 0.f;
    size_t k = 0;
    for (; k + 2 <= d; k += 2) {
      s0 += bf16_to_float(q[k]) * bf16_to_float(row[k]);
      s1 += bf16_to_float(q[k + 1]) * bf16_to_float(row[k + 1]);
    }
    if (k < d) s0 += bf16_to_float(q[k]) * bf16_to_float(row[k]);
    out[j] = s0 + s1;
  }
}

void score_i8_scalar(const int8_t* q, float qscale, const int8_t* items, const float* scale, const int32_t*,
                     const int32_t* idx, size_t n, size_t d, float* out) {
  for (size_t j = 0; j < n; ++j) {
    const size_t r = idx ? static_cast<size_t>(idx[j]) : j;
    const int8_t* row = items + r * d;
    int32_t acc = 0;
    for (size_t k = 0; k < d; ++k) acc += static_cast<int32_t>(q[k]) * static_cast<int32_t>(row[k]);
    out[j] = (static_cast<float>(acc) * scale[r]) * qscale;
  }
}

const QuantKernels kScalar{"scalar", score_bf16_scalar, score_i8_scalar};

constexpr size_t kChunk = 256;
constexpr size_t kMinParallelBytes = size_t{1} << 20;
constexpr size_t kMinRowsPerPart = 8192;

size_t split_parts(size_t rows, size_t row_bytes, size_t threads) {
  if (threads <= 1 || rows * row_bytes < kMinParallelBytes) return 1;
  return std::max<size_t>(1, std::min(threads, rows / kMinRowsPerPart));
}

struct Prepared {
  std::vector<uint16_t> bf16;
  std::vector<int8_t> i8;
  QuantQuery q;
};

void prepare(const QuantTable& t, const float* q, Prepared& p) {
  if (t.kind == QuantKind::Bf16) {
    p.bf16.resize(t.dim);
    for (size_t k = 0; k < t.dim; ++k) p.bf16[k] = float_to_bf16(q[k]);
    p.q.bf16 = p.bf16.data();
  } else {
    p.i8.resize(t.dim);
    p.q.scale = quantize_i8_query(q, t.dim, p.i8.data());
    p.q.i8 = p.i8.data();
  }
}

// Scores n rows: contiguous from row `first`, or rows idx[0..n) of the table.
inline void score_block(const QuantKernels& kern, const QuantTable& t, const QuantQuery& q, size_t first,
                        const int32_t* idx, size_t n, float* out) {
  if (t.kind == QuantKind::Bf16) {
    kern.score_bf16(q.bf16, idx ? t.bf16 : t.bf16 + first * t.dim, idx, n, t.dim, out);
  } else if (idx) {
    kern.score_i8(q.i8, q.scale, t.i8, t.scale, t.rowsum, idx, n, t.dim, out);
  } else {
    kern.score_i8(q.i8, q.scale, t.i8 + first * t.dim, t.scale + first, t.rowsum + first, nullptr, n, t.dim, out);
  }
}

void scan_range(const QuantKernels& kern, const KernelTable& fk, const QuantTable& t, const QuantQuery& q,
                const int32_t* allow, size_t begin, size_t end, const Exclusions& ex, TopKHeap& heap) {
  float scores[kChunk];
  uint32_t cand[kChunk];
  for (size_t c = begin; c < end; c += kChunk) {
    const size_t len = std::min(kChunk, end - c);
    score_block(kern, t, q, c, allow ? allow + c : nullptr, len, scores);
    const size_t nc = fk.candidates(scores, len, heap.threshold(), cand);
    for (size_t j = 0; j < nc; ++j) {
      const size_t pos = cand[j];
      const int32_t item = allow ? allow[c + pos] : static_cast<int32_t>(c + pos);
      if (ex.excludes(item)) continue;
      heap.offer(scores[pos], item);
    }
  }
}

}  // namespace

const QuantKernels& quant_kernels_scalar() { return kScalar; }

const QuantKernels& active_quant_kernels() {
  static constexpr IsaTables<QuantKernels> tables{{quant_kernels_scalar, RB_X86_ONLY(quant_kernels_avx2),
                                                   RB_X86_ONLY(quant_kernels_avx512),
                                                   RB_X86_ONLY(quant_kernels_avx512x)}};
  return tables.active();
}

void quant_use_extensions(bool on) { use_isa_extensions(on); }

uint16_t float_to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

void quantize_bf16(const float* src, size_t begin, size_t end, size_t dim, uint16_t* out) {
  for (size_t i = begin * dim; i < end * dim; ++i) out[i] = float_to_bf16(src[i]);
}

namespace {
// Symmetric codes round(x / s) in [-127, 127]; s = max|x| / 127 (0 for an all-zero row). A row
// holding NaN gets scale NaN, so all its scores are NaN and top-K never returns it, as for float32
// and bf16 rows (std::max skips NaN, which used to leave it as code 127: a NaN row could rank first).
float quantize_row(const float* x, size_t dim, int8_t* out, int32_t* sum) {
  float m = 0.f;
  bool nan = false;
  for (size_t k = 0; k < dim; ++k) {
    nan |= std::isnan(x[k]);
    m = std::max(m, std::fabs(x[k]));
  }
  int32_t s = 0;
  if (nan || !(m > 0.f) || !std::isfinite(m)) {
    std::fill(out, out + dim, int8_t{0});
    if (sum) *sum = 0;
    return nan ? std::numeric_limits<float>::quiet_NaN() : 0.f;
  }
  const float scale = m / 127.f, inv = 127.f / m;
  for (size_t k = 0; k < dim; ++k) {
    const float v = std::nearbyint(x[k] * inv);
    const int32_t c = static_cast<int32_t>(std::max(-127.f, std::min(127.f, v)));
    out[k] = static_cast<int8_t>(c);
    s += c;
  }
  if (sum) *sum = s;
  return scale;
}
}  // namespace

void quantize_i8(const float* src, size_t begin, size_t end, size_t dim, int8_t* out, float* scale, int32_t* rowsum) {
  for (size_t r = begin; r < end; ++r) scale[r] = quantize_row(src + r * dim, dim, out + r * dim, rowsum + r);
}

float quantize_i8_query(const float* q, size_t dim, int8_t* out) { return quantize_row(q, dim, out, nullptr); }

void quant_score(const QuantTable& t, const float* q, const int32_t* subset, size_t m, float* out, size_t threads) {
  const QuantKernels& kern = active_quant_kernels();
  Prepared p;
  prepare(t, q, p);
  const size_t n = subset ? m : t.rows;
  const size_t row_bytes = t.kind == QuantKind::Bf16 ? 2 * t.dim : t.dim;
  const size_t parts = split_parts(n, row_bytes, threads);
  const size_t per = (n + parts - 1) / parts;
  parallel_for(parts, parts, [&](size_t part) {
    const size_t b = part * per, e = std::min(n, b + per);
    if (b < e) score_block(kern, t, p.q, b, subset ? subset + b : nullptr, e - b, out + b);
  });
}

size_t quant_topk(const QuantTable& t, const float* q, const TopKOptions& opt, const int32_t* exclude,
                  size_t exclude_len, size_t rerank, const ItemTable* f32, int32_t* out_idx, float* out_scores) {
  const QuantKernels& kern = active_quant_kernels();
  const KernelTable& fk = active_kernels();
  const size_t n = opt.has_allow ? opt.allow_len : t.rows;
  if (opt.k == 0 || n == 0) return 0;
  const size_t k = std::min(opt.k, n);
  const bool do_rerank = f32 != nullptr && rerank > 0;
  const size_t keep = do_rerank ? std::min(std::max(rerank, k), n) : k;
  Prepared p;
  prepare(t, q, p);
  const Exclusions ex{exclude, exclude_len, opt.block, opt.block_len};
  const int32_t* allow = opt.has_allow ? opt.allow : nullptr;
  const size_t row_bytes = t.kind == QuantKind::Bf16 ? 2 * t.dim : t.dim;
  const size_t parts = split_parts(n, row_bytes, opt.threads);
  TopKHeap merged(keep);
  if (parts == 1) {
    scan_range(kern, fk, t, p.q, allow, 0, n, ex, merged);
  } else {
    // Per-part exact top-keep, merged by (score, index): identical to one scan.
    std::vector<TopKHeap> heaps(parts);
    const size_t per = (n + parts - 1) / parts;
    parallel_for(parts, parts, [&](size_t part) {
      heaps[part].reset(keep);
      const size_t b = part * per, e = std::min(n, b + per);
      if (b < e) scan_range(kern, fk, t, p.q, allow, b, e, ex, heaps[part]);
    });
    for (const TopKHeap& h : heaps)
      for (const Scored& s : h) merged.offer(s.score, s.index);
  }
  if (!do_rerank) return merged.drain_sorted(out_idx, out_scores);
  // Re-score the candidates in float32 with the same kernel topk_one uses, so a large enough
  // rerank returns exactly topk_one's result.
  std::vector<int32_t> cand_idx(merged.size());
  std::vector<float> cand_q(merged.size()), exact(merged.size());
  const size_t nc = merged.drain_sorted(cand_idx.data(), cand_q.data());
  std::sort(cand_idx.begin(), cand_idx.begin() + nc);  // ascending rows: friendlier memory access
  fk.score_indexed(q, f32->data, f32->dim, cand_idx.data(), nc, exact.data());
  TopKHeap best(k);
  for (size_t j = 0; j < nc; ++j) best.offer(exact[j], cand_idx[j]);
  return best.drain_sorted(out_idx, out_scores);
}

}  // namespace rb

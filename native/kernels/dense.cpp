// Dense-layer drivers: panel packing, threaded products, the layer forward/backward, and the
// baseline (SSE2) copy of the per-ISA kernels. The AVX2 and AVX-512 copies live in their own files.
#include "dense.h"

#include <algorithm>
#include <cstring>

#include "isa.h"
#include "thread_pool.h"

namespace rb {
namespace {
#define RB_VW 4
#define RB_NR 1  // 8 xmm accumulators per row: a second row would spill on SSE2's 16 registers
#include "dense_isa.inc"
#undef RB_VW
#undef RB_NR

// Rows per task when a product is split over threads: a multiple of every tile height, and large
// enough that a task outweighs the hand-off.
constexpr size_t kRowsPerTask = 96;
}  // namespace

const DenseKernels& dense_kernels_scalar() {
  static const DenseKernels k{"scalar", 1, panel_gemm_impl, exp_shift_sum_impl, logits_row_impl, scale_impl};
  return k;
}

const DenseKernels& active_dense_kernels() {
  static constexpr IsaTables<DenseKernels> tables{
      {dense_kernels_scalar, RB_X86_ONLY(dense_kernels_avx2), RB_X86_ONLY(dense_kernels_avx512)}};
  return tables.active();
}

float* AlignedBuffer::get(size_t n) {
  if (v_.size() < n + 16) v_.resize(n + 16);
  const uintptr_t p = reinterpret_cast<uintptr_t>(v_.data());
  return v_.data() + ((64 - p % 64) % 64) / sizeof(float);
}

void pack_panels(const float* B, size_t ldb, bool trans, size_t k, size_t n, float* out) {
  for (size_t j0 = 0; j0 < n; j0 += kPanel) {
    const size_t w = std::min(kPanel, n - j0);
    float* panel = out + (j0 / kPanel) * kPanel * k;
    if (!trans) {
      for (size_t kk = 0; kk < k; ++kk) {
        std::memcpy(panel + kk * kPanel, B + kk * ldb + j0, w * sizeof(float));
        std::fill(panel + kk * kPanel + w, panel + (kk + 1) * kPanel, 0.f);
      }
    } else {
      if (w < kPanel) std::fill(panel, panel + k * kPanel, 0.f);
      for (size_t c = 0; c < w; ++c) {
        const float* src = B + (j0 + c) * ldb;
        for (size_t kk = 0; kk < k; ++kk) panel[kk * kPanel + c] = src[kk];
      }
    }
  }
}

void gemm_packed(const float* A, size_t ars, size_t aks, size_t m, size_t k, const float* packed, size_t n, float* C,
                 size_t ldc, bool accumulate, size_t threads) {
  if (m == 0 || n == 0) return;
  const DenseKernels& kern = active_dense_kernels();
  const size_t panels = (n + kPanel - 1) / kPanel;
  auto rows = [&](size_t r0, size_t r1) {
    // Panels outermost: a panel (k × 32) stays in L1/L2 while the rows stream past it.
    for (size_t p = 0; p < panels; ++p) {
      const size_t w = std::min(kPanel, n - p * kPanel);
      kern.panel_gemm(A + r0 * ars, ars, aks, r1 - r0, k, packed + p * kPanel * k, C + r0 * ldc + p * kPanel, ldc, w,
                      accumulate);
    }
  };
  const size_t tasks = threads > 1 ? (m + kRowsPerTask - 1) / kRowsPerTask : 1;
  if (tasks <= 1) {
    rows(0, m);
    return;
  }
  parallel_for(tasks, threads, [&](size_t t) { rows(t * kRowsPerTask, std::min(m, (t + 1) * kRowsPerTask)); });
}

void dense_forward(const float* x, size_t rows, size_t in, const float* w, const float* b, size_t out, float* y,
                   bool relu, bool accumulate, size_t threads, AlignedBuffer& scratch) {
  if (rows == 0 || out == 0) return;
  float* packed = scratch.get(packed_floats(in, out));
  pack_panels(w, in, /*trans=*/true, in, out, packed);  // Wᵀ: element (kk, o) = W[o*in + kk]
  gemm_packed(x, in, 1, rows, in, packed, out, y, out, accumulate, threads);
  if (!b && !relu) return;
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y + r * out;
    if (b)
      for (size_t o = 0; o < out; ++o) yr[o] += b[o];
    if (relu)
      for (size_t o = 0; o < out; ++o) yr[o] = yr[o] > 0.f ? yr[o] : 0.f;
  }
}

void relu_backward(const float* y, float* dy, size_t n) {
  for (size_t i = 0; i < n; ++i) dy[i] = y[i] > 0.f ? dy[i] : 0.f;
}

void dense_backward_input(const float* dy, size_t rows, size_t out, const float* w, size_t in, float* dx,
                          bool accumulate, size_t threads, AlignedBuffer& scratch) {
  if (rows == 0 || in == 0) return;
  float* packed = scratch.get(packed_floats(out, in));
  pack_panels(w, in, /*trans=*/false, out, in, packed);  // W as out × in
  gemm_packed(dy, out, 1, rows, out, packed, in, dx, in, accumulate, threads);
}

void dense_backward_params(const float* dy, const float* x, size_t rows, size_t out, size_t in, float* dw, float* db,
                           size_t threads, AlignedBuffer& scratch) {
  if (rows == 0 || out == 0) return;
  float* packed = scratch.get(packed_floats(rows, in));
  pack_panels(x, in, /*trans=*/false, rows, in, packed);  // X as rows × in
  // dyᵀ: element (o, r) = dy[r*out + o], i.e. row stride 1 and k stride out.
  gemm_packed(dy, 1, out, out, rows, packed, in, dw, in, /*accumulate=*/true, threads);
  if (db)
    for (size_t r = 0; r < rows; ++r)
      for (size_t o = 0; o < out; ++o) db[o] += dy[r * out + o];
}

}  // namespace rb

// Dense-layer math on raw pointers for the two-tower model: packed-panel matrix products, the
// dense layer (y = x·Wᵀ + b), ReLU and the backward products. Pure C++ (no Node-API); lengths may be
// zero. Matrices are row-major; W is out × in, as PyTorch's nn.Linear stores it.
//
// Every product is C (+)= op(A) · B with B first packed into 32-column panels (k × 32 floats each,
// zero padded), which the per-ISA register-tiled kernel (dense_isa.inc) streams while A is read
// with arbitrary row/column strides: a transposed A costs nothing extra, so dW = dYᵀ·X needs no
// transpose. Row splits over threads are static and each output element is summed in the same
// k order whatever the thread count, so these products are bit-identical for any `threads`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rb {

struct DenseKernels {
  const char* name;
  size_t tile_rows;  // rows per register tile
  // C[r*ldc + c] (+)= Σ_k A[r*ars + k*aks] · P[k*32 + c] for r < m, c < ncols (≤ 32).
  void (*panel_gemm)(const float* A, size_t ars, size_t aks, size_t m, size_t k, const float* P, float* C, size_t ldc,
                     size_t ncols, bool accumulate);
  // x[j] = exp(x[j] - shift) (0 below e^-87), returns the sum.
  float (*exp_shift_sum)(float* x, size_t n, float shift);
  // In-batch logits row, in place: z[j] = z[j]·inv_t - lq[j], or -inf where items[j] == pos.
  // Returns the row maximum; *check is NaN when some input was not finite.
  float (*logits_row)(float* z, size_t n, float inv_t, const float* lq, const int32_t* items, int32_t pos,
                      float* check);
  // z[j] *= c
  void (*scale)(float* z, size_t n, float c);
};

const DenseKernels& dense_kernels_scalar();
const DenseKernels& dense_kernels_avx2();
const DenseKernels& dense_kernels_avx512();
// The set at kernel_level() (isa.h), so force_isa moves it together with the other families.
const DenseKernels& active_dense_kernels();

constexpr size_t kPanel = 32;

// B as a k × n matrix: element (kk, j) = trans ? B[j*ldb + kk] : B[kk*ldb + j].
// Packs it into ceil(n/32) panels of k × 32 floats (zero padded); out must hold packed_floats(k, n).
inline size_t packed_floats(size_t k, size_t n) { return ((n + kPanel - 1) / kPanel) * kPanel * k; }
void pack_panels(const float* B, size_t ldb, bool trans, size_t k, size_t n, float* out);

// C[m × n] (+)= A' · B' with A'(r, kk) = A[r*ars + kk*aks] and B' packed by pack_panels.
// Rows are split over up to `threads` threads.
void gemm_packed(const float* A, size_t ars, size_t aks, size_t m, size_t k, const float* packed, size_t n, float* C,
                 size_t ldc, bool accumulate, size_t threads);

// A float buffer aligned to 64 bytes that only grows (reused across batches). Growing does not keep
// the contents (the alignment offset may move): callers fill a buffer after the get() that sizes it
// and re-get it with the same size to read it back.
class AlignedBuffer {
 public:
  float* get(size_t n);

 private:
  std::vector<float> v_;
};

// y[rows × out] = x[rows × in] · Wᵀ + b (b may be null); ReLU on the output when relu.
// accumulate: y += instead of = (the bias is still added once).
void dense_forward(const float* x, size_t rows, size_t in, const float* w, const float* b, size_t out, float* y,
                   bool relu, bool accumulate, size_t threads, AlignedBuffer& scratch);
// dy[i] = 0 where y[i] <= 0 (the ReLU derivative, read from the ReLU's output).
void relu_backward(const float* y, float* dy, size_t n);
// dx[rows × in] (+)= dy[rows × out] · W.
void dense_backward_input(const float* dy, size_t rows, size_t out, const float* w, size_t in, float* dx,
                          bool accumulate, size_t threads, AlignedBuffer& scratch);
// dw[out × in] += dyᵀ · x; db[out] += Σ_rows dy (db may be null).
void dense_backward_params(const float* dy, const float* x, size_t rows, size_t out, size_t in, float* dw, float* db,
                           size_t threads, AlignedBuffer& scratch);

}  // namespace rb

// A small multilayer perceptron (ReLU between layers, none after the last) on one flat parameter
// array, for the transfer models (embedding maps, personal bridges, content towers): forward,
// backward into a flat gradient array, Adam, and whole mean-squared-error minibatch passes. Pure
// C++ on raw pointers; the products go through the dense kernels (dense.h), so results are
// bit-identical for any thread count.
//
// Layout, for sizes s[0..L] (input, hidden…, output): layer l's weight (s[l+1] × s[l], row-major,
// PyTorch's nn.Linear order) then its bias (s[l+1]), layer after layer. Activations of a batch of
// `rows` rows are stored layer after layer too: layer l's output is rows × s[l+1] floats at
// rows × (s[1] + … + s[l]).
#pragma once
#include <cstddef>
#include <cstdint>

#include "dense.h"

namespace rb {

struct MlpShape {
  const int32_t* sizes = nullptr;  // layers + 1 widths, each ≥ 1
  size_t layers = 0;
  size_t param_count() const;
  // Σ s[1..L]: activation floats per row.
  size_t act_width() const;
  size_t in() const { return static_cast<size_t>(sizes[0]); }
  size_t out() const { return static_cast<size_t>(sizes[layers]); }
};

struct AdamConfig {
  float lr = 1e-3f, l2 = 0.f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
};

// Buffers reused across calls.
struct MlpScratch {
  AlignedBuffer pack, grad_a, grad_b, batch_x, acts;
};

// acts (rows × act_width) = every layer's output for the rows of x (rows × in).
void mlp_forward(const MlpShape& s, const float* params, const float* x, size_t rows, float* acts, size_t threads,
                 MlpScratch& scratch);

// From d_out = dLoss/d(output) (rows × out, read only), adds dLoss/dparams into grads; writes
// dLoss/dx into d_in (rows × in) when it is not null. x and acts are the forward pass's.
void mlp_backward(const MlpShape& s, const float* params, float* grads, const float* x, const float* acts, size_t rows,
                  const float* d_out, float* d_in, size_t threads, MlpScratch& scratch);

// One Adam step (step = 1 for the first) from grads, which are then zeroed. L2 decays weights,
// not biases (it is added to the gradient, as torch.optim.Adam's weight_decay does).
void mlp_adam(const MlpShape& s, float* params, float* grads, float* m, float* v, uint64_t step, const AdamConfig& o);

// out[r] = left[r] ⊗ right[r] (rows × a·b, row r's a × b block row-major): the output gradient of a
// net that emits one a × b matrix per row which then multiplies a vector (a hypernetwork's head).
void outer_rows(const float* left, size_t a, const float* right, size_t b, size_t rows, float* out);

struct MseOptions {
  size_t batch = 64;
  AdamConfig adam;
  // Input dropout: each training row's first drop_cols inputs are zeroed with probability
  // drop_prob (preference dropout of DropoutNet), drawn from a stream seeded by seed.
  size_t drop_cols = 0;
  float drop_prob = 0.f;
  uint64_t seed = 0;
};

// Mean-squared-error regression of y (n × out) on x (n × in) over rows order[0..count) in
// minibatches of o.batch, one Adam step each, the first numbered first_step. Entries of order
// must lie in [0, n) (checked by the caller). Returns Σ squared error of the batches before
// each one's step.
double mlp_fit_mse(const MlpShape& s, float* params, float* grads, float* m, float* v, uint64_t first_step,
                   const float* x, const float* y, const int32_t* order, size_t count, const MseOptions& o,
                   size_t threads, MlpScratch& scratch);

}  // namespace rb

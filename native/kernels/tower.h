// One tower of a two-tower model (id embedding + mean-pooled feature bag + projected dense features,
// summed, then an optional MLP) over a batch of entities: forward, backward into gradient buffers,
// and the optimizer updates. Pure C++ on JS-owned arrays: every index read from those arrays is
// bounds-checked right before use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "constants.h"
#include "dense.h"

namespace rb {

using EmbOptimizer = OptimizerKind;

// A trainable table. Frozen rows, lr_mult 0 (also used for trainable == false) mean the row and its
// optimizer state are never written.
struct TTParam {
  float* w = nullptr;  // rows × dim; null = absent
  size_t rows = 0, dim = 0;
  // optimizer_state_floats(kind, rows, dim) floats in that function's layout (dense Adam uses the
  // Adam one); SGD: null.
  float* state = nullptr;
  const uint8_t* frozen_rows = nullptr;
  float lr_mult = 1.f;
  float* grad = nullptr;  // two_tower_loss only: receives dLoss/dw (rows × dim)
  bool trainable() const { return w && lr_mult != 0.f; }
};

struct DenseLayer {
  TTParam weight;  // out × in (rows = out, dim = in)
  TTParam bias;    // out × 1
};

struct Tower {
  size_t entities = 0;               // users or items
  size_t dim = 0;                    // width of the summed input vector (h0)
  TTParam embedding;                 // entities × dim, or absent
  TTParam features;                  // vocabulary × dim, or absent
  const int32_t* bag_off = nullptr;  // CSR: entity e's features are bag_idx[bag_off[e] .. bag_off[e+1])
  size_t bag_off_len = 0;
  const int32_t* bag_idx = nullptr;
  size_t bag_idx_len = 0;
  const float* dense_values = nullptr;  // entities × dense_dim, or null
  size_t dense_dim = 0, dense_len = 0;
  DenseLayer projection;  // dim × dense_dim weight and dim bias (when dense_values)
  std::vector<DenseLayer> mlp;
  size_t out_dim() const { return mlp.empty() ? dim : mlp.back().weight.rows; }
};

struct OptimizerConfig {
  EmbOptimizer emb = EmbOptimizer::Sgd;
  float lr = 0.05f, l2 = 0.f, eps = 1e-8f;
  DenseOptimizer dense = DenseOptimizer::Sgd;
  float dense_lr = 0.05f, dense_l2 = 0.f, beta1 = 0.9f, beta2 = 0.999f, dense_eps = 1e-8f;
};

// Whether entity e can be encoded: in range and with sane bag offsets and dense row.
bool entity_ok(const Tower& t, int64_t e);

// Activations and gradients of one tower for one batch; buffers are reused across batches.
class TowerPass {
 public:
  explicit TowerPass(Tower& t) : t_(t) {}
  // ids must satisfy entity_ok. Returns the n × out_dim output (owned by this object).
  float* forward(const int32_t* ids, size_t n, size_t threads);
  // From dLoss/d(output) (n × out_dim, overwritten), fills every parameter's gradient.
  void backward(float* d_out, size_t threads);
  // Optimizer updates from the gradients of the last backward.
  void update(const OptimizerConfig& o, size_t threads);
  // Adds the last backward's gradients into each parameter's grad buffer (dense: rows × dim).
  void write_grads();
  // Feature indices that were out of range (skipped) in the last forward.
  size_t bad_features() const { return bad_features_; }

 private:
  struct Contribution {  // gradient of one embedding row from one batch row
    int32_t row;
    uint32_t src;  // batch row
    float scale;
  };
  void sparse_update(TTParam& p, std::vector<Contribution>& c, const float* grads, const OptimizerConfig& o);
  void sparse_grad(TTParam& p, const std::vector<Contribution>& c, const float* grads);

  Tower& t_;
  size_t n_ = 0;
  std::vector<int32_t> ids_;
  AlignedBuffer h0_, x_, dh0_, scratch_;
  std::vector<AlignedBuffer> acts_, dacts_;
  std::vector<std::vector<float>> dw_, db_;  // per MLP layer
  std::vector<float> dpw_, dpb_;             // projection
  std::vector<Contribution> id_rows_, feat_rows_;
  std::vector<size_t> starts_;  // sparse_update scratch
  std::vector<float> g_;
  size_t bad_features_ = 0;
};

// Dense update (SGD or Adam with per-row step counts) of p from its full gradient g (rows × dim).
void dense_update(TTParam& p, const float* g, const OptimizerConfig& o);

}  // namespace rb

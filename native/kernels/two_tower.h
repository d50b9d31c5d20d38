// Two-tower retrieval training with in-batch sampled softmax. For a batch of B (user, item)
// interactions both towers are run forward; logit z_ij = s(u_i, v_j)/τ - ln q(item_j) for every
// pair in the batch (s = dot or cosine; the logQ term corrects for popular items appearing more
// often as in-batch negatives); column j is masked for row i when item_j equals row i's positive
// and j != i (an accidental hit is not a negative); the loss is the mean softmax cross-entropy of
// the diagonal. Gradients flow back through both towers; embedding rows are updated sparsely
// (SGD/Adagrad), dense layers by SGD or Adam. Deterministic for a fixed thread count; threads: 1 is
// bit-reproducible. The host owns epochs and calls two_tower_chunk on slices of a shuffled schedule.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tower.h"

namespace rb {

struct TwoTowerConfig {
  bool cosine = false;
  float temperature = 1.f;
  size_t batch = 1024;
  OptimizerConfig opt;
  size_t threads = 1;
};

struct TwoTowerData {
  const int32_t* users = nullptr;  // interaction i is (users[i], items[i])
  const int32_t* items = nullptr;
  size_t n = 0;
  const float* log_q = nullptr;  // per item: ln q(item); null = no correction
  size_t log_q_len = 0;
};

struct TwoTowerResult {
  double loss = 0;     // sum of per-sample losses
  size_t samples = 0;  // samples trained
  size_t batches = 0;  // optimizer steps taken
  size_t invalid = 0;  // samples skipped (index out of range) + feature indices skipped
  bool diverged = false;
  bool cancelled = false;
};

// Trains batches schedule[begin, begin + B), … up to end (the last batch may be shorter). Stops
// before the update of a batch whose loss is not finite (diverged), or between batches when
// *cancel is set.
TwoTowerResult two_tower_chunk(Tower& user, Tower& item, const TwoTowerData& data, const int32_t* schedule,
                               size_t begin, size_t end, const TwoTowerConfig& cfg, const std::atomic<int>* cancel);

// The mean loss of one batch (users[i], items[i]) without updating anything; when grads, adds
// dLoss/dw into every parameter's `grad` buffer (callers zero them). invalid counts skipped samples.
double two_tower_loss(Tower& user, Tower& item, const int32_t* users, const int32_t* items, size_t n,
                      const float* log_q, size_t log_q_len, const TwoTowerConfig& cfg, bool grads, size_t* invalid);

// Forward only: out[r] = the tower's output for entity ids[r] (ids null: entity r), L2-normalised
// when normalize. Rows of invalid entities are NaN; returns how many there were.
size_t two_tower_encode(Tower& t, const int32_t* ids, size_t n, bool normalize, float* out, size_t threads);

}  // namespace rb

// Native BPR training for matrix factorization: Hogwild (lock-free) SGD / Adagrad / row-wise
// Adagrad over a shuffled schedule of (user, positive item) pairs with sampled negatives. The host
// language owns epochs and calls bpr_chunk for slices of the schedule (progress, cancellation).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rb {

enum class OptimizerKind : int { Sgd = 0, Adagrad = 1, RowwiseAdagrad = 2 };

// An embedding table under training. Frozen rows, a zero lr_mult, or trainable == false mean the
// row (and its optimizer state) is never written.
struct TrainParam {
  float* w = nullptr;  // rows x dim
  size_t rows = 0, dim = 0;
  float* state = nullptr;  // Adagrad: rows x dim; row-wise Adagrad: rows; SGD: null
  const uint8_t* frozen_rows = nullptr;  // rows flags (non-zero = frozen), or null
  float lr_mult = 1.f;                   // 0 when the parameter is not trainable
};

// The arrays live in JS memory and are not copied, so every index is bounds-checked right before it
// is used (a few compares per sample): memory stays safe even if the arrays change mid-epoch.
struct BprData {
  const int32_t* users = nullptr;  // interaction i is (users[i], items[i])
  const int32_t* items = nullptr;
  size_t n = 0;
  const int32_t* pos_off = nullptr;  // CSR: user u's positives, sorted, are pos_idx[pos_off[u]..pos_off[u+1])
  const int32_t* pos_idx = nullptr;  // null: no rejection of known positives
  size_t pos_off_len = 0, pos_idx_len = 0;
};

struct BprConfig {
  OptimizerKind optimizer = OptimizerKind::Sgd;
  float lr = 0.05f, l2 = 0.f, eps = 1e-8f;
  uint64_t seed = 0, epoch = 0, chunk = 0;
  size_t threads = 1;
  int max_rejections = 20;  // resample a negative that is a known positive at most this often
};

struct BprResult {
  double loss = 0;     // sum over processed samples of -ln σ(x)
  size_t samples = 0;  // samples processed
  size_t invalid = 0;  // samples skipped because an index was out of range
  bool diverged = false;
  bool cancelled = false;
};

// Fills schedule with a permutation of [0, n) determined by (seed, epoch).
void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch);

// Trains on schedule[begin, end). item_bias may have w == null (no bias). Threads split the slice
// into contiguous parts with independent random streams (seed, epoch, chunk, part): one thread is
// bit-reproducible; several race on rows (Hogwild), which SGD tolerates.
BprResult bpr_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const BprData& data,
                    const int32_t* schedule, size_t begin, size_t end, const BprConfig& cfg,
                    const std::atomic<int>* cancel);

}  // namespace rb

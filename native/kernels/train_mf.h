// Native matrix-factorization epochs: Hogwild (lock-free) SGD / Adagrad / row-wise Adagrad over a
// shuffled copy of the interactions, with the loss and negative sampler chosen per call. The host
// language owns epochs and calls shuffle_records once per epoch and mf_chunk for slices of the records (progress,
// cancellation).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "train_param.h"

namespace rb {

// The arrays, and the records shuffled from them, live in JS memory, so every index is bounds-checked
// right before it is used (a few compares per sample): memory stays safe even if they change
// mid-epoch.
struct MfData {
  const int32_t* users = nullptr;  // interaction i is (users[i], items[i]) with value values[i]
  const int32_t* items = nullptr;
  const float* values = nullptr;  // ratings, for MSE only
  size_t n = 0;
  // The same interactions grouped by user (CSR): user u's items, ascending (repeats kept), are
  // pos_idx[pos_off[u]..pos_off[u+1]). Present: known positives are rejected as negatives, and the
  // records are built from this, in user order, so each user's list is in cache while its
  // interactions' negatives are drawn. Null: no rejection.
  const int32_t* pos_off = nullptr;
  const int32_t* pos_idx = nullptr;
  size_t pos_off_len = 0, pos_idx_len = 0;
  size_t num_items = 0;  // items the shuffle may draw negatives from (the item table's rows)
};

struct NegativeSampler {
  SamplerKind kind = SamplerKind::Uniform;
  const float* prob = nullptr;  // Alias: n entries
  const int32_t* alias = nullptr;
  size_t n = 0;
  size_t window = 1024;  // InBatch
};

constexpr int kMaxNegatives = 8;

struct MfConfig {
  OptimizerKind optimizer = OptimizerKind::Sgd;
  MfLoss loss = MfLoss::Bpr;
  float lr = 0.05f, l2 = 0.f, eps = 1e-8f;
  float beta1 = 0.9f, beta2 = 0.999f;  // Adam
  uint64_t seed = 0, epoch = 0, chunk = 0;
  size_t threads = 1;
  int max_rejections = 20;  // resample a negative that is a known positive at most this often
  int negatives = 1;        // BCE: 1..kMaxNegatives
  int warp_max_trials = 100;
  float margin = 1.f;  // WARP
  NegativeSampler sampler;
};

struct MfResult {
  double loss = 0;     // sum over processed samples of the loss
  size_t samples = 0;  // samples processed
  size_t invalid = 0;  // samples skipped because an index was out of range
  bool diverged = false;
  bool cancelled = false;
};

// Fills schedule with a permutation of [0, n) determined by (seed, epoch) (two-tower epochs).
void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch);

// An epoch's samples in training order: one record of int32 values per interaction, holding
// everything the training step would otherwise find by chasing random indices, so the hot loop
// reads its records in order. The kind follows from the data and the configuration:
enum class MfRecords : int {
  Pairs = 0,      // user, item                                (no rejection)
  Ratings = 1,    // user, item, rating (the float's bits)     (MSE)
  Negatives = 2,  // user, item, negative                      (rejection; BPR, uniform or popularity sampler)
  Ranges = 3,     // user, item, pos_b, pos_e: the user's list (rejection; other losses and samplers)
};
MfRecords mf_records(const MfData& data, const MfConfig& cfg);
size_t mf_record_stride(MfRecords kind);

// Fills records (data.n × stride values) with the interactions in an order fixed by (cfg.seed,
// cfg.epoch) alone, uniformly random over permutations; Negatives records get their negative drawn
// here, from cfg.sampler with cfg.max_rejections, where the user's list is in cache. Indices are
// copied as they are (training bounds-checks them); a user's invalid range counts as empty, and if
// the grouped lists hold fewer than data.n interactions the rest are invalid records (user -1).
void shuffle_records(const MfData& data, const MfConfig& cfg, int32_t* records);

// Trains on records [begin, end) (record, not value, positions), of the kind mf_records(data, cfg).
// item_bias may have w == null (no bias). Threads split the slice into contiguous parts with
// independent random streams (seed, epoch, chunk, part): one thread is bit-reproducible; several
// race on rows (Hogwild), which SGD tolerates.
MfResult mf_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const MfData& data, const int32_t* records,
                  size_t begin, size_t end, const MfConfig& cfg, const std::atomic<int>* cancel);

}  // namespace rb

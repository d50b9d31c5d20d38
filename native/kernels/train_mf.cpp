#include "train_mf.h"

#include <algorithm>
#include <vector>

#include "kernel_table.h"
#include "rng.h"
#include "thread_pool.h"

namespace rb {
namespace {
// Parts shorter than this are not worth a thread.
constexpr size_t kMinSamplesPerPart = 4096;
}  // namespace

bool cancel_requested(const std::atomic<int>* cancel) { return cancel->load(std::memory_order_relaxed) != 0; }

void shuffle_schedule(int32_t* schedule, size_t n, uint64_t seed, uint64_t epoch) {
  for (size_t i = 0; i < n; ++i) schedule[i] = static_cast<int32_t>(i);
  Rng rng(seed, epoch, 0x5348554646ull);  // "SHUFF": a stream of its own
  for (size_t i = n; i > 1; --i) {
    const size_t j = rng.below(static_cast<uint32_t>(i));
    std::swap(schedule[i - 1], schedule[j]);
  }
}

MfResult mf_chunk(TrainParam& user, TrainParam& item, TrainParam& item_bias, const MfData& data,
                  const int32_t* schedule, size_t begin, size_t end, const MfConfig& cfg,
                  const std::atomic<int>* cancel) {
  MfResult total;
  if (end <= begin || item.rows == 0) return total;
  if (cfg.loss == MfLoss::Mse && !data.values) return total;
  if (cfg.sampler.kind == SamplerKind::Alias && (!cfg.sampler.prob || !cfg.sampler.alias || cfg.sampler.n == 0)) return total;
  const size_t n = end - begin;
  const size_t parts = std::max<size_t>(1, std::min(cfg.threads, n / kMinSamplesPerPart));
  const size_t per = (n + parts - 1) / parts;
  std::vector<MfResult> results(parts);
  const KernelTable& kern = active_kernels();
  parallel_for(parts, parts, [&](size_t p) {
    const size_t b = begin + p * per, e = std::min(end, b + per);
    if (b >= e) return;
    results[p] = kern.mf_part(user, item, item_bias, data, schedule, cfg, Rng(cfg.seed, cfg.epoch, cfg.chunk, p).state(), b, e, cancel);
  });
  for (const MfResult& r : results) {
    total.loss += r.loss;
    total.samples += r.samples;
    total.invalid += r.invalid;
    total.diverged |= r.diverged;
    total.cancelled |= r.cancelled;
  }
  return total;
}

}  // namespace rb

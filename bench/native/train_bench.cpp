// Matrix-factorization epochs without Node: the issue-3 data (100k users, 50k items, 5M
// interactions, item = floor(50k * u^3), d = 64) trained by mf_chunk over shuffled records in
// 1M-sample chunks, as Trainer.fit does. Prints samples per second per epoch (shuffle included) and
// the median of epochs 2 and later, so two builds can be compared interleaved on a noisy machine.
//
//   train_bench [threads=1] [optimizer: 0 sgd | 1 adagrad] [reject: 0 | 1] [epochs=4]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../../native/kernels/rng.h"
#include "../../native/kernels/train_mf.h"

int main(int argc, char** argv) {
  const size_t users = 100000, items = 50000, n = 5000000, dim = 64;
  const size_t threads = argc > 1 ? size_t(std::atoi(argv[1])) : 1;
  const int optimizer = argc > 2 ? std::atoi(argv[2]) : 0;
  const bool reject = argc > 3 ? std::atoi(argv[3]) != 0 : true;
  const int epochs = argc > 4 ? std::max(2, std::atoi(argv[4])) : 4;

  rb::Rng rng(1);
  std::vector<int32_t> u(n), i(n);
  for (size_t k = 0; k < n; ++k) {
    u[k] = int32_t(rng.below(users));
    const double x = rng.uniform();
    i[k] = std::min<int32_t>(items - 1, int32_t(double(items) * x * x * x));
  }
  // The users' sorted positive lists (CSR), for rejection.
  std::vector<int32_t> off(users + 1, 0), idx(n);
  for (size_t k = 0; k < n; ++k) ++off[size_t(u[k]) + 1];
  for (size_t a = 0; a < users; ++a) off[a + 1] += off[a];
  std::vector<int32_t> fill(off.begin(), off.end() - 1);
  for (size_t k = 0; k < n; ++k) idx[size_t(fill[size_t(u[k])]++)] = i[k];
  for (size_t a = 0; a < users; ++a) std::sort(idx.begin() + off[a], idx.begin() + off[a + 1]);

  auto table = [&](size_t rows) {
    float* w = static_cast<float*>(std::aligned_alloc(64, rows * dim * sizeof(float)));
    for (size_t k = 0; k < rows * dim; ++k) w[k] = (rng.uniform() - 0.5f) * 0.1f;
    return w;
  };
  auto zeros = [&](size_t rows) {
    float* s = static_cast<float*>(std::aligned_alloc(64, rows * dim * sizeof(float)));
    std::memset(s, 0, rows * dim * sizeof(float));
    return s;
  };
  rb::TrainParam user{table(users), users, dim, optimizer == 1 ? zeros(users) : nullptr, nullptr, 1.f};
  rb::TrainParam item{table(items), items, dim, optimizer == 1 ? zeros(items) : nullptr, nullptr, 1.f};
  rb::TrainParam bias;
  rb::MfData data;
  data.users = u.data();
  data.items = i.data();
  data.n = n;
  if (reject) {
    data.pos_off = off.data();
    data.pos_idx = idx.data();
    data.pos_off_len = off.size();
    data.pos_idx_len = idx.size();
  }
  rb::MfConfig cfg;
  cfg.optimizer = optimizer == 1 ? rb::OptimizerKind::Adagrad : rb::OptimizerKind::Sgd;
  cfg.threads = threads;
  cfg.seed = 7;
  data.num_items = items;
  std::vector<int32_t> records(n * rb::mf_record_stride(rb::mf_records(data, cfg)));
  std::vector<double> rates;
  for (int e = 0; e < epochs; ++e) {
    cfg.epoch = uint64_t(e);
    const auto t0 = std::chrono::steady_clock::now();
    rb::shuffle_records(data, cfg, records.data());
    rb::MfResult total;
    const size_t chunk = size_t(1) << 20;
    for (size_t b = 0; b < n; b += chunk) {
      cfg.chunk = b / chunk;
      const rb::MfResult r =
          rb::mf_chunk(user, item, bias, data, records.data(), b, std::min(n, b + chunk), cfg, nullptr);
      total.loss += r.loss;
      total.samples += r.samples;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(double(total.samples) / s / 1e6);
    std::printf("epoch %d: %.2f M/s loss %.4f\n", e, rates.back(), total.loss / double(total.samples));
  }
  std::vector<double> later(rates.begin() + 1, rates.end());
  std::sort(later.begin(), later.end());
  std::printf("median of epochs 2..%d: %.2f M samples/s (threads %zu, %s, %s)\n", epochs, later[later.size() / 2],
              threads, optimizer == 1 ? "adagrad" : "sgd", reject ? "known positives rejected" : "no rejection");
  return 0;
}

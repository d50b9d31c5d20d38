// Kernel-level benchmark, no Node involved: the memory-read ceiling of this machine (a plain
// streaming sum over the same bytes) next to score_rows and exact top-10 on every ISA path, so the
// scoring figures can be read as a fraction of what the memory system delivers in the same run.
// Prints one JSON record per line: {"name", "value", "unit", "params"} (bench/run.js collects them).
//
// usage: kernel_bench [rows] [dim] [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../../native/kernels/isa.h"
#include "../../native/kernels/kernel_table.h"
#include "../../native/kernels/scoring.h"
#include "stream_read.h"

namespace {

template <class F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void record(const char* name, double value, const char* unit, size_t rows, size_t dim, size_t threads,
            const char* isa) {
  std::printf(
      "{\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"params\":{\"rows\":%zu,\"dim\":%zu,\"threads\":%zu,\"isa\":\"%"
      "s\"}}\n",
      name, value, unit, rows, dim, threads, isa);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t dim = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  const size_t threads = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  const size_t n = rows * dim;
  float* table = static_cast<float*>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64));
  unsigned state = 12345;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    table[i] = static_cast<float>(state >> 8) / 16777216.f - 0.5f;
  }
  std::vector<float> q(table, table + dim), out(rows);
  const double bytes = static_cast<double>(n) * 4;
  const int reps = n >= (size_t{1} << 26) ? 15 : 60;

  const double read_s = median_seconds(reps, [&] { rb_bench::stream_read(table, n); });
  record("memory read (streaming sum)", bytes / read_s / 1e9, "GB/s", rows, dim, 1, "avx2");

  for (int isa = 0; isa <= static_cast<int>(rb::detect_isa()); ++isa) {
    rb::force_isa(isa);
    const char* name = rb::isa_name(static_cast<rb::Isa>(isa));
    const rb::KernelTable& kern = rb::active_kernels();
    const double score_s = median_seconds(reps, [&] { kern.score_rows(q.data(), table, rows, dim, out.data()); });
    record("score_rows", bytes / score_s / 1e9, "GB/s", rows, dim, 1, name);
    rb::ItemTable t{table, rows, dim};
    rb::TopKOptions opt;
    opt.k = 10;
    opt.threads = threads;
    int32_t idx[10];
    float sc[10];
    const double topk_s = median_seconds(reps, [&] { rb::topk_one(t, q.data(), opt, nullptr, 0, idx, sc); });
    record("topk_one k=10", topk_s * 1e6, "us", rows, dim, threads, name);
    record("topk_one k=10 bandwidth", bytes / topk_s / 1e9, "GB/s", rows, dim, threads, name);
    record("topk_one k=10 vs memory read", read_s / topk_s, "ratio", rows, dim, threads, name);
  }
  std::free(table);
  return 0;
}

// Graph drivers (row-parallel sparse × dense products, the LightGCN gradient, dense Adam) and the
// scalar reference row kernel. The AVX2 and AVX-512 row kernels live in graph_avx2.cpp and
// graph_avx512.cpp.
#include "graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "isa.h"
#include "kernel_table.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Plain loops, one neighbour at a time: the reference the SIMD rows are tested against (each
// element sums in the same order, without fused multiply-add).
void spmm_row_scalar(const int32_t* idx, const float* w, size_t nnz, const float* x, size_t dim, float* y) {
  std::fill(y, y + dim, 0.f);
  for (size_t k = 0; k < nnz; ++k) {
    const float* xr = x + static_cast<size_t>(idx[k]) * dim;
    const float a = w[k];
    for (size_t j = 0; j < dim; ++j) y[j] += xr[j] * a;
  }
}

// Rows per task: enough work to outweigh the hand-off, small enough to balance skewed degrees.
constexpr size_t kRowsPerTask = 512;
constexpr size_t kTriplesPerTask = 4096;
constexpr size_t kFloatsPerTask = 1 << 16;

size_t tasks_for(size_t n, size_t per_task, size_t threads) { return threads > 1 ? (n + per_task - 1) / per_task : 1; }

void for_rows(size_t n, size_t per_task, size_t threads, const std::function<void(size_t, size_t)>& fn) {
  const size_t tasks = tasks_for(n, per_task, threads);
  if (tasks <= 1) {
    fn(0, n);
    return;
  }
  parallel_for(tasks, threads, [&](size_t t) { fn(t * per_task, std::min(n, (t + 1) * per_task)); });
}

bool in_range(int32_t i, size_t nodes) { return i >= 0 && static_cast<size_t>(i) < nodes; }

double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

}  // namespace

const GraphKernels& graph_kernels_scalar() {
  static const GraphKernels k{"scalar", spmm_row_scalar};
  return k;
}

const GraphKernels& active_graph_kernels() {
  static constexpr IsaTables<GraphKernels> tables{
      {graph_kernels_scalar, RB_X86_ONLY(graph_kernels_avx2), RB_X86_ONLY(graph_kernels_avx512)}};
  return tables.active();
}

namespace {

// y = Â x row by row; with acc, also acc[r] = (acc[r] + y[r]) · acc_scale while the row is in cache
// (the running layer sum of a propagation, scaled to a mean after its last layer).
size_t spmm_rows(const SparseGraph& g, const float* x, size_t dim, float* y, float* acc, float acc_scale,
                 size_t threads) {
  if (g.nodes == 0 || dim == 0) return 0;
  const GraphKernels& kern = active_graph_kernels();
  std::vector<size_t> skipped(tasks_for(g.nodes, kRowsPerTask, threads), 0);
  for_rows(g.nodes, kRowsPerTask, threads, [&](size_t r0, size_t r1) {
    std::vector<int32_t> idx;
    std::vector<float> w;
    size_t bad = 0;
    for (size_t r = r0; r < r1; ++r) {
      // Offsets are caller data: clamp them so a malformed row reads nothing outside the lists.
      const size_t b = std::min(static_cast<size_t>(std::max(g.offsets[r], 0)), g.nnz);
      const size_t e = std::max(b, std::min(static_cast<size_t>(std::max(g.offsets[r + 1], 0)), g.nnz));
      bool ok = true;
      for (size_t k = b; k < e; ++k) ok &= in_range(g.indices[k], g.nodes);
      float* yr = y + r * dim;
      if (ok) {
        kern.spmm_row(g.indices + b, g.weights + b, e - b, x, dim, yr);
      } else {
        idx.clear();
        w.clear();
        for (size_t k = b; k < e; ++k) {
          if (in_range(g.indices[k], g.nodes)) {
            idx.push_back(g.indices[k]);
            w.push_back(g.weights[k]);
          } else {
            ++bad;
          }
        }
        kern.spmm_row(idx.data(), w.data(), idx.size(), x, dim, yr);
      }
      if (acc) {
        float* ar = acc + r * dim;
        for (size_t j = 0; j < dim; ++j) ar[j] = (ar[j] + yr[j]) * acc_scale;
      }
    }
    skipped[r0 / kRowsPerTask] += bad;
  });
  size_t total = 0;
  for (size_t s : skipped) total += s;
  return total;
}

}  // namespace

size_t graph_spmm(const SparseGraph& g, const float* x, size_t dim, float* y, size_t threads) {
  return spmm_rows(g, x, dim, y, nullptr, 1.f, threads);
}

size_t graph_propagate(const SparseGraph& g, const float* x, size_t dim, size_t layers, float* out, float* work,
                       size_t threads) {
  const size_t n = g.nodes * dim;
  if (n == 0) return 0;
  std::memcpy(out, x, n * sizeof(float));
  size_t skipped = 0;
  const float* cur = x;
  float* bufs[2] = {work, work + n};
  const float inv = 1.f / static_cast<float>(layers + 1);
  for (size_t l = 0; l < layers; ++l) {
    float* next = bufs[l % 2];
    skipped += spmm_rows(g, cur, dim, next, out, l + 1 == layers ? inv : 1.f, threads);
    cur = next;
  }
  return skipped;
}

double graph_bpr_gradient(const SparseGraph& g, const float* e0, size_t dim, size_t layers, const BprTriples& t,
                          float l2, float* grad, float* work, size_t threads, size_t* skipped) {
  const size_t nodes = g.nodes, n = nodes * dim;
  *skipped = 0;
  if (n == 0) return 0.0;
  // work: [dfinal | temp | final] — the backward pass uses temp and final's space as its own temps.
  float* dfinal = work;
  float* fwd = work + 2 * n;
  *skipped += graph_propagate(g, e0, dim, layers, fwd, work, threads);

  // Per-triple coefficient c = dLoss/dx with x = f_u·(f_p − f_n); 0 for a triple with a bad index.
  const KernelTable& kern = active_kernels();
  const float scale = t.n ? 1.f / static_cast<float>(t.n) : 0.f;
  std::vector<float> coef(t.n);
  std::vector<uint8_t> valid(t.n);
  const size_t chunks = (t.n + kTriplesPerTask - 1) / kTriplesPerTask;
  std::vector<double> losses(chunks, 0.0);
  auto triple_ok = [&](size_t i) {
    return in_range(t.users[i], nodes) && in_range(t.pos[i], nodes) && in_range(t.neg[i], nodes);
  };
  auto row = [&](const float* table, int32_t r) { return table + static_cast<size_t>(r) * dim; };
  parallel_for(chunks, threads, [&](size_t c) {
    double loss = 0.0;
    for (size_t i = c * kTriplesPerTask, end = std::min(t.n, (c + 1) * kTriplesPerTask); i < end; ++i) {
      valid[i] = triple_ok(i);
      if (!valid[i]) {
        coef[i] = 0.f;
        continue;
      }
      const float w = t.weight ? t.weight[i] : 1.f;
      const double x = kern.dot_diff(row(fwd, t.users[i]), row(fwd, t.pos[i]), row(fwd, t.neg[i]), dim);
      loss += w * softplus(-x);
      coef[i] = static_cast<float>(-w / (1.0 + std::exp(x))) * scale;  // −w·σ(−x)/n
    }
    losses[c] = loss;
  });
  double loss = 0.0;
  for (double l : losses) loss += l;
  loss *= scale;
  for (size_t i = 0; i < t.n; ++i) *skipped += valid[i] ? 0 : 1;

  // dLoss/dfinal, scattered by destination row range: each task owns its rows and walks every
  // triple in order, so no two threads write one row and the sums do not depend on `threads`.
  std::memset(dfinal, 0, n * sizeof(float));
  const size_t per_task = std::max<size_t>(kRowsPerTask, (nodes + 4 * threads - 1) / (4 * threads));
  for_rows(nodes, per_task, threads, [&](size_t r0, size_t r1) {
    auto mine = [&](int32_t r) { return static_cast<size_t>(r) >= r0 && static_cast<size_t>(r) < r1; };
    for (size_t i = 0; i < t.n; ++i) {
      if (!valid[i] || coef[i] == 0.f) continue;
      const int32_t u = t.users[i], p = t.pos[i], q = t.neg[i];
      if (mine(u)) {
        float* du = dfinal + static_cast<size_t>(u) * dim;
        kern.axpy(coef[i], row(fwd, p), du, dim);
        kern.axpy(-coef[i], row(fwd, q), du, dim);
      }
      if (mine(p)) kern.axpy(coef[i], row(fwd, u), dfinal + static_cast<size_t>(p) * dim, dim);
      if (mine(q)) kern.axpy(-coef[i], row(fwd, u), dfinal + static_cast<size_t>(q) * dim, dim);
    }
  });

  // Final = mean of Â^l e0 with Â symmetric, so dLoss/de0 = mean of Â^l dfinal: the same propagation.
  *skipped += graph_propagate(g, dfinal, dim, layers, grad, work + n, threads);

  // L2 on the layer-0 rows of the batch, once per occurrence (LightGCN's regulariser).
  if (l2 > 0.f) {
    std::vector<uint32_t> count(nodes, 0);
    for (size_t i = 0; i < t.n; ++i) {
      if (!valid[i]) continue;
      ++count[t.users[i]];
      ++count[t.pos[i]];
      ++count[t.neg[i]];
    }
    // Fixed row chunks (not one per thread), so the loss sums in the same order for any `threads`.
    const size_t reg_chunks = (nodes + kRowsPerTask - 1) / kRowsPerTask;
    std::vector<double> regs(reg_chunks, 0.0);
    parallel_for(reg_chunks, threads, [&](size_t c) {
      double reg = 0.0;
      for (size_t r = c * kRowsPerTask, end = std::min(nodes, (c + 1) * kRowsPerTask); r < end; ++r) {
        if (!count[r]) continue;
        const float k = l2 * scale * static_cast<float>(count[r]);
        reg += 0.5 * k * kern.dot(row(e0, static_cast<int32_t>(r)), row(e0, static_cast<int32_t>(r)), dim);
        kern.axpy(k, e0 + r * dim, grad + r * dim, dim);
      }
      regs[c] = reg;
    });
    for (double r : regs) loss += r;
  }
  return loss;
}

void adam_dense(float* w, const float* g, float* m, float* v, size_t n, float lr, float beta1, float beta2, float eps,
                size_t t, size_t threads) {
  if (n == 0 || t == 0) return;
  const double bc1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const float step = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float a1 = 1.f - beta1, a2 = 1.f - beta2;
  for_rows(n, kFloatsPerTask, threads, [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) {
      const float gi = g[i];
      m[i] = beta1 * m[i] + a1 * gi;
      v[i] = beta2 * v[i] + a2 * gi * gi;
      w[i] -= step * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  });
}

}  // namespace rb

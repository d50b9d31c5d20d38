// Implicit ALS half-iterations: the Gramian, then every unfrozen row solved by CG or Cholesky.
#include "als.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dense.h"
#include "isa.h"
#include "kernel_table.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Rows of Y per Gramian task: the partial products are summed in task order, so the Gramian does
// not depend on the thread count; 16K rows × 64 floats keep a task's packed panels at 4 MB.
constexpr size_t kGramRows = 16384;
// Rows of X per solve task: small enough to balance heavy rows, large enough to amortise a claim.
constexpr size_t kSolveRows = 64;
// A residual this small (squared norm) is converged: another step would divide by ~0.
constexpr float kConverged = 1e-20f;

// One row's entries, checked: the valid [begin, end) of idx, or an empty range when the offsets
// are out of order or out of bounds (the entries then count as invalid).
struct Span {
  size_t begin = 0, end = 0;
  bool bad = false;
};

Span row_span(const AlsRows& rows, size_t r) {
  const int64_t b = rows.off[r], e = rows.off[r + 1];
  if (b < 0 || e < b || static_cast<size_t>(e) > rows.nnz) return Span{0, 0, true};
  return Span{static_cast<size_t>(b), static_cast<size_t>(e), false};
}

struct RowScratch {
  std::vector<float> r, p, ap;
  std::vector<const float*> ys;  // the row's valid entries' Y rows
  std::vector<float> conf;       // and their confidences
  std::vector<double> a, b;      // Cholesky
  std::vector<float> x_old;
};

// Gathers the row's valid entries; returns how many were invalid.
size_t gather_entries(const AlsRows& rows, Span s, const float* y, size_t y_rows, size_t d, const AlsConfig& cfg,
                      RowScratch& w) {
  w.ys.clear();
  w.conf.clear();
  size_t invalid = 0;
  for (size_t k = s.begin; k < s.end; ++k) {
    const int32_t i = rows.idx[k];
    if (i < 0 || static_cast<size_t>(i) >= y_rows) {
      ++invalid;
      continue;
    }
    w.ys.push_back(y + static_cast<size_t>(i) * d);
    w.conf.push_back(als_confidence(rows.val ? rows.val[k] : 1.f, cfg));
  }
  return invalid;
}

void solve_cg(const KernelTable& kt, const AlsKernels& ak, const float* g, float* x, size_t d, const AlsConfig& cfg,
              RowScratch& w) {
  float* r = w.r.data();
  float* p = w.p.data();
  float* ap = w.ap.data();
  const size_t n = w.ys.size();
  ak.row_product(g, cfg.l2, w.ys.data(), w.conf.data(), n, x, r, d, true);
  std::copy(r, r + d, p);
  float rs_old = kt.dot(r, r, d);
  for (int step = 0; step < cfg.cg_steps && rs_old > kConverged; ++step) {
    ak.row_product(g, cfg.l2, w.ys.data(), w.conf.data(), n, p, ap, d, false);
    const float pap = kt.dot(p, ap, d);
    if (!(pap > 0.f)) break;  // p is (numerically) in the null space: nothing left to gain
    const float a = rs_old / pap;
    kt.axpy(a, p, x, d);
    if (step + 1 == cfg.cg_steps) break;  // the residual is not needed after the last step
    kt.axpy(-a, ap, r, d);
    const float rs_new = kt.dot(r, r, d);
    if (rs_new <= kConverged) break;
    const float beta = rs_new / rs_old;
    for (size_t j = 0; j < d; ++j) p[j] = r[j] + beta * p[j];
    rs_old = rs_new;
  }
}

// Exact solve in float64; false when the matrix is not positive definite (λ = 0 and Y rank-deficient).
bool solve_cholesky(const float* g, float* x, size_t d, const AlsConfig& cfg, RowScratch& w) {
  double* a = w.a.data();
  double* b = w.b.data();
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j <= i; ++j) a[i * d + j] = g[i * d + j];
  for (size_t i = 0; i < d; ++i) a[i * d + i] += cfg.l2;
  std::fill(b, b + d, 0.0);
  for (size_t e = 0; e < w.ys.size(); ++e) {
    const float* yv = w.ys[e];
    const double c = w.conf[e];
    for (size_t i = 0; i < d; ++i) {
      const double yi = yv[i];
      b[i] += c * yi;
      const double s = (c - 1.0) * yi;
      if (s == 0.0) continue;
      double* row = a + i * d;
      for (size_t j = 0; j <= i; ++j) row[j] += s * yv[j];
    }
  }
  for (size_t j = 0; j < d; ++j) {
    double s = a[j * d + j];
    for (size_t k = 0; k < j; ++k) s -= a[j * d + k] * a[j * d + k];
    if (!(s > 0.0)) return false;
    const double l = std::sqrt(s);
    a[j * d + j] = l;
    for (size_t i = j + 1; i < d; ++i) {
      double t = a[i * d + j];
      for (size_t k = 0; k < j; ++k) t -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = t / l;
    }
  }
  for (size_t i = 0; i < d; ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * d + k] * b[k];
    b[i] = s / a[i * d + i];
  }
  for (size_t i = d; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < d; ++k) s -= a[k * d + i] * b[k];
    b[i] = s / a[i * d + i];
  }
  for (size_t i = 0; i < d; ++i) x[i] = static_cast<float>(b[i]);
  return true;
}

// The row's share of the objective: Σ_all (x·y)² + Σ_obs [c(1 − s)² − s²] + λ‖x‖², s = x·y_i.
double row_loss(const KernelTable& kt, const float* g, const float* x, size_t d, float l2, const RowScratch& w) {
  double quad = 0;
  for (size_t j = 0; j < d; ++j) quad += static_cast<double>(x[j]) * kt.dot(g + j * d, x, d);
  double obs = 0;
  for (size_t e = 0; e < w.ys.size(); ++e) {
    const double s = kt.dot(w.ys[e], x, d);
    obs += w.conf[e] * (1 - s) * (1 - s) - s * s;
  }
  return quad + obs + static_cast<double>(l2) * kt.dot(x, x, d);
}

bool all_finite(const float* x, size_t d) {
  for (size_t j = 0; j < d; ++j)
    if (!std::isfinite(x[j])) return false;
  return true;
}

}  // namespace

void als_row_product_scalar(const float* g, float l2, const float* const* ys, const float* conf, size_t n,
                            const float* v, float* out, size_t d, bool residual) {
  for (size_t j = 0; j < d; ++j) out[j] = l2 * v[j];
  for (size_t j = 0; j < d; ++j) {
    const float* gj = g + j * d;
    for (size_t k = 0; k < d; ++k) out[k] += gj[k] * v[j];
  }
  if (residual)
    for (size_t j = 0; j < d; ++j) out[j] = -out[j];
  for (size_t e = 0; e < n; ++e) {
    const float* y = ys[e];
    float dot = 0.f;
    for (size_t k = 0; k < d; ++k) dot += y[k] * v[k];
    const float c = conf[e];
    const float coef = residual ? c - (c - 1.f) * dot : (c - 1.f) * dot;
    for (size_t k = 0; k < d; ++k) out[k] += coef * y[k];
  }
}

const AlsKernels& als_kernels_scalar() {
  static const AlsKernels k{"scalar", als_row_product_scalar};
  return k;
}

const AlsKernels& active_als_kernels() {
  static constexpr IsaTables<AlsKernels> tables{
      {als_kernels_scalar, RB_X86_ONLY(als_kernels_avx2), RB_X86_ONLY(als_kernels_avx512)}};
  return tables.active();
}

float als_confidence(float v, const AlsConfig& cfg) {
  if (!(v > 0.f)) return 1.f;
  if (cfg.confidence == AlsConfidence::Log) return 1.f + cfg.alpha * std::log1p(v / cfg.eps);
  return 1.f + cfg.alpha * v;
}

void als_gramian(const float* y, size_t y_rows, size_t d, float* out, size_t threads) {
  std::fill(out, out + d * d, 0.f);
  if (y_rows == 0 || d == 0) return;
  const size_t tasks = (y_rows + kGramRows - 1) / kGramRows;
  std::vector<float> partial(tasks * d * d);
  parallel_for(tasks, std::max<size_t>(threads, 1), [&](size_t t) {
    const size_t r0 = t * kGramRows, n = std::min(y_rows, r0 + kGramRows) - r0;
    std::vector<float> packed(packed_floats(n, d));
    pack_panels(y + r0 * d, d, false, n, d, packed.data());
    // A'(i, k) = Y[r0 + k][i]: Yᵀ read in place through strides.
    gemm_packed(y + r0 * d, 1, d, d, n, packed.data(), d, partial.data() + t * d * d, d, false, 1);
  });
  for (size_t t = 0; t < tasks; ++t)
    for (size_t j = 0; j < d * d; ++j) out[j] += partial[t * d * d + j];
}

AlsResult als_solve(float* x, size_t x_rows, const float* y, size_t y_rows, size_t d, const AlsRows& rows,
                    const uint8_t* frozen, const AlsConfig& cfg, const std::atomic<int>* cancel) {
  AlsResult result;
  if (x_rows == 0 || d == 0) return result;
  std::vector<float> g(d * d);
  als_gramian(y, y_rows, d, g.data(), cfg.threads);
  const KernelTable& kt = active_kernels();
  const AlsKernels& ak = active_als_kernels();
  const size_t tasks = (x_rows + kSolveRows - 1) / kSolveRows;
  struct TaskResult {
    double loss = 0;
    size_t solved = 0, invalid = 0;
    bool diverged = false, cancelled = false;
  };
  std::vector<TaskResult> per(tasks);
  parallel_for(tasks, std::max<size_t>(cfg.threads, 1), [&](size_t t) {
    TaskResult& tr = per[t];
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      tr.cancelled = true;
      return;
    }
    RowScratch w;
    w.r.resize(d);
    w.p.resize(d);
    w.ap.resize(d);
    w.x_old.resize(d);
    if (cfg.solver == AlsSolver::Cholesky) {
      w.a.resize(d * d);
      w.b.resize(d);
    }
    const size_t r1 = std::min(x_rows, (t + 1) * kSolveRows);
    for (size_t r = t * kSolveRows; r < r1; ++r) {
      const Span s = row_span(rows, r);
      const size_t bad = gather_entries(rows, s, y, y_rows, d, cfg, w);
      tr.invalid += bad + (s.bad ? 1 : 0);
      float* xr = x + r * d;
      if (!frozen || !frozen[r]) {
        std::copy(xr, xr + d, w.x_old.begin());
        const bool ok = cfg.solver == AlsSolver::Cholesky ? solve_cholesky(g.data(), xr, d, cfg, w)
                                                          : (solve_cg(kt, ak, g.data(), xr, d, cfg, w), true);
        if (!ok || !all_finite(xr, d)) {
          std::copy(w.x_old.begin(), w.x_old.end(), xr);
          tr.diverged = true;
        } else {
          ++tr.solved;
        }
      }
      if (cfg.loss) tr.loss += row_loss(kt, g.data(), xr, d, cfg.l2, w);
    }
  });
  for (const TaskResult& tr : per) {
    result.loss += tr.loss;
    result.solved += tr.solved;
    result.invalid += tr.invalid;
    result.diverged = result.diverged || tr.diverged;
    result.cancelled = result.cancelled || tr.cancelled;
  }
  // Y's own penalty: trace(YᵀY) = Σ‖y‖².
  if (cfg.loss) {
    double trace = 0;
    for (size_t j = 0; j < d; ++j) trace += g[j * d + j];
    result.loss += static_cast<double>(cfg.l2) * trace;
  }
  return result;
}

}  // namespace rb

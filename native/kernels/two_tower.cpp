#include "two_tower.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dense.h"
#include "thread_pool.h"

namespace rb {
namespace {

// Rows of the logit matrix produced, normalised and consumed at a time: a 24 × B block (96 KB at
// B = 1024) stays in L2 next to the packed item panels, so the B × B matrix is never materialised.
constexpr size_t kSoftmaxRows = 24;
constexpr float kMinNorm = 1e-12f;

// The in-batch softmax and its backward. U and V are n × D (normalised already for cosine).
class BatchSoftmax {
 public:
  // Writes dU, dV = dLoss/dU, dLoss/dV for loss = mean_i CE_i and returns Σ_i CE_i; *finite is false
  // if any logit was NaN or infinite (the gradients are then meaningless).
  double run(const float* U, const float* V, size_t n, size_t D, const int32_t* col_items, const float* lq, float inv_t,
             size_t threads, float* dU, float* dV, bool* finite) {
    const DenseKernels& kern = active_dense_kernels();
    float* pvt = pvt_.get(packed_floats(D, n));
    float* pv = pv_.get(packed_floats(n, D));
    pack_panels(V, D, /*trans=*/true, D, n, pvt);  // Vᵀ (D × n): the logits' right factor
    pack_panels(V, D, /*trans=*/false, n, D, pv);  // V (n × D): for dU = G·V
    const size_t blocks = (n + kSoftmaxRows - 1) / kSoftmaxRows;
    const size_t nparts = std::max<size_t>(1, std::min(threads, blocks));
    if (parts_.size() < nparts) parts_.resize(nparts);
    // Static contiguous block ranges per part, each with a private dV: the sum over parts in
    // part order makes the result independent of scheduling.
    parallel_for(nparts, nparts, [&](size_t p) {
      Part& pt = parts_[p];
      pt.loss = 0;
      pt.finite = true;
      pt.dv.assign(n * D, 0.f);
      float* L = pt.logits.get(kSoftmaxRows * n);
      float* pu = pt.pu.get(packed_floats(kSoftmaxRows, D));
      const size_t b0 = p * blocks / nparts, b1 = (p + 1) * blocks / nparts;
      const float inv_n = 1.f / static_cast<float>(n);
      for (size_t blk = b0; blk < b1; ++blk) {
        const size_t i0 = blk * kSoftmaxRows, rows = std::min(kSoftmaxRows, n - i0);
        gemm_packed(U + i0 * D, D, 1, rows, D, pvt, n, L, n, false, 1);
        for (size_t r = 0; r < rows; ++r) {
          const size_t i = i0 + r;
          float* z = L + r * n;
          const float zii = z[i] * inv_t - lq[i];
          float check = 0.f;
          float mx = kern.logits_row(z, n, inv_t, lq, col_items, col_items[i], &check);
          if (check != 0.f) pt.finite = false;  // NaN: some score was NaN or infinite
          z[i] = zii;                           // the positive itself was masked with its accidental hits
          mx = zii > mx ? zii : mx;
          const float sum = kern.exp_shift_sum(z, n, mx);
          pt.loss += static_cast<double>(mx) + std::log(static_cast<double>(sum)) - zii;
          // dLoss/ds_ij = (p_ij - [j == i]) / (n τ)
          kern.scale(z, n, inv_t * inv_n / sum);
          z[i] -= inv_t * inv_n;
        }
        gemm_packed(L, n, 1, rows, n, pv, D, dU + i0 * D, D, false, 1);  // dU_blk = G_blk · V
        pack_panels(U + i0 * D, D, false, rows, D, pu);
        gemm_packed(L, 1, n, n, rows, pu, D, pt.dv.data(), D, true, 1);  // dV += G_blkᵀ · U_blk
      }
    });
    double loss = 0;
    *finite = true;
    std::fill(dV, dV + n * D, 0.f);
    for (size_t p = 0; p < nparts; ++p) {
      loss += parts_[p].loss;
      *finite = *finite && parts_[p].finite;
      const float* src = parts_[p].dv.data();
      for (size_t x = 0; x < n * D; ++x) dV[x] += src[x];
    }
    return loss;
  }

 private:
  struct Part {
    AlignedBuffer logits, pu;
    std::vector<float> dv;
    double loss = 0;
    bool finite = true;
  };
  AlignedBuffer pvt_, pv_;
  std::vector<Part> parts_;
};

// Row-wise L2 normalisation (out may equal x); norms kept for the backward.
void normalize_rows(const float* x, size_t n, size_t d, float* out, float* norms) {
  for (size_t r = 0; r < n; ++r) {
    float s = 0.f;
    for (size_t k = 0; k < d; ++k) s += x[r * d + k] * x[r * d + k];
    const float nr = std::max(std::sqrt(s), kMinNorm);
    if (norms) norms[r] = nr;
    for (size_t k = 0; k < d; ++k) out[r * d + k] = x[r * d + k] / nr;
  }
}

// d(x/|x|): dx = (dx̂ - (dx̂·x̂) x̂) / |x|, in place on g.
void normalize_backward(const float* xhat, const float* norms, size_t n, size_t d, float* g) {
  for (size_t r = 0; r < n; ++r) {
    const float* xh = xhat + r * d;
    float* gr = g + r * d;
    float dot = 0.f;
    for (size_t k = 0; k < d; ++k) dot += gr[k] * xh[k];
    for (size_t k = 0; k < d; ++k) gr[k] = (gr[k] - dot * xh[k]) / norms[r];
  }
}

class Engine {
 public:
  Engine(Tower& user, Tower& item, const TwoTowerConfig& cfg)
      : user_(user), item_(item), up_(user), ip_(item), cfg_(cfg) {}

  // Forward and backward of one batch; returns the loss sum (finite false: diverged).
  double step(const int32_t* uids, const int32_t* iids, const float* lq, size_t n, bool* finite) {
    const size_t threads = cfg_.threads, D = user_.out_dim();
    const float* U = up_.forward(uids, n, threads);
    const float* V = ip_.forward(iids, n, threads);
    if (cfg_.cosine) {
      float* un = un_.get(n * D);
      float* vn = vn_.get(n * D);
      unorm_.resize(n);
      vnorm_.resize(n);
      normalize_rows(U, n, D, un, unorm_.data());
      normalize_rows(V, n, D, vn, vnorm_.data());
      U = un;
      V = vn;
    }
    float* dU = du_.get(n * D);
    float* dV = dv_.get(n * D);
    const double loss = sm_.run(U, V, n, D, iids, lq, 1.f / cfg_.temperature, threads, dU, dV, finite);
    if (!*finite || !std::isfinite(loss)) {
      *finite = false;
      return loss;
    }
    if (cfg_.cosine) {
      normalize_backward(U, unorm_.data(), n, D, dU);
      normalize_backward(V, vnorm_.data(), n, D, dV);
    }
    up_.backward(dU, threads);
    ip_.backward(dV, threads);
    return loss;
  }

  void update() {
    up_.update(cfg_.opt, cfg_.threads);
    ip_.update(cfg_.opt, cfg_.threads);
  }

  void write_grads() {
    up_.write_grads();
    ip_.write_grads();
  }

  size_t bad_features() const { return up_.bad_features() + ip_.bad_features(); }

 private:
  Tower& user_;
  Tower& item_;
  TowerPass up_, ip_;
  const TwoTowerConfig& cfg_;
  BatchSoftmax sm_;
  AlignedBuffer un_, vn_, du_, dv_;
  std::vector<float> unorm_, vnorm_;
};

// Appends sample (u, i) when both entities are valid; false otherwise.
bool add_sample(const Tower& user, const Tower& item, int32_t u, int32_t i, const float* log_q, size_t log_q_len,
                std::vector<int32_t>& uids, std::vector<int32_t>& iids, std::vector<float>& lq) {
  if (!entity_ok(user, u) || !entity_ok(item, i)) return false;
  float q = 0.f;
  if (log_q) {
    if (static_cast<size_t>(i) >= log_q_len) return false;
    q = log_q[i];
  }
  uids.push_back(u);
  iids.push_back(i);
  lq.push_back(q);
  return true;
}

}  // namespace

TwoTowerResult two_tower_chunk(Tower& user, Tower& item, const TwoTowerData& data, const int32_t* schedule,
                               size_t begin, size_t end, const TwoTowerConfig& cfg, const std::atomic<int>* cancel) {
  TwoTowerResult res;
  if (user.out_dim() != item.out_dim() || cfg.batch == 0) return res;
  Engine engine(user, item, cfg);
  std::vector<int32_t> uids, iids;
  std::vector<float> lq;
  for (size_t b = begin; b < end; b += cfg.batch) {
    if (cancel && cancel->load(std::memory_order_relaxed)) {
      res.cancelled = true;
      break;
    }
    const size_t e = std::min(end, b + cfg.batch);
    uids.clear();
    iids.clear();
    lq.clear();
    for (size_t p = b; p < e; ++p) {
      const int32_t idx = schedule[p];
      if (idx < 0 || static_cast<size_t>(idx) >= data.n ||
          !add_sample(user, item, data.users[idx], data.items[idx], data.log_q, data.log_q_len, uids, iids, lq))
        ++res.invalid;
    }
    if (uids.empty()) continue;
    bool finite = true;
    const double loss = engine.step(uids.data(), iids.data(), lq.data(), uids.size(), &finite);
    res.invalid += engine.bad_features();
    if (!finite) {
      res.diverged = true;
      break;
    }
    engine.update();
    res.loss += loss;
    res.samples += uids.size();
    ++res.batches;
  }
  return res;
}

double two_tower_loss(Tower& user, Tower& item, const int32_t* users, const int32_t* items, size_t n,
                      const float* log_q, size_t log_q_len, const TwoTowerConfig& cfg, bool grads, size_t* invalid) {
  *invalid = 0;
  if (user.out_dim() != item.out_dim()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<int32_t> uids, iids;
  std::vector<float> lq;
  for (size_t p = 0; p < n; ++p)
    if (!add_sample(user, item, users[p], items[p], log_q, log_q_len, uids, iids, lq)) ++*invalid;
  if (uids.empty()) return 0;
  Engine engine(user, item, cfg);
  bool finite = true;
  const double loss = engine.step(uids.data(), iids.data(), lq.data(), uids.size(), &finite);
  *invalid += engine.bad_features();
  if (!finite) return std::numeric_limits<double>::quiet_NaN();
  if (grads) engine.write_grads();
  return loss / static_cast<double>(uids.size());
}

size_t two_tower_encode(Tower& t, const int32_t* ids, size_t n, bool normalize, float* out, size_t threads) {
  const size_t D = t.out_dim();
  TowerPass pass(t);
  std::vector<int32_t> batch;
  std::vector<size_t> where;
  size_t invalid = 0;
  constexpr size_t kBatch = 1024;
  for (size_t b = 0; b < n; b += kBatch) {
    batch.clear();
    where.clear();
    for (size_t r = b; r < std::min(n, b + kBatch); ++r) {
      const int64_t e = ids ? ids[r] : static_cast<int64_t>(r);
      if (entity_ok(t, e)) {
        batch.push_back(static_cast<int32_t>(e));
        where.push_back(r);
      } else {
        ++invalid;
        std::fill(out + r * D, out + (r + 1) * D, std::numeric_limits<float>::quiet_NaN());
      }
    }
    if (batch.empty()) continue;
    const float* y = pass.forward(batch.data(), batch.size(), threads);
    invalid += pass.bad_features();
    for (size_t q = 0; q < batch.size(); ++q) std::memcpy(out + where[q] * D, y + q * D, D * sizeof(float));
    if (normalize)
      for (size_t r : where) normalize_rows(out + r * D, 1, D, out + r * D, nullptr);
  }
  return invalid;
}

}  // namespace rb

// Graph kernels: each ISA's sparse row product against the scalar reference over every vector tail,
// thread-count independence of the propagation and of the gradient, and out-of-range entries
// skipped and counted rather than read.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../kernels/graph.h"
#include "../kernels/isa.h"
#include "check.h"
#include "support.h"

using namespace rbtest;

namespace {

// A ring-and-chords graph over n nodes: every row has a few neighbours, weights in (0, 1].
struct TestGraph {
  std::vector<int32_t> offsets, indices;
  std::vector<float> weights;
  rb::SparseGraph view() const {
    rb::SparseGraph g;
    g.offsets = offsets.data();
    g.indices = indices.data();
    g.weights = weights.data();
    g.nodes = offsets.size() - 1;
    g.nnz = indices.size();
    return g;
  }
};

TestGraph make_graph(size_t n) {
  TestGraph g;
  g.offsets.push_back(0);
  for (size_t r = 0; r < n; ++r) {
    for (size_t step : {size_t{1}, n - 1, size_t{7} % n, (r * 13 + 5) % n}) {
      g.indices.push_back(static_cast<int32_t>((r + step) % n));
      g.weights.push_back(1.f / static_cast<float>(1 + (r + step) % 5));
    }
    g.offsets.push_back(static_cast<int32_t>(g.indices.size()));
  }
  return g;
}

}  // namespace

TEST_CASE("graph: every ISA's row product matches the scalar reference, dims 1..65 and 127..129") {
  const size_t n = 37;
  std::vector<size_t> dims;
  for (size_t d = 1; d <= 65; ++d) dims.push_back(d);
  for (size_t d : {127, 128, 129}) dims.push_back(d);
  const TestGraph g = make_graph(n);
  for (size_t dim : dims) {
    const std::vector<float> x = normal_values(n * dim, static_cast<uint32_t>(dim));
    std::vector<float> want(n * dim), got(n * dim);
    CHECK(rb::force_isa(0));
    rb::graph_spmm(g.view(), x.data(), dim, want.data(), 1);
    for (int isa : runnable_isas()) {
      CHECK(rb::force_isa(isa));
      rb::graph_spmm(g.view(), x.data(), dim, got.data(), 2);
      double worst = 0;
      for (size_t i = 0; i < want.size(); ++i)
        worst = std::fmax(worst, std::fabs(double(got[i]) - double(want[i])) / (1 + std::fabs(double(want[i]))));
      CHECK_NEAR(worst, 0.0, 1e-6);
    }
    rb::reset_isa();
  }
}

TEST_CASE("graph: propagation and gradient do not depend on the thread count") {
  const size_t n = 3000, dim = 20, layers = 3;
  const TestGraph g = make_graph(n);
  const std::vector<float> e0 = normal_values(n * dim, 9);
  std::vector<int32_t> users, pos, neg;
  for (size_t i = 0; i < 5000; ++i) {
    users.push_back(static_cast<int32_t>(i % n));
    pos.push_back(static_cast<int32_t>((i * 7 + 1) % n));
    neg.push_back(static_cast<int32_t>((i * 11 + 3) % n));
  }
  rb::BprTriples t;
  t.users = users.data();
  t.pos = pos.data();
  t.neg = neg.data();
  t.n = users.size();
  std::vector<float> work(3 * n * dim), a(n * dim), b(n * dim);
  rb::graph_propagate(g.view(), e0.data(), dim, layers, a.data(), work.data(), 1);
  rb::graph_propagate(g.view(), e0.data(), dim, layers, b.data(), work.data(), 2);
  CHECK(a == b);
  size_t skipped = 0;
  const double la =
      rb::graph_bpr_gradient(g.view(), e0.data(), dim, layers, t, 0.01f, a.data(), work.data(), 1, &skipped);
  const double lb =
      rb::graph_bpr_gradient(g.view(), e0.data(), dim, layers, t, 0.01f, b.data(), work.data(), 3, &skipped);
  CHECK(a == b);
  CHECK_EQ(la, lb);
  CHECK_EQ(skipped, size_t{0});
}

TEST_CASE("graph: out-of-range neighbours and triples are skipped and counted") {
  TestGraph g = make_graph(10);
  g.indices[3] = 10;
  g.indices[7] = -1;
  const size_t dim = 4;
  const std::vector<float> x(10 * dim, 1.f);
  std::vector<float> y(10 * dim), work(3 * 10 * dim), grad(10 * dim);
  CHECK_EQ(rb::graph_spmm(g.view(), x.data(), dim, y.data(), 1), size_t{2});
  const int32_t users[] = {0, 11}, pos[] = {1, 2}, neg[] = {2, 3};
  rb::BprTriples t;
  t.users = users;
  t.pos = pos;
  t.neg = neg;
  t.n = 2;
  size_t skipped = 0;
  const double loss = rb::graph_bpr_gradient(g.view(), x.data(), dim, 1, t, 0.f, grad.data(), work.data(), 1, &skipped);
  CHECK(std::isfinite(loss));
  CHECK(skipped >= 1);
}

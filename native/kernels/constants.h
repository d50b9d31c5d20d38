// Every id that crosses the JS boundary, and the optimizer-state sizes both sides allocate and check.
// lib/core/native-constants.ts mirrors this file: test/native/native-constants.test.ts parses the
// enums below and compares them with it, and checks its state sizes against the addon's length
// checks, so a value changed on one side only fails the tests. Keep each enum on the
// `enum class Name : int { Enumerator = value, ... };` pattern that test reads.
#pragma once
#include <cstddef>

namespace rb {

enum class MfLoss : int {
  Bpr = 0,   // pairwise: -ln σ(x_ui - x_uj), one sampled negative
  Bce = 1,   // pointwise: -ln σ(x_ui) - Σ_j ln σ(-x_uj) over `negatives` sampled negatives
  Mse = 2,   // explicit ratings: ½ (r_ui - x_ui)², no negatives
  Warp = 3,  // pairwise hinge on the first margin violator, weighted by ln(rank estimate)
};

// Matrix factorization and two-tower embedding tables. Adam is lazy: only touched rows update
// their moments, each row bias-corrected by its own step count.
enum class OptimizerKind : int { Sgd = 0, Adagrad = 1, RowwiseAdagrad = 2, Adam = 3 };

// Two-tower dense layers (projection and MLP).
enum class DenseOptimizer : int { Sgd = 0, Adam = 1 };

enum class SamplerKind : int {
  Uniform = 0,  // every item equally likely
  Alias = 1,    // a caller-built alias table (popularity^α)
  InBatch = 2,  // the item of another interaction within `window` schedule positions
};

// Two-tower scores.
enum class Similarity : int { Dot = 0, Cosine = 1 };

enum class KnnWeighting : int { Cosine = 0, TfIdf = 1, Bm25 = 2 };

enum class PoolMode : int { Sum = 0, Mean = 1, WeightedSum = 2 };

enum class QuantKind : int { Bf16 = 1, Int8 = 2 };

// Implicit ALS (als.h): confidence of an observed value v, c = 1 + α·v (Linear) or
// 1 + α·ln(1 + v/ε) (Log); the row solver, Cg steps warm-started from the row or the exact Cholesky.
enum class AlsConfidence : int { Linear = 0, Log = 1 };
enum class AlsSolver : int { Cg = 0, Cholesky = 1 };

// Floats of optimizer state for a rows × dim table. Layouts: Adagrad one accumulator per weight;
// row-wise Adagrad one per row; Adam first moments (rows × dim), second moments (rows × dim), then
// each row's step count (rows); SGD none.
constexpr size_t optimizer_state_floats(OptimizerKind kind, size_t rows, size_t dim) {
  switch (kind) {
    case OptimizerKind::Adagrad:
      return rows * dim;
    case OptimizerKind::RowwiseAdagrad:
      return rows;
    case OptimizerKind::Adam:
      return 2 * rows * dim + rows;
    case OptimizerKind::Sgd:
      break;
  }
  return 0;
}

// Dense Adam keeps the embedding tables' Adam layout.
constexpr OptimizerKind state_layout(DenseOptimizer kind) {
  return kind == DenseOptimizer::Adam ? OptimizerKind::Adam : OptimizerKind::Sgd;
}

}  // namespace rb

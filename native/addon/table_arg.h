// The (table, dim) pair every scoring spec starts with, and length checks.
#pragma once
#include "../kernels/scoring.h"
#include "args.h"

namespace rbnapi {

constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxThreads = 256;

// spec.table (rows × spec.dim floats) and spec.dim.
template <class Spec>
rb::ItemTable table_arg(Napi::Env env, const Spec& spec, View<float>* view = nullptr) {
  const View<float> t = f32_value(env, spec.Get("table"), "table");
  const int64_t dim = integer_value(env, spec.Get("dim"), "dim", 1, kMaxDim);
  if (t.length % static_cast<size_t>(dim) != 0)
    throw_length(env, "table",
                 "Expected table length to be a multiple of dim (" + std::to_string(dim) + ") but it is " +
                     std::to_string(t.length));
  if (t.length / static_cast<size_t>(dim) > static_cast<size_t>(INT32_MAX))
    throw_range(env, "table", "Expected at most 2^31-1 rows in table");
  if (view) *view = t;
  return rb::ItemTable{t.data, t.length / static_cast<size_t>(dim), static_cast<size_t>(dim)};
}

inline void expect_length(Napi::Env env, size_t got, size_t want, const char* name) {
  if (got != want)
    throw_length(
        env, name,
        std::string("Expected ") + name + " of length " + std::to_string(want) + " but it has " + std::to_string(got));
}

inline void expect_min_length(Napi::Env env, size_t got, size_t want, const char* name) {
  if (got < want)
    throw_length(env, name,
                 std::string("Expected ") + name + " of length at least " + std::to_string(want) + " but it has " +
                     std::to_string(got));
}

}  // namespace rbnapi

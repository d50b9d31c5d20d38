// A minimal self-registering test runner, so the native tests need nothing beyond the compiler
// (no GoogleTest or doctest to install in CI). Failures are counted, not fatal, so one run reports
// every broken case; main() exits non-zero when any check failed.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace rbtest {

struct Case {
  const char* name;
  std::function<void()> fn;
};

std::vector<Case>& registry();
extern long failures;
extern long checks;

inline bool record(bool ok, const char* file, int line, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    // Cap the noise: one broken kernel would otherwise print thousands of lines.
    if (failures <= 50) std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
  }
  return ok;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

}  // namespace rbtest

#define RB_CAT2(a, b) a##b
#define RB_CAT(a, b) RB_CAT2(a, b)
#define TEST_CASE(name)                                                                \
  static void RB_CAT(rb_test_, __LINE__)();                                            \
  static rbtest::Register RB_CAT(rb_reg_, __LINE__)(name, RB_CAT(rb_test_, __LINE__)); \
  static void RB_CAT(rb_test_, __LINE__)()

#define CHECK(cond) rbtest::record(static_cast<bool>(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b)                           \
  rbtest::record((a) == (b), __FILE__, __LINE__, \
                 std::string(#a " == " #b " (") + std::to_string(a) + " vs " + std::to_string(b) + ")")
#define CHECK_NEAR(a, b, tol)                                                         \
  rbtest::record(std::fabs(double(a) - double(b)) <= double(tol), __FILE__, __LINE__, \
                 std::string(#a " ~ " #b " (") + std::to_string(double(a)) + " vs " + std::to_string(double(b)) + ")")

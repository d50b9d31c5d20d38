// Runs every registered case (or those whose name contains argv[1]) and prints one summary line.
#include <cstring>

#include "check.h"

namespace rbtest {
std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
long failures = 0;
long checks = 0;
}  // namespace rbtest

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int ran = 0, failed_cases = 0;
  for (const auto& c : rbtest::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    const long before = rbtest::failures;
    std::fprintf(stderr, "[ RUN  ] %s\n", c.name);
    c.fn();
    ++ran;
    if (rbtest::failures != before) ++failed_cases;
    std::fprintf(stderr, "[ %s ] %s\n", rbtest::failures == before ? " OK " : "FAIL", c.name);
  }
  std::printf("native tests: %d cases, %ld checks, %d failed cases\n", ran, rbtest::checks, failed_cases);
  return failed_cases == 0 && ran > 0 ? 0 : 1;
}

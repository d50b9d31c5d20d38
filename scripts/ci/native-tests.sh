#!/usr/bin/env bash
# Builds the pure kernels and native/tests with AddressSanitizer + UndefinedBehaviorSanitizer in
# a folder outside the checkout (never build/, which jest loads and `node-gyp rebuild` wipes) and
# runs them. Any sanitizer report
# aborts the run (-fno-sanitize-recover), so a zero exit means no bad access, leak or UB was seen.
set -euo pipefail
cd "$(dirname "$0")/../.."
# One folder per checkout: a CMake cache remembers its source folder.
dir="${RB_NATIVE_TEST_DIR:-${TMPDIR:-/tmp}/recbridge-native-tests-$(pwd | md5sum | cut -c1-8)}"
cmake -S . -B "$dir" -DRB_BUILD_TESTS=ON -DRB_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="-O1" >/dev/null
cmake --build "$dir" -j"${RB_JOBS:-2}" --target native_tests
# detect_leaks: the tests free everything; halt_on_error: the first report fails the run.
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$dir/native_tests" "$@"

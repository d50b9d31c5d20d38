#!/usr/bin/env bash
# Runs native/tests (kernels, top-K, training epochs, thread pool; every ISA path this CPU has)
# built with AddressSanitizer + UndefinedBehaviorSanitizer by sanitized-build.sh. Any sanitizer
# report aborts the run (-fno-sanitize-recover=all), so a zero exit means no bad access, leak or
# undefined behaviour was seen. Arguments filter cases by name: native-tests.sh topk
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(scripts/ci/sanitized-build.sh)
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/native_tests" "$@"

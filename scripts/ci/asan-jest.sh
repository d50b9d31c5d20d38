#!/usr/bin/env bash
# Runs jest suites against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon,
# loaded by the ordinary node binary with libasan preloaded. The sanitized addon comes from
# sanitized-build.sh (outside the checkout); jest runs in a mirror folder (copies of lib/, test/,
# dist/ and the configs, node_modules linked) whose build/Release holds it, so the real
# build/Release is never touched. An ASan or UBSan report aborts the process, and a leak report
# at exit writes to stderr and fails it: jest shows either as a failed suite.
#   scripts/ci/asan-jest.sh                 # the long subset (SUITES below): ~4.5 min on 2 cores
#   scripts/ci/asan-jest.sh test/core        # any jest paths (.ci/run uses a short list)
#   scripts/ci/asan-jest.sh test            # the whole suite (about 10 min on 2 cores; test/package
#                                           # cannot pass here: the compilers it spawns inherit LD_PRELOAD
#                                           # and report their own leaks)
# scripts/ci/asan-node.supp lists the only suppressed leaks (none in recbridge).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
build=$(scripts/ci/sanitized-build.sh)
mirror="$(dirname "$build")/mirror"

rm -rf "$mirror"
mkdir -p "$mirror/build/Release"
cp -r lib test dist bin native package.json README.md binding.gyp CMakeLists.txt jest.config.js tsconfig.json tsconfig.build.json "$mirror/"
ln -s "$repo/node_modules" "$mirror/node_modules"
cp "$build/Release/recbridge.node" "$mirror/build/Release/recbridge.node"

SUITES=("$@")
if [ ${#SUITES[@]} -eq 0 ]; then
  # Every suite that drives the native code directly, plus workers and file I/O. Training suites
  # that only repeat the same kernels on bigger data are left to the long run.
  SUITES=(test/native test/core test/workers test/io test/neighbours test/hardening/bad-input-properties.test.ts test/train/mf-losses.test.ts)
fi

asan_lib=$(gcc -print-file-name=libasan.so)
cd "$mirror"
LD_PRELOAD="$asan_lib" \
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1:detect_odr_violation=0" \
LSAN_OPTIONS="suppressions=$repo/scripts/ci/asan-node.supp:print_suppressions=0" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
RECBRIDGE_STRESS_SECONDS=5 \
  node node_modules/.bin/jest --ci "${SUITES[@]}"

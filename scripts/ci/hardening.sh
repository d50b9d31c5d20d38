#!/usr/bin/env bash
# The hardening part of CI (issue 8), after `npm ci` (which builds dist/ and the addon):
#   1. native/tests under ASan + UBSan (every ISA path this CPU has);
#   2. a short list of jest suites against the ASan + UBSan addon (LD_PRELOAD of libasan);
#   3. short fuzz runs of the model-file and data-file parsers (RB_FUZZ_SECONDS each, default 60).
# Long runs are separate commands (README "Bad input", bench/RESULTS.md "Hardening").
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian packages the sanitizer build needs, if this machine lacks them.
need=()
command -v cmake >/dev/null || need+=(cmake)
[ -e "$(gcc -print-file-name=libasan.so)" ] || need+=(libasan8)
[ -e "$(gcc -print-file-name=libubsan.so)" ] || need+=(libubsan1)
if [ ${#need[@]} -gt 0 ]; then
  echo "hardening: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

t0=$SECONDS
echo "hardening: sanitized build (addon + native tests)"
scripts/ci/sanitized-build.sh >/dev/null
echo "hardening: built in $((SECONDS - t0)) s"

t=$SECONDS
scripts/ci/native-tests.sh 2>/tmp/recbridge-native-tests.log || { tail -60 /tmp/recbridge-native-tests.log; exit 1; }
echo "hardening: native tests under ASan+UBSan took $((SECONDS - t)) s"
scripts/ci/fuzz-native.sh  # libFuzzer + ASan/UBSan on the kernel entry points (clang from Debian)

t=$SECONDS
# The suites that hit the binding hardest: argument re-checks, corrupt files, workers, top-K edges.
scripts/ci/asan-jest.sh test/core test/hardening/bad-input-properties.test.ts test/io/model-corruption.test.ts \
  test/workers test/native/topk-properties.test.ts 2>&1 | tail -8
echo "hardening: jest subset against the ASan addon took $((SECONDS - t)) s"

t=$SECONDS
node fuzz/run.js --seconds "${RB_FUZZ_SECONDS:-60}"
echo "hardening: fuzzing took $((SECONDS - t)) s; all hardening $((SECONDS - t0)) s"

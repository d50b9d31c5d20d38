#!/usr/bin/env bash
# One AddressSanitizer + UndefinedBehaviorSanitizer build (cmake-js, CMakeLists.txt) of both the
# addon and the native tests, so the kernels compile once for both. It lives outside the checkout:
# jest loads build/Release, and `node-gyp rebuild` wipes build/. Prints the build folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="${RB_SANITIZED_DIR:-${TMPDIR:-/tmp}/recbridge-sanitized-$(pwd | md5sum | cut -c1-8)}"
mkdir -p "$work"
# -O1: sanitizer builds of the AVX-512 files at -O3 take minutes longer and find nothing more.
if ! npx cmake-js compile --out "$work/build" --parallel "${RB_JOBS:-2}" \
  --CDRB_SANITIZE=address,undefined --CDRB_BUILD_TESTS=ON "--CDCMAKE_CXX_FLAGS_RELEASE=-O1 -g" >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  exit 1
fi
echo "$work/build"

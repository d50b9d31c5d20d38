#!/usr/bin/env bash
# libFuzzer runs of the native kernel entry points (native/fuzz/*_fuzz.cpp) under ASan + UBSan:
# installs Debian's clang if missing, builds the targets outside build/, runs each for
# RB_NATIVE_FUZZ_SECONDS (default 60, the issue's "a minute each"), RB_NATIVE_FUZZ_JOBS at a time (default 2), and fails on any
# finding: a sanitizer report, a reference mismatch (FUZZ_CHECK aborts), a leak, or an input
# slower than RB_NATIVE_FUZZ_TIMEOUT seconds (default 10; a hang). Findings are kept under
# <work>/findings. Prints the inputs executed per target.
#
# Long runs (bench/RESULTS.md "Hardening"), one target at a time, on the corpus this leaves:
#   RB_NATIVE_FUZZ_RUNS=1000000 RB_NATIVE_FUZZ_JOBS=1 scripts/ci/fuzz-native.sh [target...]
# Arguments pick targets by name (topk, quantized, item_knn, train_mf); none: all of them.
set -euo pipefail
cd "$(dirname "$0")/../.."

clang_ver=14
rt_lib=/usr/lib/llvm-$clang_ver/lib/clang
if ! command -v clang++-$clang_ver >/dev/null || ! ls $rt_lib/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz-native: installing clang-$clang_ver and its sanitizer/libFuzzer runtimes"
  t=$SECONDS
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends clang-$clang_ver libclang-rt-$clang_ver-dev >/dev/null
  echo "fuzz-native: installed in $((SECONDS - t)) s"
fi

work="${RB_NATIVE_FUZZ_DIR:-${TMPDIR:-/tmp}/recbridge-fuzz-$(pwd | md5sum | cut -c1-8)}"
mkdir -p "$work/findings"
t=$SECONDS
if ! { cmake -S . -B "$work/build" -DCMAKE_CXX_COMPILER=clang++-$clang_ver -DRB_BUILD_FUZZ=ON -DRB_SANITIZE=address,undefined \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" &&
       cmake --build "$work/build" --parallel "${RB_JOBS:-2}"; } >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  exit 1
fi
echo "fuzz-native: built in $((SECONDS - t)) s"

targets=()
for src in native/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" _fuzz.cpp)
  if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx "$name"; then targets+=("$name"); fi
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz-native: no target matches $*" >&2; exit 1; }

seconds="${RB_NATIVE_FUZZ_SECONDS:-60}"
limit=(-max_total_time="$seconds")
[ -n "${RB_NATIVE_FUZZ_RUNS:-}" ] && limit=(-runs="$RB_NATIVE_FUZZ_RUNS")
# A small quarantine: the inputs allocate and free a lot, and ASan's default 256 MB quarantine turns
# every allocation into fresh pages (page faults were a tenth of the run time).
export ASAN_OPTIONS="quarantine_size_mb=16:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"

run_one() {
  local name=$1 corpus="$work/corpus/$1"
  mkdir -p "$corpus"
  [ -d "native/fuzz/corpus/$name" ] && cp -n native/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  # -max_len: a few hundred bytes describe the largest tables the targets build; longer inputs only
  # slow the run. rc 0 means no crash, mismatch, leak or timeout.
  local rc=0
  "$work/build/${name}_fuzz" "${limit[@]}" -timeout="${RB_NATIVE_FUZZ_TIMEOUT:-10}" -max_len=512 -print_final_stats=1 \
    -artifact_prefix="$work/findings/$name-" "$corpus" >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

t=$SECONDS
jobs_max="${RB_NATIVE_FUZZ_JOBS:-2}"
for name in "${targets[@]}"; do
  rm -f "$work/$name.rc"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$name" &
done
wait
failed=0
for name in "${targets[@]}"; do
  rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name.log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz-native: $name: ${execs:-?} inputs (${secs:-?}/s), no findings"
  else
    failed=1
    echo "fuzz-native: $name FAILED (exit $rc) after ${execs:-?} inputs; log $work/$name.log, input under $work/findings:" >&2
    grep -E "FUZZ_CHECK|ERROR:|SUMMARY|runtime error|ALARM|Test unit written" "$work/$name.log" | head -20 >&2
  fi
done
echo "fuzz-native: ran ${#targets[@]} targets in $((SECONDS - t)) s"
exit $failed

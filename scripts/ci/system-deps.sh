#!/usr/bin/env bash
# Debian packages that CI's checks need beyond a fresh machine's toolchain: clang-format (the C++
# format check), the aarch64 cross compiler and qemu-user (the linux-arm64 prebuild and its test),
# chromium (test/report/browser.test.ts drives it with playwright-core, which downloads no browser).
# Installs only what is missing. (The hardening step installs clang for the sanitizers and fuzzers.)
set -euo pipefail
need=()
command -v clang-format >/dev/null || need+=(clang-format)
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user)
[ -x "${RECBRIDGE_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  t=$SECONDS
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "system-deps: installed ${need[*]} in $((SECONDS - t)) s"
fi

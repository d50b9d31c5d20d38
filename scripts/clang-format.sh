#!/usr/bin/env bash
# clang-format over the C++ of the repo (.clang-format). Without arguments it lists the files that
# differ and exits 1 if any does; with --fix it rewrites them. CI uses Debian's clang-format 14.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'native/*.cpp' 'native/*.h' 'native/*.inc' 'bench/native/*.cpp' 'bench/native/*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "clang-format: $f differs (npm run format)"
    bad=1
  fi
done
exit $bad

#!/usr/bin/env bash
# The package as consumers get it: publint checks package.json against the files it ships, and
# "are the types wrong" resolves every entry point's types the way node10, node16 (CJS and ESM) and
# bundlers do. Packs with --ignore-scripts (prepack would build the prebuilds: types do not need them).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npx publint run --strict --pack false .
npm pack --ignore-scripts --pack-destination "$work" --silent >/dev/null
npx attw "$work"/recbridge-*.tgz --format table-flipped

#!/usr/bin/env node
'use strict';
// Checks `noUncheckedIndexedAccess` on part of lib/. tsc cannot turn a flag on per folder (every
// imported file is checked with the same options), so this runs tsc over the whole project with the
// flag and fails only on errors in files under STRICT_FOLDERS; errors elsewhere are counted, not
// reported. The ordinary `npm run typecheck` (without the flag) still covers everything.
//
// Usage: node scripts/ci/strict-index.js   (npm run lint:strict-index)
// Exit code: 0 when the strict folders are clean, 1 when they have errors (printed) or tsc could
// not run.

/**
 * Folders (relative to the repository root, with a trailing slash) held to noUncheckedIndexedAccess.
 *
 * Left out on purpose: the numeric hot layers — lib/core, data, eval, train, neighbours, transfer,
 * serving and io. Their inner loops index typed arrays (embedding rows, CSR offsets, scores,
 * top-K heaps) by counters that are in range by construction; under the flag every such read is
 * `number | undefined`, so each would need a `!` (noise that hides the few reads that matter) or a
 * runtime check in the innermost loop (cost on the paths the benchmarks measure). The folders below
 * index arrays of options, rows and chart points, where a missing entry is a real possibility and
 * the check is cheap.
 */
const STRICT_FOLDERS = ['lib/commands/', 'lib/report/', 'lib/models/'];

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--noUncheckedIndexedAccess', '--pretty', 'false'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
if (result.error) {
  console.error(`strict index access: could not run tsc: ${result.error.message}`);
  process.exit(1);
}

// With --pretty false every diagnostic starts with "path(line,col): error TSnnnn: ..." and may
// continue on indented lines (elaborations of long type errors); keep those with their diagnostic.
const DIAGNOSTIC = /^(.+?)\(\d+,\d+\): error TS\d+:/;
const diagnostics = [];
const stray = [];
for (const line of `${result.stdout}${result.stderr}`.split(/\r?\n/)) {
  if (line === '') continue;
  const match = DIAGNOSTIC.exec(line);
  if (match) {
    diagnostics.push({ file: match[1].replace(/\\/g, '/'), text: line });
  } else if (/^\s/.test(line) && diagnostics.length > 0) {
    diagnostics[diagnostics.length - 1].text += `\n${line}`;
  } else {
    stray.push(line);
  }
}

// tsc exits 0 (no errors) or 2 (errors, files checked); anything else, or output that is not a
// per-file diagnostic (a bad tsconfig, a global error), means the check itself did not run.
if ((result.status !== 0 && result.status !== 2) || stray.length > 0 || (result.status === 2 && diagnostics.length === 0)) {
  console.error(`strict index access: tsc failed (exit ${result.status ?? result.signal})`);
  for (const line of stray) console.error(line);
  process.exit(1);
}

const inStrict = (file) => STRICT_FOLDERS.some((folder) => file.startsWith(folder));
const strict = diagnostics.filter((d) => inStrict(d.file));
const elsewhere = diagnostics.length - strict.length;

for (const d of strict) console.error(d.text);
console.log(
  `strict index access: ${strict.length} error${strict.length === 1 ? '' : 's'} in ${STRICT_FOLDERS.join(', ')}; ` +
    `${elsewhere} elsewhere not checked`,
);
process.exit(strict.length > 0 ? 1 : 0);

'use strict';
// Loads the built package (dist/ + native addon) once, with a clear message when either is missing:
// the benchmarks measure what `npm run build` and the addon build produced, never the TypeScript sources.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

let cached;

/** { rb: the recbridge exports, onnx: dist/io/onnx/model exports }. Exits with a message if not built. */
function loadRecbridge() {
  if (cached) return cached;
  for (const file of ['index.js', path.join('io', 'onnx', 'model.js')]) {
    if (!fs.existsSync(path.join(DIST, file))) {
      fail(`${path.relative(ROOT, path.join(DIST, file))} is missing. Build the TypeScript first: npm run build`);
    }
  }
  let rb;
  try {
    rb = require(DIST);
  } catch (err) {
    if (err && err.code === 'ERR_ADDON_LOAD') {
      fail(`the native addon is not built or does not load (${err.message}).\n  Build it with: npx node-gyp rebuild`);
    }
    throw err;
  }
  cached = { rb, onnx: require(path.join(DIST, 'io', 'onnx', 'model.js')) };
  return cached;
}

module.exports = { loadRecbridge, ROOT };

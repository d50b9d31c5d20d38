'use strict';
// The peers a user would otherwise pick for scoring inside Node: a plain JavaScript loop and
// onnxruntime-node running the same MatMul + TopK computation.
const os = require('node:os');
const { loadRecbridge } = require('./recbridge');

/**
 * Exact top-k by a plain JavaScript loop: all scores first, then one pass keeping the best k in a
 * sorted array. Scanning in index order and inserting only on a strictly better score gives the same
 * tie-break as recbridge (lower index first). `scratch` is a reusable Float32Array of length rows.
 */
function jsTopK(data, rows, dim, query, k, scratch) {
  for (let i = 0, off = 0; i < rows; i++, off += dim) {
    let acc = 0;
    for (let c = 0; c < dim; c++) acc += query[c] * data[off + c];
    scratch[i] = acc;
  }
  const kk = Math.min(k, rows);
  const indices = new Int32Array(kk);
  const scores = new Float32Array(kk);
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const s = scratch[i];
    if (count === kk && !(s > scores[kk - 1])) continue;
    let pos = count < kk ? count++ : kk - 1;
    while (pos > 0 && scores[pos - 1] < s) {
      scores[pos] = scores[pos - 1];
      indices[pos] = indices[pos - 1];
      pos--;
    }
    scores[pos] = s;
    indices[pos] = i;
  }
  return { indices, scores };
}

/** onnxruntime-node, or { error } saying why it cannot be used (it is an optional peer here). */
function loadOrt() {
  try {
    return { ort: require('onnxruntime-node') };
  } catch (err) {
    return { error: `onnxruntime-node not available: ${err.message.split('\n')[0]}` };
  }
}

/** Session options that make the comparison fair: the same thread budget, full graph optimisation. */
function ortSessionOptions(threads) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
}

/** The MatMul + TopK scoring model for a table (built with recbridge's ONNX builder). */
function scoringModelBytes(table, k) {
  const { onnx } = loadRecbridge();
  return onnx.buildScoringModel({ items: table.data, rows: table.rows, dim: table.dim, k });
}

/** Rough check that ORT can hold its copy of the items plus `extraBytes` of activations. */
function ortMemoryCheck(table, extraBytes) {
  const need = table.data.byteLength * 2 + extraBytes;
  const free = os.freemem();
  return need < free * 0.8 ? null : `needs ~${(need / 2 ** 30).toFixed(1)} GiB, ${(free / 2 ** 30).toFixed(1)} GiB free`;
}

/** Count of leading positions where two index lists agree (ORT returns BigInt64Array). */
function agreeingPrefix(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && Number(a[i]) === Number(b[i])) i++;
  return i;
}

module.exports = { jsTopK, loadOrt, ortSessionOptions, scoringModelBytes, ortMemoryCheck, agreeingPrefix };

'use strict';
// Model file I/O: saveModel throughput (GB/s, including fsync and the atomic rename) and loadModel
// time for a matrix-factorization model with `rows` users and `rows` items of width `dim`, with
// Adagrad optimizer state (one accumulator per weight, so the state doubles the file) and without
// (forServing skips it). The file was just written, so loads read from the page cache: they measure
// parsing, checksumming and copying into shared memory, not the disk. No baseline: there is no
// other Node reader of this format to compare with; the CRC-32 rate (the verification floor) is
// reported next to it.
//
// args: { rows, dim, seed, repeats }
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const { loadRecbridge } = require('../lib/recbridge');
const { median } = require('../lib/stats');
const { emit, log, collectGarbage, runCase } = require('../lib/child');

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

runCase(async (args) => {
  const { rb } = loadRecbridge();
  const { rows, dim, repeats } = args;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-bench-io-'));
  const file = path.join(dir, 'model.safetensors');
  try {
    const model = new rb.MatrixFactorization({ users: rows, items: rows, dim, seed: args.seed });
    for (const p of model.parameters()) p.optimizerState('adagrad').fill(0.5);
    const params = { users: rows, items: rows, dim, optimizer: 'adagrad', repeats, filesystem: dir, cache: 'warm (just written)' };

    for (const withState of [true, false]) {
      const saves = [];
      let bytes = 0;
      for (let r = 0; r < repeats; r++) {
        const { value, seconds } = await timed(() => rb.saveModel(file, model, { optimizerState: withState }));
        bytes = value.bytes;
        saves.push(seconds);
      }
      const s = median(saves);
      log(
        `saveModel optimizerState=${withState}: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${(s * 1e3).toFixed(0)} ms = ${(bytes / s / 1e9).toFixed(2)} GB/s`,
      );
      emit({
        name: `model-io/save${withState ? '' : '-no-state'}`,
        value: bytes / s / 1e9,
        unit: 'GB/s',
        params: { ...params, optimizerState: withState, fileBytes: bytes, medianMs: s * 1e3 },
      });
    }

    await rb.saveModel(file, model, { optimizerState: true });
    const fileBytes = fs.statSync(file).size;
    for (const forServing of [false, true]) {
      const loads = [];
      let read = 0;
      for (let r = 0; r < repeats; r++) {
        collectGarbage();
        const { value, seconds } = await timed(() => rb.loadModel(file, { forServing }));
        read = value.bytesRead;
        loads.push(seconds);
      }
      const s = median(loads);
      log(
        `loadModel forServing=${forServing}: ${(read / 2 ** 20).toFixed(0)} MiB in ${(s * 1e3).toFixed(0)} ms (${(read / s / 1e9).toFixed(2)} GB/s)`,
      );
      emit({
        name: `model-io/load${forServing ? '-for-serving' : ''}`,
        value: s * 1e3,
        unit: 'ms',
        params: { ...params, forServing, fileBytes, bytesRead: read, gbPerSecond: read / s / 1e9, samplesMs: loads.map((x) => x * 1e3) },
      });
    }

    // The checksum floor: CRC-32 over the weights alone, as the loader computes it.
    const data = model.userEmbedding.table.data;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const crc = median(
      Array.from({ length: repeats }, () => {
        const t0 = process.hrtime.bigint();
        zlib.crc32(bytes);
        return Number(process.hrtime.bigint() - t0) / 1e9;
      }),
    );
    emit({ name: 'model-io/crc32', value: bytes.length / crc / 1e9, unit: 'GB/s', params: { bytes: bytes.length, repeats } });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

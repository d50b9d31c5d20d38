// The addon is context-aware: three workers load it at once, share one table through a
// SharedArrayBuffer (no copies), and compute exactly what the main thread computes. topKBatch runs
// off the event loop and can be aborted.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { EmbeddingTable, topK, topKBatch } from '../../lib';
import { randomFloats } from '../support/data';

const distPath = path.resolve(__dirname, '../../dist/index.js');

function ask<T>(w: Worker, msg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage(msg);
  });
}

describe('worker threads', () => {
  const dim = 32;
  const rows = 20_000;
  let table: EmbeddingTable;
  let workers: Worker[];

  beforeAll(() => {
    table = EmbeddingTable.create(rows, dim, { shared: true });
    table.data.set(randomFloats(rows * dim, 11));
    workers = Array.from(
      { length: 3 },
      () => new Worker(path.join(__dirname, 'worker-script.js'), { workerData: { distPath, handle: table.toShared() } }),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  test('three workers at once return exactly the main thread results, on the same memory', async () => {
    const queries = Array.from({ length: 3 }, (_, i) => randomFloats(dim, 100 + i));
    const expected = queries.map((q) => topK(table, q, 10, { exclude: [1, 2, 3] }));
    const answers = await Promise.all(
      workers.map((w, i) =>
        ask<{ indices: number[]; scores: number[]; shared: boolean; isShared: boolean }>(w, {
          type: 'topK',
          query: queries[i],
          k: 10,
          exclude: [1, 2, 3],
          threads: 2,
        }),
      ),
    );
    answers.forEach((a, i) => {
      expect(a.indices).toEqual(Array.from(expected[i].indices));
      expect(a.scores).toEqual(Array.from(expected[i].scores));
      expect(a.isShared).toBe(true);
    });
  });

  test('batches in every worker concurrently match the main thread batch', async () => {
    const queries = randomFloats(64 * dim, 5);
    const expected = await topKBatch(table, queries, 5, { threads: 1 });
    const answers = await Promise.all(
      workers.map((w) => ask<{ indices: number[]; scores: number[] }>(w, { type: 'batch', queries, k: 5, threads: 2 })),
    );
    for (const a of answers) {
      expect(a.indices).toEqual(Array.from(expected.indices));
      expect(a.scores).toEqual(Array.from(expected.scores));
    }
  });

  test('a write in one worker is seen by the main thread (one shared copy, not N)', async () => {
    await ask(workers[0], { type: 'write', at: 5 * dim, value: 1000 });
    expect(table.data[5 * dim]).toBe(1000);
    const q = new Float32Array(dim);
    q[0] = 1;
    expect(topK(table, q, 1).indices[0]).toBe(5);
  });
});

describe('topKBatch and the event loop', () => {
  const dim = 64;
  const rows = 200_000;
  const table = new EmbeddingTable(randomFloats(rows * dim, 3), dim);
  const queries = randomFloats(2048 * dim, 4);

  test('timers keep firing while a long batch runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = process.hrtime.bigint();
    const result = await topKBatch(table, queries, 10, { threads: 1 });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    clearInterval(timer);
    expect(result.queries).toBe(2048);
    // Several hundred ms of native work: a blocked loop would see at most one tick.
    expect(ms).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThan(Math.min(5, ms / 20));
  });

  test('an AbortSignal stops the native work early and rejects with AbortError', async () => {
    const full = process.hrtime.bigint();
    await topKBatch(table, queries.subarray(0, 512 * dim), 10, { threads: 1 });
    const fullMs = Number(process.hrtime.bigint() - full) / 1e6;

    const ac = new AbortController();
    const started = process.hrtime.bigint();
    const p = topKBatch(table, queries, 10, { threads: 1, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('enough')), 5);
    let err: { name?: string; code?: string; cause?: { message?: string } } = {};
    try {
      await p;
    } catch (e) {
      err = e as typeof err;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause?.message).toBe('enough');
    // The full 2048-query batch takes ~4x the 512-query one; an abort after 5 ms must end far sooner.
    expect(ms).toBeLessThan(fullMs * 2 + 50);
  });
});

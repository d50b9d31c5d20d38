// What crosses into native code is fixed at the boundary: growable buffers are refused, and a batch
// query the caller overwrites while the native work runs cannot change the result.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { scoreItems, topK } from '../../lib/core/scoring';
import { EmbeddingTable } from '../../lib/core/table';

test('a table on a growable SharedArrayBuffer or a resizable ArrayBuffer is refused with the reason', () => {
  // The lib typings of this TypeScript target do not know the second argument yet.
  const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
  const growable = new Growable(64 * 4, { maxByteLength: 1024 * 4 });
  const resizable = new Resizable(64 * 4, { maxByteLength: 1024 * 4 });
  for (const buffer of [growable, resizable])
    expect(() => new EmbeddingTable(new Float32Array(buffer), 8)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', argument: 'data', message: expect.stringMatching(/growable SharedArrayBuffer/) }),
    );
});

test('a shared query that another thread keeps overwriting with NaN never yields a non-finite score', async () => {
  const table = EmbeddingTable.create(20_000, 64);
  for (let i = 0; i < table.data.length; i++) table.data[i] = Math.cos(i * 0.37);
  const buffer = new SharedArrayBuffer(64 * 4);
  const stop = new SharedArrayBuffer(4);
  const query = new Float32Array(buffer).fill(0.25);
  const worker = new Worker(path.join(__dirname, 'fixtures', 'shared-query-writer.js'), { workerData: { buffer, stop } });
  await new Promise((resolve) => worker.once('online', resolve));
  let refused = 0;
  let answered = 0;
  try {
    for (let i = 0; i < 2000; i++) {
      for (const call of [() => topK(table, query, 5).scores, () => scoreItems(table, query, { items: [1, 2, 3] })]) {
        let scores: Float32Array;
        try {
          scores = call();
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_OUT_OF_RANGE');
          refused++;
          continue;
        }
        answered++;
        for (const s of scores) if (!Number.isFinite(s)) throw new Error(`non-finite score ${s} after ${answered} answers`);
      }
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await worker.terminate();
  }
  // The race really ran: some calls saw NaN at the check, others a finite query.
  expect(refused).toBeGreaterThan(0);
  expect(answered).toBeGreaterThan(0);
});

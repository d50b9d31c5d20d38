// Known answers for EmbeddingTable construction, row views, gather, pooled gather and ItemSet.
import { EmbeddingTable, ItemSet, capabilities, configure, gather, pool, scoreItems, topK } from '../../lib';

const t3 = () =>
  EmbeddingTable.fromRows([
    [1, 2, 3],
    [4, 5, 6],
    [-1, 0, 1],
    [0, 0, 2],
  ]);

test('fromRows, rows, dim, row views share memory with data', () => {
  const t = t3();
  expect([t.rows, t.dim]).toEqual([4, 3]);
  const r = t.row(1);
  expect(Array.from(r)).toEqual([4, 5, 6]);
  r[0] = 40;
  expect(t.data[3]).toBe(40);
});

test('create: zeros by default, seeded normal reproducible, shared unless asked otherwise', () => {
  expect(EmbeddingTable.create(3, 2).data.every((x) => x === 0)).toBe(true);
  const a = EmbeddingTable.create(100, 16, { init: 'normal', seed: 7 });
  const b = EmbeddingTable.create(100, 16, { init: 'normal', seed: 7 });
  const c = EmbeddingTable.create(100, 16, { init: 'normal', seed: 8 });
  expect(a.data).toEqual(b.data);
  expect(a.data).not.toEqual(c.data);
  // scale defaults to 1/sqrt(dim): the sample std should be close to 0.25
  const mean = a.data.reduce((s, x) => s + x, 0) / a.data.length;
  const std = Math.sqrt(a.data.reduce((s, x) => s + (x - mean) ** 2, 0) / a.data.length);
  expect(std).toBeGreaterThan(0.2);
  expect(std).toBeLessThan(0.3);
  const s = EmbeddingTable.create(10, 4);
  expect(s.shared).toBe(true);
  expect(EmbeddingTable.create(10, 4, { shared: false }).shared).toBe(false);
  expect(EmbeddingTable.fromShared(s.toShared()).data.buffer).toBe(s.data.buffer);
});

test('scoreItems: dot products, subsets, caller-provided out', () => {
  const t = t3();
  expect(Array.from(scoreItems(t, [1, 1, 1]))).toEqual([6, 15, 0, 2]);
  expect(Array.from(scoreItems(t, [1, 0, 0], { items: [3, 1, 1] }))).toEqual([0, 4, 4]);
  const out = new Float32Array(6).fill(9);
  const res = scoreItems(t, [0, 0, 1], { out });
  expect(Array.from(out)).toEqual([3, 6, 1, 2, 9, 9]);
  expect(res.length).toBe(4);
  expect(res.buffer).toBe(out.buffer);
});

test('topK known answer with exclusions, block list and allow-list', () => {
  const t = t3();
  expect(topK(t, [1, 1, 1], 2)).toEqual({ indices: Int32Array.of(1, 0), scores: Float32Array.of(15, 6) });
  expect(Array.from(topK(t, [1, 1, 1], 4, { exclude: [1] }).indices)).toEqual([0, 3, 2]);
  expect(Array.from(topK(t, [1, 1, 1], 4, { block: new ItemSet([0, 1]) }).indices)).toEqual([3, 2]);
  expect(Array.from(topK(t, [1, 1, 1], 4, { allow: [2, 3], exclude: [3] }).indices)).toEqual([2]);
  expect(Array.from(topK(t, [1, 1, 1], 1, { allow: Int32Array.of(2, 0, 2) }).indices)).toEqual([0]);
});

test('gather copies rows in the order asked, duplicates included', () => {
  const t = t3();
  expect(Array.from(gather(t, [2, 0, 2]))).toEqual([-1, 0, 1, 1, 2, 3, -1, 0, 1]);
  expect(gather(t, []).length).toBe(0);
});

test('pool: sum, mean and weighted sum, from arrays and CSR; empty bags are zero', () => {
  const t = t3();
  const bags = [[0, 1], [], [2, 2, 3]];
  expect(Array.from(pool(t, bags))).toEqual([5, 7, 9, 0, 0, 0, -2, 0, 4]);
  expect(Array.from(pool(t, bags, { mode: 'mean' }))).toEqual([2.5, 3.5, 4.5, 0, 0, 0, -2 / 3, 0, 4 / 3].map(Math.fround));
  const weights = [[2, -1], [], [0.5, 0.5, 1]];
  expect(Array.from(pool(t, bags, { mode: 'weighted-sum', weights }))).toEqual([-2, -1, 0, 0, 0, 0, -1, 0, 3]);
  const csr = { offsets: Int32Array.of(0, 2, 2, 5), indices: Int32Array.of(0, 1, 2, 2, 3), weights: Float32Array.of(2, -1, 0.5, 0.5, 1) };
  expect(Array.from(pool(t, csr, { mode: 'weighted-sum' }))).toEqual([-2, -1, 0, 0, 0, 0, -1, 0, 3]);
  const out = new Float32Array(9);
  expect(pool(t, csr, { out })).toBe(out);
});

test('ItemSet sorts, deduplicates, freezes and answers membership', () => {
  const s = new ItemSet([5, 1, 5, 3, 1]);
  expect(Array.from(s.indices)).toEqual([1, 3, 5]);
  expect([s.size, s.bound]).toEqual([3, 6]);
  expect([s.has(3), s.has(4), s.has(0), s.has(6)]).toEqual([true, false, false, false]);
  expect(Object.isFrozen(s)).toBe(true);
  expect(new ItemSet([]).bound).toBe(0);
});

test('capabilities and configure', () => {
  const c = capabilities();
  expect(c.supportedIsas).toContain('scalar');
  expect(c.supportedIsas).toContain(c.isa);
  expect(c.hardwareThreads).toBeGreaterThanOrEqual(1);
  const before = c.threads;
  configure({ threads: 1 });
  expect(capabilities().threads).toBe(1);
  configure({ threads: before });
  expect(capabilities().threads).toBe(before);
});

test('create() and fromRows() place the first row on a 64-byte boundary (shared or not)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { native } = require('../../lib/core/native') as typeof import('../../lib/core/native');
  for (const rows of [1, 3, 1000, 100_000]) {
    expect(native.byteAlignment(EmbeddingTable.create(rows, 7).data)).toBe(0);
    expect(native.byteAlignment(EmbeddingTable.create(rows, 64, { shared: true }).data)).toBe(0);
  }
  expect(native.byteAlignment(EmbeddingTable.fromRows([[1, 2, 3]]).data)).toBe(0);
  const plain = new Float32Array(4096);
  expect(native.byteAlignment(plain.subarray(1))).toBe((native.byteAlignment(plain) + 4) % 64);
});

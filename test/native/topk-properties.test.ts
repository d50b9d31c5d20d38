// Property tests for exact top-K: the result is the prefix of a full stable sort, exclusions and
// allow-lists hold, the count is min(k, eligible), ties break by lower index, and neither the thread
// count nor batching changes anything. Integer data makes scores exact, so equality is exact.
import fc from 'fast-check';

import { EmbeddingTable, ItemSet, scoreItems, topK, topKBatch } from '../../lib';
import { randomInts, refTopK } from '../support/data';

interface Case {
  rows: number;
  dim: number;
  seed: number;
  k: number;
  exclude: number[];
  block: number[];
  allow: number[] | null;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    rows: fc.integer({ min: 1, max: 300 }),
    dim: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    kFrac: fc.double({ min: 0, max: 1.3, noNaN: true }),
    exclude: fc.array(fc.nat(), { maxLength: 40 }),
    block: fc.array(fc.nat(), { maxLength: 40 }),
    allow: fc.option(fc.array(fc.nat(), { maxLength: 120 }), { nil: null }),
  })
  .map(({ rows, dim, seed, kFrac, exclude, block, allow }) => ({
    rows,
    dim,
    seed,
    k: Math.max(1, Math.round(kFrac * rows)),
    exclude: exclude.map((x) => x % rows),
    block: block.map((x) => x % rows),
    allow: allow === null ? null : allow.map((x) => x % rows),
  }));

function setup(c: Case) {
  const table = new EmbeddingTable(randomInts(c.rows * c.dim, c.seed, 2), c.dim);
  const query = randomInts(c.dim, c.seed + 1, 2);
  const scores = scoreItems(table, query, { threads: 1 });
  const excluded = new Set([...c.exclude, ...c.block]);
  const expected = refTopK(scores, c.k, (i) => !excluded.has(i), c.allow ?? undefined);
  return { table, query, expected };
}

const opts = (c: Case, threads: number) => ({ exclude: c.exclude, block: c.block, allow: c.allow ?? undefined, threads });

test('topK equals the prefix of a stable sort of all scores, with exclusions and allow-lists', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { table, query, expected } = setup(c);
      const got = topK(table, query, c.k, opts(c, 1));
      expect(Array.from(got.indices)).toEqual(expected.indices);
      expect(Array.from(got.scores)).toEqual(expected.scores);
    }),
    { numRuns: 300, seed: 42 },
  );
});

test('returns min(k, eligible) items and never an excluded, blocked or non-allowed one', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { table, query } = setup(c);
      const got = topK(table, query, c.k, opts(c, 1));
      const allowed = c.allow ? new Set(c.allow) : null;
      const banned = new Set([...c.exclude, ...c.block]);
      let eligible = 0;
      for (let i = 0; i < c.rows; i++) if ((!allowed || allowed.has(i)) && !banned.has(i)) eligible++;
      expect(got.indices.length).toBe(Math.min(c.k, eligible));
      for (const i of got.indices) {
        expect(banned.has(i)).toBe(false);
        if (allowed) expect(allowed.has(i)).toBe(true);
      }
      expect(new Set(got.indices).size).toBe(got.indices.length);
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('ties break by lower index (all-equal scores return the first k eligible rows)', () => {
  const table = new EmbeddingTable(new Float32Array(1000 * 8).fill(1), 8);
  const q = new Float32Array(8).fill(0.5);
  expect(Array.from(topK(table, q, 5).indices)).toEqual([0, 1, 2, 3, 4]);
  expect(Array.from(topK(table, q, 5, { exclude: [0, 2], block: new ItemSet([3]) }).indices)).toEqual([1, 4, 5, 6, 7]);
  expect(Array.from(topK(table, q, 3, { allow: [900, 17, 512, 17] }).indices)).toEqual([17, 512, 900]);
});

test('multi-threaded single queries and batches give identical results to one thread', async () => {
  // Big enough that a single query is split across threads (rows*dim >= 2^18).
  const rows = 40_000;
  const dim = 16;
  const table = new EmbeddingTable(randomInts(rows * dim, 99, 2), dim);
  const queries = randomInts(50 * dim, 100, 2);
  const exclude = Array.from({ length: 50 }, (_, i) => [i, i * 7, (i * 7919) % rows]);
  const block = new ItemSet([1, 2, 3, 39_999]);
  const one = await topKBatch(table, queries, 25, { threads: 1, exclude, block });
  const two = await topKBatch(table, queries, 25, { threads: 2, exclude, block });
  expect(two.indices).toEqual(one.indices);
  expect(two.scores).toEqual(one.scores);
  for (let i = 0; i < 50; i++) {
    const q = queries.subarray(i * dim, (i + 1) * dim);
    const s1 = topK(table, q, 25, { threads: 1, exclude: exclude[i], block });
    const s2 = topK(table, q, 25, { threads: 2, exclude: exclude[i], block });
    expect(s2).toEqual(s1);
    expect(one.query(i)).toEqual(s1); // integer data: batch and single scores are exact
  }
});

test('topKBatch agrees with topK for random cases, including per-query exclusions in CSR form', async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, fc.integer({ min: 1, max: 70 }), async (c, nq) => {
      const table = new EmbeddingTable(randomInts(c.rows * c.dim, c.seed, 2), c.dim);
      const queries = randomInts(nq * c.dim, c.seed + 3, 2);
      const perQuery = Array.from({ length: nq }, (_, i) => c.exclude.filter((_, j) => (i + j) % 3 !== 0));
      const offsets = new Int32Array(nq + 1);
      perQuery.forEach((l, i) => (offsets[i + 1] = offsets[i] + l.length));
      const indices = Int32Array.from(perQuery.flat());
      const batch = await topKBatch(table, queries, c.k, {
        exclude: { offsets, indices },
        block: c.block,
        allow: c.allow ?? undefined,
        threads: 2,
      });
      for (let i = 0; i < nq; i++) {
        const single = topK(table, queries.subarray(i * c.dim, (i + 1) * c.dim), c.k, {
          exclude: perQuery[i],
          block: c.block,
          allow: c.allow ?? undefined,
        });
        expect(batch.query(i)).toEqual(single);
      }
      // Unused slots are marked, so a caller ignoring counts cannot mistake them for row 0.
      for (let i = 0; i < nq; i++) {
        for (let j = batch.counts[i]; j < batch.k; j++) {
          expect(batch.indices[i * batch.k + j]).toBe(-1);
          expect(Number.isNaN(batch.scores[i * batch.k + j])).toBe(true);
        }
      }
    }),
    { numRuns: 120, seed: 3 },
  );
});

test('k larger than the table, empty allow-list, everything excluded, empty table', async () => {
  const table = new EmbeddingTable(randomInts(10 * 4, 1), 4);
  const q = randomInts(4, 2);
  expect(topK(table, q, 1000).indices.length).toBe(10);
  expect(topK(table, q, 5, { allow: [] }).indices.length).toBe(0);
  expect(topK(table, q, 5, { exclude: [0, 1, 2, 3, 4], block: [5, 6, 7, 8, 9] }).indices.length).toBe(0);
  const empty = new EmbeddingTable(new Float32Array(0), 4);
  expect(topK(empty, q, 3).indices.length).toBe(0);
  expect(scoreItems(empty, q).length).toBe(0);
  const b = await topKBatch(empty, new Float32Array(8), 3);
  expect(Array.from(b.counts)).toEqual([0, 0]);
  const none = await topKBatch(table, new Float32Array(0), 3);
  expect(none.queries).toBe(0);
});

test('NaN rows are never returned; the rest rank normally', () => {
  const data = randomInts(20 * 3, 5);
  data[3 * 3] = NaN; // row 3
  const table = new EmbeddingTable(data, 3);
  const got = topK(table, new Float32Array([1, 1, 1]), 20);
  expect(got.indices.length).toBe(19);
  expect(Array.from(got.indices)).not.toContain(3);
});

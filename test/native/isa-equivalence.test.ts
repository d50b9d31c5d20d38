// Every SIMD path against the scalar reference and a float64 reference: dims 1..65, 127-129 and
// 1000 (every vector tail), tables at odd element offsets (unaligned rows), fixed seeds.
import { EmbeddingTable, capabilities, gather, pool, scoreItems, setIsa, topK, topKBatch, type IsaName } from '../../lib';
import { dotTolerance, randomFloats, randomInts, refDot } from '../support/data';

const DIMS = [...Array.from({ length: 65 }, (_, i) => i + 1), 127, 128, 129, 1000];
const SIMD: IsaName[] = capabilities().supportedIsas.filter((isa) => isa !== 'scalar');

afterEach(() => setIsa(null));

/** A table whose data starts at an odd float offset inside its buffer (rows are not 16-byte aligned). */
function oddOffsetTable(rows: number, dim: number, values: Float32Array): EmbeddingTable {
  const backing = new Float32Array(rows * dim + 3);
  backing.set(values, 1);
  return new EmbeddingTable(backing.subarray(1, 1 + rows * dim), dim);
}

function scoresUnder(isa: IsaName, table: EmbeddingTable, q: Float32Array, items?: Int32Array): Float32Array {
  setIsa(isa);
  return scoreItems(table, q, { items, threads: 1 });
}

test('the machine exposes at least one SIMD path to test', () => {
  // On x86-64 CI machines AVX2 is universal; if this fails the SIMD tests below would be vacuous.
  expect(SIMD.length).toBeGreaterThan(0);
});

describe.each(SIMD)('%s matches scalar and float64', (isa) => {
  test.each(DIMS)('scoreItems, dim %i, all rows and an indexed subset', (dim) => {
    const rows = 37; // 2 full 16-row blocks + a tail of 5 (and 4 blocks of 8 + 5 for AVX2)
    const values = randomFloats(rows * dim, dim * 7919);
    const table = oddOffsetTable(rows, dim, values);
    const qBacking = randomFloats(dim + 1, dim * 31 + 1);
    const q = qBacking.subarray(1); // the query is unaligned too
    const subset = Int32Array.from({ length: 29 }, (_, j) => (j * 11 + 3) % rows);

    const scalarAll = scoresUnder('scalar', table, q);
    const simdAll = scoresUnder(isa, table, q);
    const scalarSub = scoresUnder('scalar', table, q, subset);
    const simdSub = scoresUnder(isa, table, q, subset);
    for (let i = 0; i < rows; i++) {
      const { dot, mag } = refDot(q, values, i, dim);
      const tol = dotTolerance(dim, mag);
      expect(Math.abs(simdAll[i] - dot)).toBeLessThanOrEqual(tol);
      expect(Math.abs(scalarAll[i] - dot)).toBeLessThanOrEqual(tol);
      expect(Math.abs(simdAll[i] - scalarAll[i])).toBeLessThanOrEqual(2 * tol);
    }
    for (let j = 0; j < subset.length; j++) {
      expect(simdSub[j]).toBe(simdAll[subset[j]]);
      expect(scalarSub[j]).toBe(scalarAll[subset[j]]);
    }
  });

  test.each(DIMS)('integer data is bit-identical to scalar, dim %i (single, batch, pooled)', async (dim) => {
    const rows = 45;
    const values = randomInts(rows * dim, dim + 101);
    const table = oddOffsetTable(rows, dim, values);
    const queries = randomInts(3 * dim, dim + 202);
    const bags = [[0, 1, 2], [], [44, 44, 7], [5]];
    const weights = [[0.5, -2, 1], [], [1, 1, 0.25], [3]];
    const under = async (which: IsaName) => {
      setIsa(which);
      const single = Array.from({ length: 3 }, (_, i) => topK(table, queries.subarray(i * dim, (i + 1) * dim), 7, { threads: 1 }));
      const batch = await topKBatch(table, queries, 7, { threads: 1 });
      return {
        scores: scoreItems(table, queries.subarray(0, dim), { threads: 1 }),
        single,
        batch,
        sum: pool(table, bags),
        mean: pool(table, bags, { mode: 'mean' }),
        weighted: pool(table, bags, { mode: 'weighted-sum', weights }),
        rows: gather(table, [44, 0, 3]),
      };
    };
    const a = await under('scalar');
    const b = await under(isa);
    expect(b.scores).toEqual(a.scores);
    expect(b.single).toEqual(a.single);
    expect(b.batch.indices).toEqual(a.batch.indices);
    expect(b.batch.scores).toEqual(a.batch.scores);
    for (let i = 0; i < 3; i++) expect(b.batch.query(i)).toEqual(a.single[i]);
    expect(b.sum).toEqual(a.sum);
    expect(b.weighted).toEqual(a.weighted);
    expect(b.rows).toEqual(a.rows);
    // Mean divides by the bag size: the same float op on every path, but allow for scale vs divide.
    for (let i = 0; i < a.mean.length; i++) expect(b.mean[i]).toBeCloseTo(a.mean[i], 5);
  });

  test('batch scores match single-query scores within the rounding bound (dim 1000, float data)', async () => {
    const dim = 1000;
    const rows = 70;
    const values = randomFloats(rows * dim, 5);
    const table = new EmbeddingTable(values, dim);
    const queries = randomFloats(40 * dim, 6); // 40 queries: one full 32-query panel plus a tail
    setIsa(isa);
    const batch = await topKBatch(table, queries, rows, { threads: 1 });
    for (let qi = 0; qi < 40; qi++) {
      const { indices, scores } = batch.query(qi);
      expect(indices.length).toBe(rows);
      for (let j = 0; j < rows; j++) {
        const { dot, mag } = refDot(queries.subarray(qi * dim), values, indices[j], dim);
        expect(Math.abs(scores[j] - dot)).toBeLessThanOrEqual(dotTolerance(dim, mag));
      }
    }
  });
});

test('setIsa rejects unknown names and reports the active path', () => {
  expect(() => setIsa('neon' as IsaName)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  expect(() => setIsa(42 as unknown as IsaName)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  setIsa('scalar');
  expect(capabilities().isa).toBe('scalar');
  setIsa(null);
  expect(capabilities().isa).toBe(capabilities().detectedIsa);
});

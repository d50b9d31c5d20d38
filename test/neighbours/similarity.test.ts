import fc from 'fast-check';

import { CrossDomainItemKnn, ItemKnn } from '../../lib/neighbours';
import { Interactions } from '../../lib/data/interactions';
import { denseMatrix, randomInteractions, referenceSimilarity, rowsOf, type Sim } from './reference';

const SIMS: Sim[] = ['cosine', 'tfidf', 'bm25'];

function expectClose(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
}

describe('ItemKnn similarities', () => {
  for (const sim of SIMS) {
    for (const shrink of [0, 3]) {
      for (const useValues of [false, true]) {
        test(`${sim}, shrink ${shrink}, ${useValues ? 'values' : 'binary'}: every pair matches the brute-force reference`, async () => {
          const data = randomInteractions(30, 25, 0.2, 11 + shrink, useValues);
          const model = await ItemKnn.fit(data, { similarity: sim, neighbours: 25, shrink, useValues, bm25: { k1: 1.5, b: 0.6 } });
          const ref = referenceSimilarity(denseMatrix(data, useValues), 25, sim, { shrink, k1: 1.5, b: 0.6 });
          const rows = rowsOf(model.toArrays());
          for (let i = 0; i < 25; i++) {
            for (let j = 0; j < 25; j++) {
              if (Number.isNaN(ref[i][j])) expect(rows[i].has(j)).toBe(false);
              else expectClose(rows[i].get(j)!, ref[i][j]);
            }
          }
        });
      }
    }
    test(`${sim} is symmetric, bit for bit`, async () => {
      const data = randomInteractions(60, 40, 0.15, 5, true);
      const rows = rowsOf((await ItemKnn.fit(data, { similarity: sim, neighbours: 40, shrink: 2, useValues: true })).toArrays());
      let pairs = 0;
      rows.forEach((row, i) =>
        row.forEach((s, j) => {
          expect(rows[j].get(i)).toBe(s);
          pairs++;
        }),
      );
      expect(pairs).toBeGreaterThan(100);
    });
  }

  test('top-N per item is exact: the N best of the full list, ties to the lower index (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom<Sim>('cosine', 'tfidf', 'bm25'),
        fc.constantFrom(0, 1.5),
        async (seed, n, similarity, shrink) => {
          // Binary data with few users: many exactly tied scores.
          const data = randomInteractions(12, 20, 0.3, seed);
          const full = (await ItemKnn.fit(data, { similarity, neighbours: 1000, shrink })).toArrays();
          const top = (await ItemKnn.fit(data, { similarity, neighbours: n, shrink })).toArrays();
          for (let i = 0; i < 20; i++) {
            const all = Array.from({ length: full.offsets[i + 1] - full.offsets[i] }, (_, t) => ({
              j: full.indices[full.offsets[i] + t],
              s: full.scores[full.offsets[i] + t],
            })).sort((a, b) => b.s - a.s || a.j - b.j);
            const want = all.slice(0, n);
            const got = Array.from(top.indices.subarray(top.offsets[i], top.offsets[i + 1]));
            expect(got).toEqual(want.map((e) => e.j));
            expect(Array.from(top.scores.subarray(top.offsets[i], top.offsets[i + 1]))).toEqual(want.map((e) => e.s));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a build does not depend on the thread count', async () => {
    const data = randomInteractions(400, 300, 0.05, 99, true);
    for (const similarity of SIMS) {
      const one = (await ItemKnn.fit(data, { similarity, neighbours: 20, shrink: 1, threads: 1, useValues: true })).toArrays();
      const two = (await ItemKnn.fit(data, { similarity, neighbours: 20, shrink: 1, threads: 2, useValues: true })).toArrays();
      const many = (await ItemKnn.fit(data, { similarity, neighbours: 20, shrink: 1, threads: 7, useValues: true })).toArrays();
      expect(two).toEqual(one);
      expect(many).toEqual(one);
    }
  });

  test('similarItems returns the stored neighbours best first, with exclusions', async () => {
    const data = randomInteractions(50, 30, 0.2, 3);
    const model = await ItemKnn.fit(data, { neighbours: 10 });
    const a = model.toArrays();
    const row = Array.from(a.indices.subarray(a.offsets[4], a.offsets[5]));
    expect(Array.from(model.similarItems(4, 5).indices)).toEqual(row.slice(0, 5));
    expect(Array.from(model.similarItems(4, 100).indices)).toEqual(row);
    const ex = model.similarItems(4, 5, { exclude: [row[0], row[2]] });
    expect(Array.from(ex.indices)).toEqual(row.filter((_, t) => t !== 0 && t !== 2).slice(0, 5));
    expect(row).not.toContain(4);
  });

  test('fromArrays restores a model with identical answers (rows re-sorted)', async () => {
    const data = randomInteractions(50, 30, 0.2, 8);
    const model = await ItemKnn.fit(data, { neighbours: 6, similarity: 'bm25' });
    const a = model.toArrays();
    // Reverse every row: fromArrays must put it back in best-first order.
    const rev = { ...a, indices: a.indices.slice(), scores: a.scores.slice() };
    for (let r = 0; r < a.rows; r++) {
      rev.indices.subarray(a.offsets[r], a.offsets[r + 1]).reverse();
      rev.scores.subarray(a.offsets[r], a.offsets[r + 1]).reverse();
    }
    const back = ItemKnn.fromArrays(rev);
    expect(back.toArrays()).toEqual(a);
    expect(back.recommend([1, 2, 3], 5)).toEqual(model.recommend([1, 2, 3], 5));
  });
});

describe('CrossDomainItemKnn neighbours', () => {
  function domains(seed: number) {
    const source = randomInteractions(40, 15, 0.25, seed, true);
    const target = randomInteractions(35, 12, 0.25, seed + 1, true);
    // Overlap: source users 0..24 are target users 10..34 (shuffled a little).
    const pairs = { source: Int32Array.from({ length: 25 }, (_, p) => p), target: Int32Array.from({ length: 25 }, (_, p) => 34 - p) };
    return { source, target, pairs };
  }

  for (const sim of SIMS) {
    test(`${sim}: source x target similarities match the reference on the joint matrix of overlapping users`, async () => {
      const { source, target, pairs } = domains(21);
      const model = await CrossDomainItemKnn.fit({
        source,
        target,
        userPairs: pairs,
        similarity: sim,
        neighbours: 100,
        shrink: 1,
        useValues: true,
      });
      expect(model.sourceItems).toBe(15);
      expect(model.targetItems).toBe(12);
      expect(model.overlap).toBe(25);
      const s = denseMatrix(source, true);
      const t = denseMatrix(target, true);
      const joint = Array.from(pairs.source, (su, p) => Float64Array.from([...s[su], ...t[pairs.target[p]]]));
      const ref = referenceSimilarity(joint, 27, sim, { shrink: 1 });
      const rows = rowsOf(model.toArrays());
      for (let i = 0; i < 15; i++) {
        for (let j = 0; j < 12; j++) {
          if (Number.isNaN(ref[i][15 + j])) expect(rows[i].has(j)).toBe(false);
          else expectClose(rows[i].get(j)!, ref[i][15 + j]);
        }
      }
    });
  }

  test('users outside the overlap change nothing', async () => {
    const { source, target, pairs } = domains(4);
    const base = (await CrossDomainItemKnn.fit({ source, target, userPairs: pairs, similarity: 'bm25' })).toArrays();
    // A heavy non-overlapping source user (row 39) and target user (row 0), touching everything.
    const moreSource = Interactions.concat([
      source,
      new Interactions({
        users: Array(15).fill(39),
        items: Array.from({ length: 15 }, (_, i) => i),
        values: Array(15).fill(5),
        numUsers: 40,
        numItems: 15,
      }),
    ]);
    const moreTarget = Interactions.concat([
      target,
      new Interactions({
        users: Array(12).fill(0),
        items: Array.from({ length: 12 }, (_, i) => i),
        values: Array(12).fill(5),
        numUsers: 35,
        numItems: 12,
      }),
    ]);
    const after = (
      await CrossDomainItemKnn.fit({ source: moreSource, target: moreTarget, userPairs: pairs, similarity: 'bm25' })
    ).toArrays();
    expect(after).toEqual(base);
    // ... while adding the same rows to an overlapping user does change the neighbours.
    const changed = (
      await CrossDomainItemKnn.fit({
        source: moreSource,
        target: moreTarget,
        userPairs: { source: [...pairs.source, 39], target: [...pairs.target, 0] },
        similarity: 'bm25',
      })
    ).toArrays();
    expect(changed).not.toEqual(base);
  });
});

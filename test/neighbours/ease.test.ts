import { Ease, Interactions, evaluateRanking, evaluateScoreRows, topOfScores } from '../../lib';

/** EASE weights in float64 straight from the definition (Gauss–Jordan inverse). */
function easeReference(rows: number[][], items: number, lambda: number): Float64Array {
  const g = new Float64Array(items * items);
  for (const r of rows) for (const i of r) for (const j of r) g[i * items + j] += 1;
  for (let i = 0; i < items; i++) g[i * items + i] += lambda;
  const n = items;
  const m = Float64Array.from(g);
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) p[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const piv = m[c * n + c];
    for (let j = 0; j < n; j++) {
      m[c * n + j] /= piv;
      p[c * n + j] /= piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      for (let j = 0; j < n; j++) {
        m[r * n + j] -= f * m[c * n + j];
        p[r * n + j] -= f * p[c * n + j];
      }
    }
  }
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
  return b;
}

function interactions(rows: number[][], items: number): Interactions {
  const users: number[] = [];
  const its: number[] = [];
  rows.forEach((r, u) => {
    for (const i of r) {
      users.push(u);
      its.push(i);
    }
  });
  return new Interactions({ users, items: its, numUsers: rows.length, numItems: items });
}

describe('EASE', () => {
  test('two items always seen together: the closed form by hand', async () => {
    // G = [[2,2],[2,2]], λ = 1: P = (G + I)⁻¹ = [[3,-2],[-2,3]] / 5, so B[0][1] = -P01/P11 = 2/3.
    const model = await Ease.fit(
      interactions(
        [
          [0, 1],
          [0, 1],
        ],
        2,
      ),
      { lambda: 1, threads: 1 },
    );
    expect(model.weights[1]).toBeCloseTo(2 / 3, 6);
    expect(model.weights[2]).toBeCloseTo(2 / 3, 6);
    expect(model.weights[0]).toBe(0);
    expect(Array.from(model.scoreHistory([0]))).toEqual([0, model.weights[1]]);
  });

  test('weights match a float64 reference, and repeats count once', async () => {
    const rows = [
      [0, 1, 2],
      [1, 2, 4],
      [0, 3],
      [2, 3, 4, 5],
      [5, 1],
      [0, 2, 4],
      [3, 3, 5],
    ];
    const items = 6;
    const ref = easeReference(
      rows.map((r) => Array.from(new Set(r))),
      items,
      3,
    );
    const model = await Ease.fit(interactions(rows, items), { lambda: 3, threads: 2 });
    expect(Array.from(model.vocabulary)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let x = 0; x < ref.length; x++) expect(model.weights[x]).toBeCloseTo(ref[x], 5);
    // User 3's scores: the sum of their items' rows.
    const s = model.scoreUser(3);
    for (let j = 0; j < items; j++) expect(s[j]).toBeCloseTo(ref[2 * 6 + j] + ref[3 * 6 + j] + ref[4 * 6 + j] + ref[5 * 6 + j], 5);
  });

  test('as a RankingModel it ranks exactly as its own scores do', async () => {
    const rows: number[][] = [];
    let state = 7;
    for (let u = 0; u < 60; u++) {
      const r: number[] = [];
      for (let i = 0; i < 40; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        if (state / 2 ** 32 < 0.1 + (i % 5 === u % 5 ? 0.3 : 0)) r.push(i);
      }
      rows.push(r);
    }
    const all = interactions(rows, 40);
    const half = (keep: number) => all.subset(Int32Array.from({ length: all.size }, (_, x) => x).filter((x) => x % 4 === keep));
    const test = half(0);
    const train = all.subset(Int32Array.from({ length: all.size }, (_, x) => x).filter((x) => x % 4 !== 0));
    const model = await Ease.fit(train, { lambda: 5 });
    const viaTable = await evaluateRanking(model, test, { k: 10, exclude: train });
    const viaScores = await evaluateScoreRows((u) => model.scoreUser(u), 40, test, { k: 10, exclude: train });
    expect(viaTable.ndcg).toBeCloseTo(viaScores.ndcg, 5);
    expect(viaTable.recall).toBeCloseTo(viaScores.recall, 5);
    // The planted pattern is learned: far above popularity order.
    const popularity = { users: 60, items: 40, encodeItems: () => model.encodeItems(), userQuery: () => new Float32Array(40).fill(1) };
    expect(viaTable.ndcg).toBeGreaterThan((await evaluateRanking(popularity, test, { k: 10, exclude: train })).ndcg);
  });

  test('maxItems keeps the most popular items; the rest score 0 and are ignored in histories', async () => {
    const rows = [
      [0, 1, 2],
      [1, 2],
      [1, 3],
      [2, 1],
    ];
    const model = await Ease.fit(interactions(rows, 4), { lambda: 1, maxItems: 2 });
    expect(Array.from(model.vocabulary)).toEqual([1, 2]);
    const s = model.scoreHistory([0, 1, 3]);
    expect(s[0]).toBe(0);
    expect(s[3]).toBe(0);
    expect(s[2]).toBeGreaterThan(0);
    expect(model.encodeItems().dim).toBe(2);
  });

  test('topOfScores: best first, masked skipped, ties by lower index', () => {
    const s = Float32Array.of(1, 3, 3, 0, 5, 3);
    expect(Array.from(topOfScores(s, 3, [4]))).toEqual([1, 2, 5]);
    expect(Array.from(s)).toEqual([1, 3, 3, 0, 5, 3]);
    expect(Array.from(topOfScores(s, 10, null))).toEqual([4, 1, 2, 5, 0, 3]);
  });

  test('bad input is typed and names the argument', async () => {
    const data = interactions([[0, 1]], 2);
    await expect(Ease.fit(null as never)).rejects.toMatchObject({ name: 'TypeError', argument: 'interactions' });
    await expect(Ease.fit(data, { lambda: 0 })).rejects.toMatchObject({ name: 'RangeError', argument: 'options.lambda' });
    await expect(Ease.fit(data, { lambda: Number.NaN })).rejects.toMatchObject({ argument: 'options.lambda' });
    await expect(Ease.fit(data, { maxItems: 0 })).rejects.toMatchObject({ name: 'RangeError', argument: 'options.maxItems' });
    await expect(Ease.fit(data, { threads: 0 })).rejects.toMatchObject({ argument: 'options.threads' });
    await expect(Ease.fit(new Interactions({ users: [], items: [], numUsers: 1, numItems: 2 }))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    const model = await Ease.fit(data, { lambda: 1 });
    expect(() => model.scoreHistory([2])).toThrow(expect.objectContaining({ argument: 'history[0]' }));
    expect(() => model.scoreUser(1)).toThrow(expect.objectContaining({ argument: 'u' }));
  });
});

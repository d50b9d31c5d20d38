import {
  CrossDomainItemKnn,
  ItemKnn,
  evaluateItemKnn,
  blendScores,
  tuneBlendWeight,
  HybridRecommender,
  normalizeScores,
} from '../../lib/neighbours';
import { EmbeddingTable } from '../../lib/core/table';
import { Interactions } from '../../lib/data/interactions';
import { randomInteractions, rowsOf } from './reference';

/** Σ_t w_t · sim(h_t, j) over the stored neighbour lists (the documented 'sum' aggregation). */
function referenceScores(
  rows: Map<number, number>[],
  cols: number,
  history: number[],
  weights?: number[],
  mean = false,
  shrink = 0,
): Float64Array {
  const s = new Float64Array(cols);
  const wsum = new Float64Array(cols);
  const linked = new Uint8Array(cols);
  history.forEach((i, t) => {
    if (i < 0 || i >= rows.length) return;
    rows[i].forEach((sim, j) => {
      const w = weights ? weights[t] : 1;
      s[j] += w * sim;
      wsum[j] += w;
      linked[j] = 1;
    });
  });
  if (mean) for (let j = 0; j < cols; j++) s[j] = wsum[j] + shrink > 0 ? s[j] / (wsum[j] + shrink) : 0;
  for (let j = 0; j < cols; j++) if (!linked[j]) s[j] = NaN;
  return s;
}

function referenceTop(scores: Float64Array, k: number, excluded: Set<number>): number[] {
  return Array.from(scores.keys())
    .filter((j) => !Number.isNaN(scores[j]) && !excluded.has(j))
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}

describe('ItemKnn.recommend', () => {
  let model: ItemKnn;
  let rows: Map<number, number>[];
  beforeAll(async () => {
    // Integer-valued co-occurrence counts (tfidf on binary data is not; cosine on a planted design would be): keep scores exact-ish.
    model = await ItemKnn.fit(randomInteractions(80, 40, 0.15, 17), { similarity: 'cosine', neighbours: 8 });
    rows = rowsOf(model.toArrays());
  });

  test('scores are the sum of neighbour similarities; history and exclusions are masked in the kernel', () => {
    const history = [3, 7, 11, 20];
    const r = model.recommend(history, 10, { exclude: [5, 6] });
    const ref = referenceScores(rows, 40, history);
    const want = referenceTop(ref, 10, new Set([...history, 5, 6]));
    expect(Array.from(r.indices)).toEqual(want);
    r.scores.forEach((s, t) => expect(s).toBeCloseTo(ref[want[t]], 5));
    expect(r.skipped).toBe(0);
    // excludeHistory false lets history items back in.
    const open = model.recommend(history, 40, { excludeHistory: false });
    expect(Array.from(open.indices)).toEqual(referenceTop(ref, 40, new Set()));
  });

  test('weights, recency decay and the mean aggregation', () => {
    const history = [1, 2, 9, 30];
    const weights = [0.5, 2, 1, 0];
    const w = model.recommend(history, 6, { weights });
    expect(Array.from(w.indices)).toEqual(referenceTop(referenceScores(rows, 40, history, weights), 6, new Set(history)));
    const decay = 0.5;
    const rec = model.recommend(history, 6, { recencyDecay: decay });
    const rw = history.map((_, t) => decay ** (history.length - 1 - t));
    expect(Array.from(rec.indices)).toEqual(referenceTop(referenceScores(rows, 40, history, rw), 6, new Set(history)));
    const mean = model.recommend(history, 6, { aggregate: 'mean', shrink: 1.5 });
    const ref = referenceScores(rows, 40, history, undefined, true, 1.5);
    const want = referenceTop(ref, 6, new Set(history));
    expect(Array.from(mean.indices)).toEqual(want);
    mean.scores.forEach((s, t) => expect(s).toBeCloseTo(ref[want[t]], 5));
  });

  test('unknown history items are skipped and counted, or an error naming the entry', () => {
    const r = model.recommend([3, -1, 40, 7, 2 ** 40], 5);
    expect(r.skipped).toBe(3);
    expect(Array.from(r.indices)).toEqual(Array.from(model.recommend([3, 7], 5).indices));
    let err: { name?: string; code?: string; message?: string } = {};
    try {
      model.recommend([3, 40], 5, { unknownItems: 'error' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.name).toBe('RangeError');
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.message).toMatch(/history\[1\]/);
  });

  test('recommendBatch equals recommend for every query (CSR, lists, Interactions)', async () => {
    const histories = [[1, 2, 3], [], [39, 0, 7], [5, -3]];
    const excl = [[4], null, [8, 9], []];
    const batch = await model.recommendBatch(histories, 7, { exclude: excl, threads: 2 });
    histories.forEach((h, q) => {
      const one = model.recommend(h, 7, { exclude: excl[q] ?? undefined });
      expect(batch.query(q)).toEqual(one);
    });
    expect(batch.skipped[3]).toBe(1);
    const train = randomInteractions(20, 40, 0.1, 5);
    const viaInteractions = await model.recommendBatch(train, 5);
    for (let u = 0; u < 20; u++) expect(viaInteractions.query(u).indices).toEqual(model.recommend(train.itemsOf(u), 5).indices);
  });

  test('bad input: typed errors with stable codes', async () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as Error).name, (e as { code?: string }).code];
      }
      return null;
    };
    expect(codeOf(() => model.recommend([1], 0))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => model.recommend([1.5], 3))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(codeOf(() => model.recommend([1, 2], 3, { weights: [1] }))).toEqual(['RangeError', 'ERR_INVALID_ARG_VALUE']);
    expect(codeOf(() => model.recommend([1, 2], 3, { weights: [1, -1] }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => model.recommend([1], 3, { exclude: [40] }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => model.recommend([1], 3, { aggregate: 'max' as never }))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(codeOf(() => model.recommend([1], 3, { recencyDecay: 0 }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(codeOf(() => model.similarItems(40, 3))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    const rejected = async (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e) => [e.name, e.code],
      );
    const data = randomInteractions(5, 5, 0.5, 1);
    expect(await rejected(ItemKnn.fit(data, { similarity: 'jaccard' as never }))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(await rejected(ItemKnn.fit(data, { neighbours: 0 }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(await rejected(ItemKnn.fit(data, { shrink: -1 }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(await rejected(ItemKnn.fit(data, { bm25: { b: 2 } }))).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(await rejected(ItemKnn.fit(data, { useValues: true }))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(await rejected(ItemKnn.fit({} as never))).toEqual(['TypeError', 'ERR_INVALID_ARG_TYPE']);
    expect(await rejected(ItemKnn.fit(data, { signal: AbortSignal.abort() }))).toEqual(['AbortError', 'ABORT_ERR']);
    const pairs = { source: [0, 0], target: [1, 2] };
    expect(await rejected(CrossDomainItemKnn.fit({ source: data, target: data, userPairs: pairs }))).toEqual([
      'RangeError',
      'ERR_INVALID_ARG_VALUE',
    ]);
    expect(await rejected(CrossDomainItemKnn.fit({ source: data, target: data, userPairs: { source: [0], target: [9] } }))).toEqual([
      'RangeError',
      'ERR_OUT_OF_RANGE',
    ]);
    expect(
      codeOf(() =>
        ItemKnn.fromArrays({
          rows: 2,
          cols: 2,
          offsets: new Int32Array([0, 1, 2]),
          indices: new Int32Array([1, 5]),
          scores: new Float32Array(2),
        }),
      ),
    ).toEqual(['RangeError', 'ERR_OUT_OF_RANGE']);
    expect(await rejected(model.recommendBatch([[1]], 3, { exclude: [[1], [2]] }))).toEqual(['RangeError', 'ERR_INVALID_ARG_VALUE']);
  });
});

describe('CrossDomainItemKnn.recommend', () => {
  test('a cold user gets target items from their source history, target exclusions in the kernel', async () => {
    const source = randomInteractions(60, 20, 0.2, 31);
    const target = randomInteractions(60, 25, 0.2, 32);
    const pairs = { source: Int32Array.from({ length: 50 }, (_, p) => p), target: Int32Array.from({ length: 50 }, (_, p) => p) };
    const model = await CrossDomainItemKnn.fit({ source, target, userPairs: pairs, similarity: 'tfidf', neighbours: 10 });
    const rows = rowsOf(model.toArrays());
    const history = Array.from(source.itemsOf(55));
    const r = model.recommend(history, 8, { exclude: [0, 1, 2] });
    expect(Array.from(r.indices)).toEqual(referenceTop(referenceScores(rows, 25, history), 8, new Set([0, 1, 2])));
    // The history is in source items: item 3 of the source may well be recommended as target item 3.
    const batch = await model.recommendBatch([history, [99]], 8, { exclude: [[0, 1, 2], null] });
    expect(batch.query(0)).toEqual(r);
    expect(batch.query(1)).toEqual({ indices: new Int32Array(0), scores: new Float32Array(0), skipped: 1 });
    expect(Array.from(model.targetNeighbours(4, 3).indices)).toEqual(Array.from(rows[4].keys()).slice(0, 3));
  });
});

describe('evaluateItemKnn', () => {
  test('same shape as evaluateRanking; a planted structure is found', async () => {
    // Two disjoint item blocks; each user's held-out item is in their block.
    const users: number[] = [];
    const items: number[] = [];
    const testU: number[] = [];
    const testI: number[] = [];
    for (let u = 0; u < 40; u++) {
      const base = u % 2 ? 10 : 0;
      for (let t = 0; t < 10; t++) {
        if (t === u % 10) {
          testU.push(u);
          testI.push(base + t);
        } else {
          users.push(u);
          items.push(base + t);
        }
      }
    }
    const train = new Interactions({ users, items, numUsers: 40, numItems: 20 });
    const test = new Interactions({ users: testU, items: testI, numUsers: 40, numItems: 20 });
    const model = await ItemKnn.fit(train, { neighbours: 20 });
    const m = await evaluateItemKnn(model, test, { exclude: train, ks: [1, 5] });
    expect(m.users).toBe(40);
    expect(m.k).toBe(1);
    expect(Object.keys(m.byK)).toEqual(['1', '5']);
    expect(m.hit).toBe(1);
    expect(m.recall).toBe(1);
    expect(m.byK[5].ndcg).toBe(1);
    expect(m.historySkipped).toBe(0);
    for (const key of ['recall', 'precision', 'ndcg', 'hit', 'mrr', 'map', 'coverage'])
      expect(typeof (m as unknown as Record<string, number>)[key]).toBe('number');
    expect(m.perUser).toBeUndefined();
    // perUser: each user's metrics, whose means are the reported ones.
    const per = await evaluateItemKnn(model, test, { exclude: train, ks: [1, 5], perUser: true });
    expect(Array.from(per.perUser!.users)).toEqual(Array.from({ length: 40 }, (_, u) => u));
    for (const k of [1, 5] as const) {
      const ndcg = per.perUser!.byK[k].ndcg;
      expect(ndcg.reduce((s, x) => s + x, 0) / ndcg.length).toBeCloseTo(per.byK[k].ndcg, 6);
    }
    let err: { code?: string; message?: string } = {};
    await evaluateItemKnn(model, test, { exclude: train, perUser: 1 as never }).catch((e) => (err = e));
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toContain('options.perUser');
  });
});

describe('hybrid blending', () => {
  test('blendScores normalises then mixes', () => {
    const a = new Float32Array([0, 2, 4]);
    const b = new Float32Array([-1, 1, 0]);
    expect(Array.from(blendScores(a, b, 0.25))).toEqual([0, 0.25 * 0.5 + 0.75 * 1, 0.25 + 0.75 * 0.5]);
    expect(Array.from(normalizeScores(new Float32Array([3, 3])))).toEqual([0, 0]);
    expect(Array.from(blendScores(a, b, 1, { normalize: 'max' }))).toEqual([0, 0.5, 1]);
  });

  test('tuneBlendWeight searches the grid; weight 1 ranks like the neighbourhood model', async () => {
    const train = randomInteractions(50, 30, 0.2, 41);
    const valid = randomInteractions(50, 30, 0.05, 42);
    const knn = await ItemKnn.fit(train, { neighbours: 30 });
    const table = EmbeddingTable.create(30, 4, { init: 'normal', seed: 3 });
    const userVecs = EmbeddingTable.create(50, 4, { init: 'normal', seed: 4 });
    const embedding = { users: 50, items: 30, encodeItems: () => table, userQuery: (u: number) => userVecs.row(u) };
    const r = await tuneBlendWeight({ neighbours: knn, embedding, validation: valid, exclude: train, k: 5 });
    expect(r.grid.map((g) => g.weight)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(r.value).toBe(Math.max(...r.grid.map((g) => g.metrics.ndcg)));
    expect(r.grid[0].perUser).toBeUndefined();
    // perUser: every weight's per-user metrics at k, averaging to its reported metrics.
    const per = await tuneBlendWeight({
      neighbours: knn,
      embedding,
      validation: valid,
      exclude: train,
      k: 5,
      grid: [0.3, 1],
      perUser: true,
    });
    for (const g of per.grid) {
      expect(g.perUser!.users).toHaveLength(per.users);
      const recall = g.perUser!.byK[5].recall;
      expect(recall.reduce((s, x) => s + x, 0) / recall.length).toBeCloseTo(g.metrics.recall, 6);
    }
    expect(Array.from(per.grid[0].perUser!.byK[5].ndcg)).not.toEqual(Array.from(per.grid[1].perUser!.byK[5].ndcg));
    const hybrid = new HybridRecommender({ neighbours: knn, embedding, weight: 1 });
    const h = hybrid.recommend(3, train.itemsOf(3), 5);
    const k = knn.recommend(train.itemsOf(3), 5);
    const positive = Array.from(h.indices).slice(0, k.indices.length);
    expect(positive).toEqual(Array.from(k.indices));
    let err: { code?: string } = {};
    try {
      new HybridRecommender({ neighbours: knn, embedding: { ...embedding, items: 29 } });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('cross-domain evaluation helpers and batch options', () => {
  test('sourceHistories re-indexes source histories to target rows; evaluateItemKnn ranks cold users', async () => {
    const source = randomInteractions(30, 15, 0.3, 51);
    const target = randomInteractions(40, 12, 0.3, 52);
    // Source user p is target user p + 10.
    const userPairs = { source: Int32Array.from({ length: 30 }, (_, p) => p), target: Int32Array.from({ length: 30 }, (_, p) => p + 10) };
    const history = CrossDomainItemKnn.sourceHistories(source, userPairs, 40);
    expect(history.numUsers).toBe(40);
    expect(history.numItems).toBe(15);
    expect(Array.from(history.itemsOf(12))).toEqual(Array.from(source.itemsOf(2)));
    expect(history.itemsOf(3).length).toBe(0);
    const model = await CrossDomainItemKnn.fit({ source, target, userPairs, neighbours: 12 });
    const m = await evaluateItemKnn(model, target, { k: 5, history, users: [10, 11, 12, 13] });
    expect(m.users).toBeLessThanOrEqual(4);
    expect(m.hit).toBeGreaterThan(0);
    let err: { code?: string } = {};
    await evaluateItemKnn(model, target, { k: 5 }).catch((e) => (err = e));
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
  });

  test('batch CSR weights equal single-query weights; an aborted signal rejects with ABORT_ERR', async () => {
    const model = await ItemKnn.fit(randomInteractions(40, 30, 0.2, 61), { neighbours: 10 });
    const offsets = Int32Array.of(0, 3, 5);
    const indices = Int32Array.of(1, 2, 3, 4, 5);
    const weights = Float32Array.of(1, 0.5, 2, 3, 0.25);
    const batch = await model.recommendBatch({ offsets, indices, weights }, 6, { recencyDecay: 0.8 });
    expect(batch.query(0)).toEqual(model.recommend([1, 2, 3], 6, { weights: [1, 0.5, 2], recencyDecay: 0.8 }));
    expect(batch.query(1)).toEqual(model.recommend([4, 5], 6, { weights: [3, 0.25], recencyDecay: 0.8 }));
    const r = await model.recommendBatch([[1]], 3, { signal: AbortSignal.abort() }).then(
      () => null,
      (e) => [e.name, e.code],
    );
    expect(r).toEqual(['AbortError', 'ABORT_ERR']);
  });
});

test('sync queries run while a batch on the same model is in flight, with the same answers', async () => {
  const model = await ItemKnn.fit(randomInteractions(200, 120, 0.08, 71), { neighbours: 20 });
  const histories = Array.from({ length: 400 }, (_, q) => [q % 120, (q * 7) % 120, (q * 13) % 120]);
  const pending = model.recommendBatch(histories, 10, { threads: 2 });
  const sync = histories.map((h) => model.recommend(h, 10));
  const batch = await pending;
  sync.forEach((r, q) => expect(batch.query(q)).toEqual(r));
});

import { evaluateRanking, evaluateSlices } from '../../lib/eval/ranking';
import { userMetrics, USER_METRICS } from '../../lib/eval/user-metrics';
import { Interactions } from '../../lib/data/interactions';
import { uniformGenerator } from '../../lib/core/random';
import { scoredModel, randomModel } from './helpers';

const log2 = Math.log2;

function randomInteractions(users: number, items: number, perUser: number, seed: number): Interactions {
  const rand = uniformGenerator(seed);
  const pairs: [number, number][] = [];
  for (let u = 0; u < users; u++) for (let j = 0; j < perUser; j++) pairs.push([u, Math.floor(rand() * items)]);
  return Interactions.fromPairs(pairs, { numUsers: users, numItems: items });
}

describe('per-user metrics (hand-computed)', () => {
  const ks = [3, 5];
  const values = (ranked: number[], relevant: number[], pop: number[] | null = null) => {
    const out = new Float64Array(ks.length * USER_METRICS.length);
    userMetrics(Int32Array.from(ranked), Int32Array.from(relevant), ks, pop, out);
    const at = (K: number) => Object.fromEntries(USER_METRICS.map((m, j) => [m, out[ks.indexOf(K) * USER_METRICS.length + j]]));
    return { 3: at(3), 5: at(5) };
  };

  test('hits at ranks 2 and 4', () => {
    const m = values([0, 1, 2, 3, 4], [1, 3]);
    expect(m[3].recall).toBeCloseTo(0.5);
    expect(m[3].precision).toBeCloseTo(1 / 3);
    expect(m[3].hit).toBe(1);
    expect(m[3].mrr).toBeCloseTo(0.5);
    expect(m[3].ndcg).toBeCloseTo(1 / log2(3) / (1 + 1 / log2(3)));
    expect(m[3].map).toBeCloseTo(0.5 / 2);
    expect(m[5].recall).toBeCloseTo(1);
    expect(m[5].precision).toBeCloseTo(2 / 5);
    expect(m[5].ndcg).toBeCloseTo((1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3)));
    expect(m[5].map).toBeCloseTo((1 / 2 + 2 / 4) / 2);
  });

  test('more test items than K: IDCG and MAP over min(|test|, K)', () => {
    const m = values([0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6]);
    expect(m[3].ndcg).toBeCloseTo(1);
    expect(m[3].map).toBeCloseTo(1);
    expect(m[3].recall).toBeCloseTo(3 / 7);
    expect(m[5].precision).toBeCloseTo(1);
  });

  test('no hits', () => {
    const m = values([0, 1, 2, 3, 4], [9]);
    for (const K of [3, 5] as const) for (const name of ['recall', 'precision', 'ndcg', 'hit', 'mrr', 'map']) expect(m[K][name]).toBe(0);
  });

  test('a list shorter than K still divides precision by K', () => {
    const m = values([7, 8], [8]);
    expect(m[5].precision).toBeCloseTo(1 / 5);
    expect(m[5].mrr).toBeCloseTo(1 / 2);
  });

  test('arp: mean popularity of the listed items', () => {
    const m = values([0, 1, 2, 3], [1], [10, 20, 30, 40]);
    expect(m[3].arp).toBeCloseTo(20);
    expect(m[5].arp).toBeCloseTo(25); // only 4 items listed
  });
});

describe('evaluateRanking', () => {
  test('hand example through the kernel, with masking, skipped users and ties', async () => {
    const model = scoredModel([
      [5, 4, 3, 2, 1], // ranking 0 1 2 3 4
      [1, 1, 1, 1, 1], // all tied: lower index first
      [0, 0, 0, 0, 0], // no test items: skipped
    ]);
    const test = Interactions.fromPairs(
      [
        [0, 1],
        [0, 3],
        [1, 2],
      ],
      { numUsers: 3, numItems: 5 },
    );
    const exclude = Interactions.fromPairs(
      [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
      { numUsers: 3, numItems: 5 },
    );
    const m = await evaluateRanking(model, test, { ks: [1, 2], exclude });
    // user 0 sees 1 2 3 4 (0 masked): hit at rank 1. user 1 sees 2 3 4: hit at rank 1.
    expect(m.users).toBe(2);
    expect(m.skipped).toBe(1);
    expect(m.k).toBe(1);
    expect(m.byK[1].recall).toBeCloseTo((0.5 + 1) / 2);
    expect(m.byK[1].hit).toBe(1);
    expect(m.byK[1].mrr).toBe(1);
    expect(m.byK[2].map).toBeCloseTo((1 / 2 + 1) / 2); // user 0: AP@2 = 1 / min(2, 2)
    // coverage@1: items {1, 2} of 5; @2: {1, 2, 3}
    expect(m.byK[1].coverage).toBeCloseTo(2 / 5);
    expect(m.byK[2].coverage).toBeCloseTo(3 / 5);
    // arp from exclude's counts [2, 1, 0, 0, 0]: user 0 lists [1, 2] → 0.5 @2, user 1 [2, 3] → 0
    expect(m.byK[2].arp).toBeCloseTo(0.25);
    expect(m.recall).toBe(m.byK[1].recall);
  });

  test('backward compatible fields and default k', async () => {
    const model = randomModel(30, 40, 8, 1);
    const test = randomInteractions(30, 40, 3, 2);
    const m = await evaluateRanking(model, test);
    expect(m.k).toBe(10);
    for (const f of ['users', 'recall', 'precision', 'ndcg', 'hit', 'mrr'])
      expect(typeof (m as unknown as Record<string, number>)[f]).toBe('number');
    expect(m.arp).toBeUndefined();
    expect(Object.keys(m.byK)).toEqual(['10']);
  });

  test('several ks equal single-k runs', async () => {
    const model = randomModel(50, 80, 8, 3);
    const test = randomInteractions(50, 80, 4, 4);
    const exclude = randomInteractions(50, 80, 6, 5);
    const multi = await evaluateRanking(model, test, { ks: [20, 1, 5], exclude });
    expect(multi.k).toBe(20);
    for (const K of [1, 5, 20]) {
      const single = await evaluateRanking(model, test, { k: K, exclude });
      expect(multi.byK[K]).toEqual(single.byK[K]);
    }
  });

  test('chunked evaluation equals one shot, with progress', async () => {
    const model = randomModel(100, 60, 8, 6);
    const test = randomInteractions(100, 60, 3, 7);
    const exclude = randomInteractions(100, 60, 5, 8);
    const one = await evaluateRanking(model, test, { ks: [5, 10], exclude, perUser: true, auc: true });
    const progress: number[] = [];
    const chunked = await evaluateRanking(model, test, {
      ks: [5, 10],
      exclude,
      perUser: true,
      auc: true,
      chunkSize: 7,
      onProgress: (p) => {
        expect(p.total).toBe(one.users);
        progress.push(p.done);
      },
    });
    expect(progress.length).toBe(Math.ceil(one.users / 7));
    expect(progress[progress.length - 1]).toBe(one.users);
    const strip = (m: typeof one) => ({ ...m, perUser: undefined });
    expect(strip(chunked)).toEqual(strip(one));
    expect(chunked.perUser!.byK[5].ndcg).toEqual(one.perUser!.byK[5].ndcg);
    // per-user means reproduce the aggregate
    const mean = one.perUser!.byK[10].recall.reduce((s, x) => s + x, 0) / one.users;
    expect(mean).toBeCloseTo(one.byK[10].recall, 5);
  });

  test('AUC matches a brute-force reference with ties as halves', async () => {
    const scores = [
      [3, 1, 2, 2, 0, 2],
      [1, 1, 1, 1, 1, 1],
    ];
    const model = scoredModel(scores);
    const test = Interactions.fromPairs(
      [
        [0, 2],
        [0, 4],
        [1, 5],
      ],
      { numUsers: 2, numItems: 6 },
    );
    const exclude = Interactions.fromPairs([[0, 0]], { numUsers: 2, numItems: 6 });
    const m = await evaluateRanking(model, test, { auc: true, exclude });
    // user 0: positives 2 (score 2), 4 (0); negatives 1 (1), 3 (2), 5 (2); pairs: 2 beats 1, ties 3 and 5 → 2; 4 → 0
    const u0 = 2 / 6;
    const u1 = 0.5;
    expect(m.auc).toBeCloseTo((u0 + u1) / 2);
  });

  test('users option and abort', async () => {
    const model = randomModel(40, 30, 4, 9);
    const test = randomInteractions(40, 30, 2, 10);
    const some = await evaluateRanking(model, test, { users: [3, 1, 3, 7] });
    expect(some.users).toBe(3);
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateRanking(model, test, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  test('bad options name the argument', async () => {
    const model = randomModel(5, 5, 2, 1);
    const test = randomInteractions(5, 5, 1, 1);
    await expect(evaluateRanking(model, test, { ks: [0] })).rejects.toMatchObject({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      argument: 'options.ks[0]',
    });
    await expect(evaluateRanking(model, test, { ks: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', argument: 'options.ks' });
    await expect(evaluateRanking(model, test, { popularity: [1, NaN] })).rejects.toMatchObject({ argument: 'options.popularity[1]' });
    await expect(evaluateRanking(model, test, { users: [9] })).rejects.toMatchObject({ argument: 'options.users[0]' });
  });
});

describe('evaluateSlices', () => {
  test('slice metrics equal evaluating the slice alone; counts per slice', async () => {
    const model = randomModel(60, 50, 6, 11);
    const pairs: [number, number][] = [];
    for (let u = 0; u < 50; u++) pairs.push([u, (u * 7) % 50], [u, (u * 3) % 50]); // users 50..59 have no test items
    const test = Interactions.fromPairs(pairs, { numUsers: 60, numItems: 50 });
    const exclude = randomInteractions(60, 50, 4, 12);
    const a = Int32Array.from({ length: 30 }, (_, i) => i * 2); // even users 0..58
    const b = Int32Array.from([1, 3, 5, 55, 57]);
    const r = await evaluateSlices(model, test, { slices: { a, b }, ks: [5, 10], exclude });
    expect(r.slices.a.users).toBe(25);
    expect(r.slices.a.skipped).toBe(5);
    expect(r.slices.b.users).toBe(3);
    expect(r.slices.b.skipped).toBe(2);
    expect(r.all.users).toBe(50);
    expect(r.all.skipped).toBe(10);
    const alone = await evaluateRanking(model, test, { users: a, ks: [5, 10], exclude });
    expect(r.slices.a).toEqual(alone);
  });
});

import { PopularityModel, RandomModel } from '../../lib/eval/baselines';
import { evaluateRanking } from '../../lib/eval/ranking';
import { activityBuckets } from '../../lib/eval/slices';
import { summarize } from '../../lib/eval/summarize';
import { topK } from '../../lib/core/scoring';
import { Interactions } from '../../lib/data/interactions';

describe('PopularityModel', () => {
  test('ranks by training count, ties by lower index', async () => {
    const train = Interactions.fromPairs(
      [
        [0, 2],
        [1, 2],
        [2, 2],
        [0, 4],
        [1, 4],
        [2, 1],
        [0, 3],
        [1, 0],
      ],
      { numUsers: 4, numItems: 6 },
    );
    const pop = PopularityModel.fit(train);
    expect(Array.from(pop.counts)).toEqual([1, 1, 3, 1, 2, 0]);
    const top = topK(pop.encodeItems(), pop.userQuery(), 6);
    expect(Array.from(top.indices)).toEqual([2, 4, 0, 1, 3, 5]);
    // user 3 has no training items: the list is the popularity order
    const test = Interactions.fromPairs([[3, 4]], { numUsers: 4, numItems: 6 });
    const m = await evaluateRanking(pop, test, { k: 2, exclude: train });
    expect(m.mrr).toBeCloseTo(1 / 2);
    expect(m.arp).toBeCloseTo((3 + 2) / 2);
  });

  test('sizes beyond the data', () => {
    const train = Interactions.fromPairs([[0, 0]]);
    const pop = PopularityModel.fit(train, { users: 5, items: 3 });
    expect(pop.users).toBe(5);
    expect(pop.items).toBe(3);
    expect(() => PopularityModel.fit(train, { items: 0 })).toThrow(expect.objectContaining({ argument: 'options.items' }));
  });
});

describe('RandomModel', () => {
  test('seeded, deterministic per user, different across users and seeds', () => {
    const a = new RandomModel({ users: 10, items: 50, seed: 1 });
    const b = new RandomModel({ users: 10, items: 50, seed: 1 });
    const c = new RandomModel({ users: 10, items: 50, seed: 2 });
    expect(a.userQuery(3)).toEqual(b.userQuery(3));
    expect(a.encodeItems().data).toEqual(b.encodeItems().data);
    expect(a.userQuery(3)).not.toEqual(a.userQuery(4));
    expect(a.userQuery(3)).not.toEqual(c.userQuery(3));
    const list = (m: RandomModel, u: number) => Array.from(topK(m.encodeItems(), m.userQuery(u), 10).indices);
    expect(list(a, 3)).toEqual(list(b, 3));
    expect(list(a, 3)).not.toEqual(list(c, 3));
  });

  test('near chance on full ranking', async () => {
    const users = 300;
    const items = 200;
    const pairs: [number, number][] = [];
    for (let u = 0; u < users; u++) pairs.push([u, (u * 17) % items]);
    const test = Interactions.fromPairs(pairs, { numUsers: users, numItems: items });
    const m = await evaluateRanking(new RandomModel({ users, items, seed: 3 }), test, { k: 20 });
    expect(Math.abs(m.hit - 20 / items)).toBeLessThan(0.06);
  });
});

describe('activityBuckets', () => {
  test('buckets by training interactions, named by range', () => {
    const pairs: [number, number][] = [];
    const activity = [0, 1, 4, 5, 19, 20, 30];
    activity.forEach((n, u) => {
      for (let j = 0; j < n; j++) pairs.push([u, j]);
    });
    const train = Interactions.fromPairs(pairs, { numUsers: 7, numItems: 40 });
    const b = activityBuckets(train, [5, 20], 8);
    expect(Object.keys(b)).toEqual(['0-4', '5-19', '20+']);
    expect(Array.from(b['0-4'])).toEqual([0, 1, 2, 7]);
    expect(Array.from(b['5-19'])).toEqual([3, 4]);
    expect(Array.from(b['20+'])).toEqual([5, 6]);
    expect(Object.keys(activityBuckets(train, [0, 1, 2]))).toEqual(['0', '1', '2+']);
    expect(() => activityBuckets(train, [5, 5])).toThrow(expect.objectContaining({ name: 'RangeError', argument: 'edges[1]' }));
  });
});

describe('summarize', () => {
  test('mean and sample std per numeric field, nested; typed arrays dropped', () => {
    type Run = { recall: number; byK: { 5: { ndcg: number } }; perUser: Float32Array; auc?: number };
    const runs: Run[] = [
      { recall: 0.1, byK: { 5: { ndcg: 1 } }, perUser: new Float32Array(3), auc: 0.5 },
      { recall: 0.3, byK: { 5: { ndcg: 3 } }, perUser: new Float32Array(3) },
      { recall: 0.2, byK: { 5: { ndcg: 2 } }, perUser: new Float32Array(3) },
    ];
    const { runs: n, summary } = summarize(runs);
    expect(n).toBe(3);
    expect(summary.recall.mean).toBeCloseTo(0.2);
    expect(summary.recall.std).toBeCloseTo(0.1);
    expect(summary.byK[5].ndcg).toEqual({ mean: 2, std: 1 });
    expect(summary.auc!).toEqual({ mean: 0.5, std: 0 });
    expect('perUser' in summary).toBe(false);
    expect(summarize([{ x: 4 }]).summary.x).toEqual({ mean: 4, std: 0 });
    expect(() => summarize([])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'runs' }));
  });
});

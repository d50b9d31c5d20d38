import { evaluateSampled, drawNegatives } from '../../lib/eval/sampled';
import { uniformGenerator } from '../../lib/core/random';
import { Interactions } from '../../lib/data/interactions';
import { randomModel, scoredModel } from './helpers';

describe('drawNegatives', () => {
  test('distinct, never banned, both paths', () => {
    const banned = Int32Array.from([0, 3, 4, 9]);
    for (const count of [2, 5, 6, 50]) {
      const got = drawNegatives(10, banned, count, uniformGenerator(count));
      expect(got.length).toBe(Math.min(count, 6));
      expect(new Set(got).size).toBe(got.length);
      for (const x of got) expect([0, 3, 4, 9]).not.toContain(x);
    }
  });

  test('uniform over the eligible items', () => {
    const counts = new Array(20).fill(0);
    const rand = uniformGenerator(1);
    for (let t = 0; t < 4000; t++) for (const x of drawNegatives(20, Int32Array.from([5]), 2, rand)) counts[x]++;
    expect(counts[5]).toBe(0);
    for (let i = 0; i < 20; i++) if (i !== 5) expect(Math.abs(counts[i] - 8000 / 19)).toBeLessThan(100);
  });
});

describe('evaluateSampled', () => {
  const users = 40;
  const items = 300;
  const model = randomModel(users, items, 8, 21);
  const pairs: [number, number][] = [];
  const seenPairs: [number, number][] = [];
  for (let u = 0; u < users; u++) {
    pairs.push([u, (u * 13) % items], [u, (u * 29 + 1) % items]);
    for (let j = 0; j < 20; j++) seenPairs.push([u, (u * 7 + j * 11 + 5) % items]);
  }
  const testSet = Interactions.fromPairs(pairs, { numUsers: users, numItems: items });
  const exclude = Interactions.fromPairs(seenPairs, { numUsers: users, numItems: items });

  test('deterministic for a seed, independent of chunking; changes with the seed', async () => {
    const a = await evaluateSampled(model, testSet, { negatives: 99, seed: 5, exclude, ks: [1, 10], perPair: true });
    const b = await evaluateSampled(model, testSet, { negatives: 99, seed: 5, exclude, ks: [1, 10], perPair: true, chunkSize: 3 });
    const c = await evaluateSampled(model, testSet, { negatives: 99, seed: 6, exclude, ks: [1, 10], perPair: true });
    expect(b.perPair!.ranks).toEqual(a.perPair!.ranks);
    expect(b.byK).toEqual(a.byK);
    expect(c.perPair!.ranks).not.toEqual(a.perPair!.ranks);
    expect(a.pairs).toBe(80);
    expect(a.users).toBe(40);
    expect(a.k).toBe(1);
    // a pair's negatives depend on the pair alone: evaluating one user gives the same ranks
    const one = Interactions.fromPairs(
      pairs.filter(([u]) => u === 3),
      { numUsers: users, numItems: items },
    );
    const alone = await evaluateSampled(model, one, { negatives: 99, seed: 5, exclude, perPair: true });
    expect(Array.from(alone.perPair!.ranks)).toEqual(Array.from(a.perPair!.ranks.subarray(6, 8)));
  });

  test('ties count against the positive: a constant model ranks last', async () => {
    const constant = scoredModel(Array.from({ length: 3 }, () => new Array(50).fill(1)));
    const t = Interactions.fromPairs(
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
      { numUsers: 3, numItems: 50 },
    );
    const m = await evaluateSampled(constant, t, { negatives: 9, ks: [1, 10] });
    expect(m.byK[1].hit).toBe(0);
    expect(m.byK[10].hit).toBe(1); // rank 10 = 1 + 9 negatives
    expect(m.mrrFull).toBeCloseTo(1 / 10);
  });

  test('negatives exclude seen and test items; short pairs are counted', async () => {
    // user 0 scores seen items 0..4 and test item 6 highest, item 5 next; only 5..9 minus test are eligible
    const scores = [[100, 100, 100, 100, 100, 50, 60, 1, 1, 1]];
    const model10 = scoredModel(scores);
    const seen = Interactions.fromPairs(
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [0, 4],
      ],
      { numUsers: 1, numItems: 10 },
    );
    const t = Interactions.fromPairs(
      [
        [0, 6],
        [0, 5],
      ],
      { numUsers: 1, numItems: 10 },
    );
    const m = await evaluateSampled(model10, t, { negatives: 3, exclude: seen, perPair: true, ks: [1] });
    // eligible for each pair: 7, 8, 9 (other test item excluded) → item 6 first, item 5 first
    expect(Array.from(m.perPair!.ranks)).toEqual([1, 1]);
    expect(m.shortPairs).toBe(0);
    const short = await evaluateSampled(model10, t, { negatives: 4, exclude: seen });
    expect(short.shortPairs).toBe(2);
  });

  test('bad options name the argument', async () => {
    await expect(evaluateSampled(model, testSet, { negatives: 0 })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      argument: 'options.negatives',
    });
    await expect(evaluateSampled(model, testSet, { exclude: {} as Interactions })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
      argument: 'options.exclude',
    });
  });
});

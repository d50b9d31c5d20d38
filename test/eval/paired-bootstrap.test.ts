import { normalGenerator } from '../../lib/core/random';
import { Interactions } from '../../lib/data/interactions';
import { PopularityModel, RandomModel } from '../../lib/eval/baselines';
import { pairedBootstrap, pairedVerdict, type UserValues } from '../../lib/eval/paired-bootstrap';
import { evaluateRanking } from '../../lib/eval/ranking';
import { failure } from '../support/errors';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const side = (values: number[], users = range(values.length)): UserValues => ({ users, values });

describe('pairedBootstrap', () => {
  test('a constant gap has a zero-width interval at the gap and the smallest p-value the resamples allow', () => {
    const b = range(50).map((i) => (i % 7) / 10);
    const d = pairedBootstrap(side(b.map((x) => x + 0.25)), side(b), { resamples: 500 });
    expect(d.mean).toBeCloseTo(0.25, 12);
    expect(d.low).toBeCloseTo(0.25, 12);
    expect(d.high).toBeCloseTo(0.25, 12);
    expect(d.pValue).toBeCloseTo(1 / 501, 12);
    expect(d.users).toEqual([50]);
    expect(d.resamples).toBe(500);
  });

  test('identical models: mean 0, interval [0, 0], p = 1', () => {
    const a = side(range(30).map((i) => Math.sin(i)));
    const d = pairedBootstrap(a, a);
    expect([d.mean, d.low, d.high, d.pValue]).toEqual([0, 0, 0, 1]);
    expect(pairedVerdict(d)).toBe('too few seeds');
    expect(pairedVerdict(d, 1)).toBe('no clear difference');
  });

  test('pairing removes the variance the models share: a small gap on very different users is found', () => {
    const normal = normalGenerator(3);
    const base = range(400).map(() => 10 * normal()); // users differ a lot
    const a = base.map((x) => x + 0.1 + 0.2 * normal()); // the gap is small but consistent
    const d = pairedBootstrap(side(a), side(base), { seed: 1 });
    expect(d.low).toBeGreaterThan(0);
    expect(d.mean).toBeCloseTo(0.1, 1);
    // Close to the normal approximation: mean ± 1.96 · sd / √n.
    const diffs = a.map((x, i) => x - base[i]!);
    const m = diffs.reduce((s, x) => s + x, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((s, x) => s + (x - m) ** 2, 0) / (diffs.length - 1));
    const half = (1.96 * sd) / Math.sqrt(diffs.length);
    expect((d.high - d.low) / 2).toBeGreaterThan(half * 0.85);
    expect((d.high - d.low) / 2).toBeLessThan(half * 1.15);
  });

  test('under no difference, p < 0.05 about 5% of the time; with a real one, nearly always', () => {
    const normal = normalGenerator(11);
    let nullRejects = 0;
    let shiftRejects = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const b = range(80).map(() => normal());
      const noise = range(80).map(() => normal());
      const same = b.map((x, i) => x + noise[i]!);
      if (pairedBootstrap(side(same), side(b), { resamples: 400, seed: t }).pValue < 0.05) nullRejects++;
      if (pairedBootstrap(side(same.map((x) => x + 0.5)), side(b), { resamples: 400, seed: t }).pValue < 0.05) shiftRejects++;
    }
    expect(nullRejects / trials).toBeGreaterThan(0.01);
    expect(nullRejects / trials).toBeLessThan(0.11);
    expect(shiftRejects / trials).toBeGreaterThan(0.9);
  });

  test('p < 1 − c exactly when the c-level interval excludes 0', () => {
    const normal = normalGenerator(5);
    for (let t = 0; t < 40; t++) {
      const b = range(60).map(() => normal());
      const a = b.map((x) => x + 0.08 * (t % 5) + 0.4 * normal());
      for (const confidence of [0.8, 0.9, 0.95, 0.99]) {
        const d = pairedBootstrap(side(a), side(b), { resamples: 300, seed: t, confidence });
        expect(d.low > 0 || d.high < 0).toBe(d.pValue < 1 - confidence);
      }
    }
  });

  test('seeds are strata: per-seed mean differences averaged with equal weight, users resampled within each seed', () => {
    const few = side(range(10).map(() => 1));
    const fewBase = side(range(10).map(() => 0));
    const many = side(range(100).map((i) => i % 3));
    const d = pairedBootstrap([few, many], [fewBase, many]);
    expect(d.perSeed).toEqual([1, 0]);
    expect(d.users).toEqual([10, 100]);
    expect(d.mean).toBe(0.5); // not 10 / 110: each seed counts once
    expect(d.low).toBeCloseTo(0.5, 12); // neither seed's differences vary
    expect(pairedVerdict(d)).toBe('too few seeds');
    expect(pairedVerdict(pairedBootstrap([few, few, few], [fewBase, fewBase, fewBase]))).toBe('better');
    expect(pairedVerdict(pairedBootstrap([fewBase, fewBase, fewBase], [few, few, few]))).toBe('worse');
  });

  test('deterministic for a seed; another seed moves the interval, not the mean', () => {
    const normal = normalGenerator(7);
    const b = side(range(100).map(() => normal()));
    const a = side((b.values as number[]).map((x) => x + normal()));
    const one = pairedBootstrap(a, b, { seed: 4 });
    expect(pairedBootstrap(a, b, { seed: 4 })).toEqual(one);
    const other = pairedBootstrap(a, b, { seed: 5 });
    expect(other.mean).toBe(one.mean);
    expect(other.low).not.toBe(one.low);
  });

  test('users are matched by id, whatever order each side lists them in', () => {
    const users = [5, 3, 9, 1];
    const values = [0.5, 0.1, 0.9, 0.3];
    const base = { users: Int32Array.from([1, 3, 5, 9]), values: Float32Array.from([0.3, 0, 0.5, 0.4]) };
    const d = pairedBootstrap({ users, values }, base, { resamples: 200 });
    const aligned = pairedBootstrap({ users: [1, 3, 5, 9], values: [0.3, 0.1, 0.5, 0.9] }, base, { resamples: 200 });
    expect(d.mean).toBeCloseTo(aligned.mean, 7);
    expect(d.mean).toBeCloseTo((0 + 0.1 + 0 + 0.5) / 4, 6);
  });

  test('per-user metrics from evaluateRanking pair up, and the mean difference is the gap of the two means', async () => {
    const pairs: Array<[number, number]> = [];
    for (let u = 0; u < 40; u++) for (let j = 0; j < 4; j++) pairs.push([u, (u * 7 + j * (u % 3 === 0 ? 1 : 5)) % 30]);
    const all = Interactions.fromPairs(pairs, { numUsers: 40, numItems: 30 });
    const train = Interactions.fromPairs(
      pairs.filter((_, i) => i % 4 !== 0),
      { numUsers: 40, numItems: 30 },
    );
    const test = Interactions.fromPairs(
      pairs.filter((_, i) => i % 4 === 0),
      { numUsers: 40, numItems: 30 },
    );
    expect(all.size).toBe(train.size + test.size);
    const options = { k: 10, exclude: train, perUser: true };
    const pop = await evaluateRanking(PopularityModel.fit(train), test, options);
    const random = await evaluateRanking(new RandomModel({ users: 40, items: 30, seed: 1 }), test, options);
    const values = (m: typeof pop) => ({ users: m.perUser!.users, values: m.perUser!.byK[10].ndcg });
    const d = pairedBootstrap(values(pop), values(random));
    expect(d.mean).toBeCloseTo(pop.ndcg - random.ndcg, 6);
    expect(d.users).toEqual([pop.users]);
  });

  test('bad input is a typed error naming what to fix', () => {
    const ok = side([1, 2, 3]);
    const cases: Array<[() => unknown, RegExp]> = [
      [() => pairedBootstrap(ok, side([1, 2])), /ERR_INVALID_ARG_VALUE .*the same 3 users as a\.users for b\.users/],
      [() => pairedBootstrap(ok, { users: [0, 1, 7], values: [1, 2, 3] }), /ERR_OUT_OF_RANGE .*user 2 is missing/],
      [() => pairedBootstrap({ users: [0, 1, 1], values: [1, 2, 3] }, ok), /ERR_OUT_OF_RANGE .*distinct users for a\.users\[2\]/],
      [() => pairedBootstrap(ok, { users: [2, 1, 1], values: [1, 2, 3] }), /ERR_OUT_OF_RANGE .*distinct users for b\.users\[2\]/],
      [() => pairedBootstrap({ users: [0, 1, 2], values: [1, 2] }, ok), /ERR_INVALID_ARG_VALUE .*3 values .*for a\.values/],
      [() => pairedBootstrap({ users: [0, 1, 2], values: [1, Number.NaN, 3] }, ok), /ERR_OUT_OF_RANGE .*finite number for a\.values\[1\]/],
      [() => pairedBootstrap(side([]), side([])), /ERR_INVALID_ARG_VALUE .*at least one user for a\.users/],
      [() => pairedBootstrap([ok, ok], [ok]), /ERR_INVALID_ARG_VALUE .*2 seeds .*for b/],
      [() => pairedBootstrap([ok], ok), /ERR_INVALID_ARG_TYPE .*for b/],
      [() => pairedBootstrap([], []), /ERR_INVALID_ARG_VALUE .*at least one seed/],
      [() => pairedBootstrap([ok, ok], [ok, side([1, 2])]), /b\[1\]\.users/],
      [() => pairedBootstrap({ users: 'abc', values: [1] } as never, ok), /ERR_INVALID_ARG_TYPE .*for a but/],
      [() => pairedBootstrap(ok, ok, { resamples: 10 }), /ERR_OUT_OF_RANGE .*options\.resamples/],
      [() => pairedBootstrap(ok, ok, { confidence: 1 }), /ERR_OUT_OF_RANGE .*options\.confidence/],
      [() => pairedBootstrap(ok, ok, { seed: -1 }), /ERR_OUT_OF_RANGE .*options\.seed/],
      [() => pairedBootstrap(ok, ok, [] as never), /ERR_INVALID_ARG_TYPE .*options object for options/],
    ];
    for (const [fn, expected] of cases) expect(failure(fn)).toMatch(expected);
  });
});

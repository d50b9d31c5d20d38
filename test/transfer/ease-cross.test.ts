import { TransferContext, alignDomains, coldUserSplit, easeCross, ease, syntheticDomains, transfer } from '../../lib';
import type { CustomEvaluation } from '../../lib/transfer/strategies';
import { DEFAULT_SETTINGS } from '../../lib/transfer/context';

const domains = () => syntheticDomains({ users: 400, sourceItems: 150, targetItems: 120, sourcePerUser: 25, targetPerUser: 10, seed: 4 });

describe('ease-cross', () => {
  test('beats popularity and target-only EASE on cold users of planted transfer data', async () => {
    const { source, target } = domains();
    const report = await transfer(source, target, {
      seeds: 1,
      strategies: ['ease-cross', 'ease'],
      settings: { dim: 8, epochs: 5, threads: 1 },
      sampled: { negatives: 50, seed: 1 },
    });
    const run = (name: string) => report.results.find((r) => r.strategy === name)!;
    const cross = run('ease-cross').runs[0];
    const pop = run('popularity').runs[0];
    expect(cross.cold.ndcg).toBeGreaterThan(pop.cold.ndcg * 1.2);
    expect(cross.cold.users).toBe(pop.cold.users);
    // `ease` serves cold users by popularity (plus nothing), so it ties popularity there; warm users are its own.
    expect(run('ease').runs[0].cold.ndcg).toBeCloseTo(pop.cold.ndcg, 6);
    expect(run('ease').runs[0].warm.ndcg).toBeCloseTo(cross.warm.ndcg, 6);
    // The sampled protocol scores through the same function.
    expect(run('ease-cross').sampled!.cold.hit.mean).toBeGreaterThan(run('popularity').sampled!.cold.hit.mean);
  }, 300_000);

  test('λ is chosen from the grid, and a single λ skips the choice', async () => {
    const { source, target } = domains();
    const alignment = alignDomains(source, target);
    const split = coldUserSplit(alignment, { seed: 1 });
    const ctx = new TransferContext(alignment, split, { ...DEFAULT_SETTINGS, threads: 1 }, 1);
    const one = (await easeCross({ lambdas: [5], withinLambdas: [50] }).run(ctx)) as CustomEvaluation;
    const grid = (await easeCross({ lambdas: [0.01, 5, 1e6], withinLambdas: [50] }).run(ctx)) as CustomEvaluation;
    const cold = rowsOfUsers(split.test, split.coldTestUsers);
    const a = await one.evaluate(cold, split.train, 10);
    const b = await grid.evaluate(cold, split.train, 10);
    // The grid holds 5 and two extremes; validation must not pick an extreme that is much worse.
    expect(b.ndcg).toBeGreaterThan(a.ndcg * 0.8);
    const huge = (await easeCross({ lambdas: [1e12], withinLambdas: [50] }).run(ctx)) as CustomEvaluation;
    // With an enormous ridge the weights vanish and popularity (the tie-break) decides, up to the
    // order among equally popular items, which the vanishing weights still break.
    const pop = await ((await ease({ withinLambdas: [50] }).run(ctx)) as CustomEvaluation).evaluate(cold, split.train, 10);
    expect((await huge.evaluate(cold, split.train, 10)).ndcg).toBeCloseTo(pop.ndcg, 2);
  }, 300_000);

  test('the primal (over source items) and the dual (over warm users) give the same scores', async () => {
    const { source, target } = domains();
    const alignment = alignDomains(source, target);
    const split = coldUserSplit(alignment, { seed: 2 });
    const ctx = new TransferContext(alignment, split, { ...DEFAULT_SETTINGS, threads: 2 }, 2);
    const common = { lambdas: [3], withinLambdas: [50] };
    const primal = (await easeCross({ ...common, solver: 'primal', maxSourceItems: 10_000 }).run(ctx)) as CustomEvaluation;
    const dual = (await easeCross({ ...common, solver: 'dual' }).run(ctx)) as CustomEvaluation;
    const items = Int32Array.from({ length: alignment.target.numItems }, (_, i) => i);
    const a = new Float32Array(items.length);
    const b = new Float32Array(items.length);
    let largest = 0;
    for (const u of split.coldTestUsers.subarray(0, 25)) {
      primal.scorer().score(u, items, a);
      dual.scorer().score(u, items, b);
      for (let i = 0; i < items.length; i++) {
        largest = Math.max(largest, Math.abs(a[i]));
        expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
      }
    }
    expect(largest).toBeGreaterThan(0.01); // the scores are not all tie-breaks
  }, 300_000);

  test('bad options are typed and name the option', () => {
    expect(() => easeCross({ lambdas: [] })).toThrow(expect.objectContaining({ name: 'TypeError', argument: 'options.lambdas' }));
    expect(() => easeCross({ lambdas: [1, -1] })).toThrow(expect.objectContaining({ name: 'RangeError', argument: 'options.lambdas[1]' }));
    expect(() => easeCross({ solver: 'qr' as never })).toThrow(expect.objectContaining({ argument: 'options.solver' }));
    expect(() => easeCross({ maxSourceItems: 0 })).toThrow(expect.objectContaining({ argument: 'options.maxSourceItems' }));
    expect(() => ease({ withinLambdas: [Number.NaN] })).toThrow(expect.objectContaining({ argument: 'options.withinLambdas[0]' }));
  });
});

function rowsOfUsers(data: import('../../lib').Interactions, users: Int32Array) {
  const set = new Set(users);
  return data.subset(Int32Array.from({ length: data.size }, (_, i) => i).filter((i) => set.has(data.users[i])));
}

// Joint (CMF) training: its options are checked, and on planted shared tastes it serves cold users
// better than popularity at its default rate and at an explicit one.
import { joint, syntheticDomains, transfer } from '../../lib';

const settings = { dim: 16, epochs: 30, threads: 1 };

describe('joint', () => {
  test('bad options are range errors that name the option', () => {
    for (const [options, argument] of [
      [{ lr: 0 }, 'options.lr'],
      [{ lr: Number.NaN }, 'options.lr'],
      [{ alpha: -1 }, 'options.alpha'],
    ] as const) {
      let err: { name?: string; argument?: string } | undefined;
      try {
        joint(options);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.name).toBe('RangeError');
      expect(err?.argument).toBe(argument);
    }
  });

  test('cold users beat popularity at the default rate and at an explicit one', async () => {
    const { source, target } = syntheticDomains({
      users: 300,
      sourceItems: 120,
      targetItems: 100,
      sourcePerUser: 20,
      targetPerUser: 10,
      seed: 5,
    });
    const report = await transfer(source, target, {
      seeds: 1,
      strategies: [joint(), { ...joint({ lr: 0.1 }), name: 'joint-0.1' }],
      settings,
    });
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics.ndcg.mean;
    expect(cold('joint')).toBeGreaterThan(cold('popularity') + 0.02);
    expect(cold('joint-0.1')).toBeGreaterThan(cold('popularity') + 0.02);
  });
});

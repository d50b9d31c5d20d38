// Every callback the API accepts: an error it throws, or a promise it returns that rejects, rejects
// the call that invoked it — never an unhandled rejection, never a call that does not settle.
import { Interactions } from '../../lib/data/interactions';
import { evaluateRanking } from '../../lib/eval/ranking';
import { evaluateSampled } from '../../lib/eval/sampled';
import { MatrixFactorization } from '../../lib/models/matrix-factorization';
import { TwoTower } from '../../lib/models/two-tower';
import { Trainer } from '../../lib/train/trainer';
import { trainTwoTower } from '../../lib/train/two-tower-trainer';
import { transfer } from '../../lib/transfer/lift';
import { syntheticDomains } from '../../lib/transfer/synthetic';

const data = () => {
  const users = Int32Array.from({ length: 2000 }, (_, i) => i % 100);
  const items = Int32Array.from({ length: 2000 }, (_, i) => (i * 7) % 50);
  return new Interactions({ users, items, numUsers: 100, numItems: 50 });
};

const failures = {
  throws: () => {
    throw new Error('callback failed');
  },
  rejects: () => Promise.reject(new Error('callback failed')),
  'rejects later': () => new Promise((_, reject) => setTimeout(() => reject(new Error('callback failed')), 5)),
};

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 20));
  expect(unhandled).toEqual([]);
});

describe.each(Object.entries(failures))('a callback that %s', (_name, callback) => {
  test('rejects Trainer.fit', async () => {
    const m = new MatrixFactorization({ users: 100, items: 50, dim: 8 });
    await expect(Trainer.fit(m, data(), { epochs: 2, onProgress: callback })).rejects.toThrow('callback failed');
  });

  test('rejects trainTwoTower', async () => {
    const m = new TwoTower({ users: 100, items: 50, dim: 8 });
    await expect(trainTwoTower(m, data(), { epochs: 1, batchSize: 64, onProgress: callback })).rejects.toThrow('callback failed');
  });

  test('rejects evaluateRanking and evaluateSampled', async () => {
    const m = new MatrixFactorization({ users: 100, items: 50, dim: 8 });
    await expect(evaluateRanking(m, data(), { onProgress: callback })).rejects.toThrow('callback failed');
    await expect(evaluateSampled(m, data(), { negatives: 5, onProgress: callback })).rejects.toThrow('callback failed');
  });

  test('rejects transfer (onProgress and onModel)', async () => {
    const { source, target } = syntheticDomains({ users: 60, sourceItems: 60, targetItems: 40, sourcePerUser: 10, targetPerUser: 6 });
    const settings = { dim: 4, epochs: 1 };
    await expect(transfer(source, target, { strategies: ['fine-tune'], seeds: 1, settings, onProgress: callback })).rejects.toThrow(
      'callback failed',
    );
    await expect(transfer(source, target, { strategies: ['fine-tune'], seeds: 1, settings, onModel: callback })).rejects.toThrow(
      'callback failed',
    );
  });
});

test('a callback that returns a promise is awaited before the call goes on', async () => {
  const m = new MatrixFactorization({ users: 100, items: 50, dim: 8 });
  const order: string[] = [];
  await Trainer.fit(m, data(), {
    epochs: 2,
    chunkSize: 1000,
    onProgress: async (p) => {
      order.push(`start ${p.epoch}:${p.samples}`);
      await new Promise((r) => setTimeout(r, 2));
      order.push(`end ${p.epoch}:${p.samples}`);
    },
  });
  for (let i = 0; i < order.length; i += 2) expect(order[i + 1]!.slice(4)).toBe(order[i]!.slice(6));
});

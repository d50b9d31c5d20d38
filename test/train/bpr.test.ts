// Matrix factorization trained by native BPR epochs: update rules against a float64 reference and
// finite differences (every ISA), a planted dataset learned well above chance, freezing, seeds,
// threads, early stopping, abort, divergence and bad input.
import {
  Interactions,
  MatrixFactorization,
  Trainer,
  capabilities,
  evaluateRanking,
  setIsa,
  uniformGenerator,
  type IsaName,
  type OptimizerType,
} from '../../lib';
import { planted } from '../support/planted';

afterEach(() => setIsa(null));

// ---- the update rule ---------------------------------------------------------------------------

const sigma = (z: number) => 1 / (1 + Math.exp(-z));

/** BPR objective to minimise for one triple: -ln σ(<u, vi - vj> + bi - bj) + l2/2 ‖θ‖². */
function objective(th: number[], d: number, l2: number): number {
  const [u, vi, vj] = [th.slice(0, d), th.slice(d, 2 * d), th.slice(2 * d, 3 * d)];
  const x = u.reduce((s, uk, k) => s + uk * (vi[k] - vj[k]), 0) + th[3 * d] - th[3 * d + 1];
  return -Math.log(sigma(x)) + (l2 / 2) * th.reduce((s, t) => s + t * t, 0);
}

/** The ascent direction the kernels apply (the negative gradient of objective), in float64. */
function ascent(th: number[], d: number, l2: number): number[] {
  const [u, vi, vj] = [th.slice(0, d), th.slice(d, 2 * d), th.slice(2 * d, 3 * d)];
  const x = u.reduce((s, uk, k) => s + uk * (vi[k] - vj[k]), 0) + th[3 * d] - th[3 * d + 1];
  const g = sigma(-x);
  return [
    ...u.map((uk, k) => g * (vi[k] - vj[k]) - l2 * uk),
    ...vi.map((ik, k) => g * u[k] - l2 * ik),
    ...vj.map((jk, k) => -g * u[k] - l2 * jk),
    g - l2 * th[3 * d],
    -g - l2 * th[3 * d + 1],
  ];
}

test('the analytic BPR step equals minus the finite-difference gradient', () => {
  const d = 5;
  const u = uniformGenerator(4);
  const th = Array.from({ length: 3 * d + 2 }, () => u() - 0.5);
  for (const l2 of [0, 0.01]) {
    const a = ascent(th, d, l2);
    for (let p = 0; p < th.length; p++) {
      const h = 1e-6;
      const up = th.slice();
      const dn = th.slice();
      up[p] += h;
      dn[p] -= h;
      const numeric = -(objective(up, d, l2) - objective(dn, d, l2)) / (2 * h);
      expect(Math.abs(numeric - a[p])).toBeLessThan(1e-7);
    }
  }
});

/** One user, two items, the positive is item 0: with known positives rejected, the negative is item 1. */
function oneStep(type: OptimizerType, l2: number, isa: IsaName, dim: number) {
  setIsa(isa);
  const m = new MatrixFactorization({ users: 1, items: 2, dim, itemBias: true, seed: 9, initScale: 0.5 });
  const before = [...m.userEmbedding.table.data, ...m.itemEmbedding.table.data, 0, 0];
  const lr = 0.3;
  return Trainer.fit(m, new Interactions({ users: [0], items: [0], numUsers: 1, numItems: 2 }), {
    optimizer: { type, lr, l2 },
    epochs: 1,
    threads: 1,
  }).then(() => {
    // reset() inside fit re-draws the same weights from the seed, so `before` is the starting point.
    const after = [...m.userEmbedding.table.data, ...m.itemEmbedding.table.data, ...m.itemBias!.table.data];
    return { before, after, lr, m };
  });
}

describe.each(capabilities().supportedIsas)('one BPR step on %s', (isa) => {
  test.each<[OptimizerType, number]>([
    ['sgd', 0],
    ['sgd', 0.05],
    ['adagrad', 0.05],
    ['rowwise-adagrad', 0.05],
    ['adam', 0.05],
  ])('%s with l2=%f matches the float64 reference (dims 3, 16, 37)', async (type, l2) => {
    for (const dim of [3, 16, 37]) {
      const { before, after, lr } = await oneStep(type, l2, isa, dim);
      const s = ascent(before, dim, l2);
      const expected = before.slice();
      if (type === 'sgd') {
        for (let p = 0; p < s.length; p++) expected[p] += lr * s[p];
      } else if (type === 'adagrad') {
        // Fresh accumulators: acc = s², step = lr·s/(|s| + eps) for every element, biases too.
        for (let p = 0; p < s.length; p++) expected[p] += (lr * s[p]) / (Math.abs(s[p]) + 1e-8);
      } else if (type === 'adam') {
        // First step from zero moments: m = (1-b1)s, v = (1-b2)s², bias-corrected rate
        // lr·√(1-b2)/(1-b1), so each weight moves by lr·s/(|s| + ε̂) up to the ε̂ term.
        const rate = (lr * Math.sqrt(1 - 0.999)) / (1 - 0.9);
        for (let p = 0; p < s.length; p++) {
          const m = 0.1 * s[p];
          const v = 0.001 * s[p] * s[p];
          expected[p] += (rate * m) / (Math.sqrt(v) + 1e-8);
        }
      } else {
        // Row-wise: one accumulator per row (user row, item 0 row, item 1 row) = mean(s²); biases per element.
        const rows = [
          [0, dim],
          [dim, 2 * dim],
          [2 * dim, 3 * dim],
        ];
        for (const [b, e] of rows) {
          const acc = s.slice(b, e).reduce((q, x) => q + x * x, 0) / dim;
          for (let p = b; p < e; p++) expected[p] += (lr * s[p]) / (Math.sqrt(acc) + 1e-8);
        }
        for (const p of [3 * dim, 3 * dim + 1]) expected[p] += (lr * s[p]) / (Math.abs(s[p]) + 1e-8);
      }
      for (let p = 0; p < expected.length; p++) expect(Math.abs(after[p] - expected[p])).toBeLessThan(2e-6 * (1 + Math.abs(expected[p])));
    }
  });
});

// ---- learning ------------------------------------------------------------------------------------

test.each<OptimizerType>(['sgd', 'adagrad', 'rowwise-adagrad', 'adam'])(
  '%s learns a planted dataset: loss falls, AUC and recall far above chance',
  async (type) => {
    const { train, test } = planted();
    const m = new MatrixFactorization({ users: 400, items: 200, dim: 16, seed: 5 });
    const report = await Trainer.fit(m, train, { optimizer: { type }, epochs: 15, threads: 1, seed: 2 });
    const first = report.epochs[0].loss;
    const last = report.epochs[report.epochs.length - 1].loss;
    expect(last).toBeLessThan(0.5 * first);
    const metrics = await evaluateRanking(m, test, { k: 10, exclude: train, auc: true });
    expect(metrics.auc!).toBeGreaterThan(0.85); // chance: 0.5
    // Chance recall@10 is about 10 / (200 - 20) ≈ 0.056 of a user's test items.
    expect(metrics.recall).toBeGreaterThan(2 * 0.056);
  },
);

test('threads: 1 twice with one seed gives bit-identical weights; threads: 2 reaches the same quality', async () => {
  const { train, test } = planted(600, 200, 3);
  const run = async (threads: number, seed: number) => {
    const m = new MatrixFactorization({ users: 600, items: 200, dim: 16, seed: 1 });
    await Trainer.fit(m, train, { optimizer: { type: 'adagrad' }, epochs: 8, threads, seed, chunkSize: 4096 });
    return m;
  };
  const a = await run(1, 7);
  const b = await run(1, 7);
  const c = await run(1, 8);
  expect(b.userEmbedding.table.data).toEqual(a.userEmbedding.table.data);
  expect(b.itemEmbedding.table.data).toEqual(a.itemEmbedding.table.data);
  expect(c.itemEmbedding.table.data).not.toEqual(a.itemEmbedding.table.data);
  const two = await run(2, 7);
  const q1 = await evaluateRanking(a, test, { exclude: train, auc: true });
  const q2 = await evaluateRanking(two, test, { exclude: train, auc: true });
  expect(Math.abs(q2.auc! - q1.auc!)).toBeLessThan(0.03);
});

// ---- freezing ------------------------------------------------------------------------------------

test('frozen parameters and frozen rows are bit-identical after fit, optimizer state included; lrMultiplier 0 equals frozen', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8, seed: 2, itemBias: true });
  m.freeze('item.*');
  m.userEmbedding.freezeRows([0, 5, 399]);
  m.reset();
  const items0 = m.itemEmbedding.table.data.slice();
  const bias0 = m.itemBias!.table.data.slice();
  const user0 = m.userEmbedding.table.data.slice();
  await Trainer.fitPartial(m, train, { optimizer: { type: 'adagrad' }, epochs: 2, threads: 1 });
  expect(m.itemEmbedding.table.data).toEqual(items0);
  expect(m.itemBias!.table.data).toEqual(bias0);
  for (const r of [0, 5, 399]) expect(m.userEmbedding.table.row(r)).toEqual(user0.subarray(r * 8, (r + 1) * 8));
  expect(m.userEmbedding.table.row(1)).not.toEqual(user0.subarray(8, 16));
  expect(m.itemEmbedding.state!.values.every((x) => x === 0)).toBe(true);
  expect(m.userEmbedding.state!.values.subarray(0, 8).every((x) => x === 0)).toBe(true);
  expect(m.userEmbedding.state!.values.subarray(8, 16).some((x) => x !== 0)).toBe(true);

  // Same run with a zero learning-rate multiplier instead of freeze: identical weights.
  const n = new MatrixFactorization({ users: 400, items: 200, dim: 8, seed: 2, itemBias: true });
  n.itemEmbedding.lrMultiplier = 0;
  n.itemBias!.lrMultiplier = 0;
  n.userEmbedding.freezeRows([0, 5, 399]);
  await Trainer.fitPartial(n, train, { optimizer: { type: 'adagrad' }, epochs: 2, threads: 1 });
  expect(n.userEmbedding.table.data).toEqual(m.userEmbedding.table.data);
  expect(n.itemEmbedding.table.data).toEqual(items0);
  m.unfreeze('*');
  expect(m.parameters().every((p) => p.trainable)).toBe(true);
});

// ---- the fit loop --------------------------------------------------------------------------------

test('fitPartial continues where fit stopped; fit starts over', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8, seed: 2 });
  await Trainer.fit(m, train, { epochs: 2, threads: 1 });
  expect(m.epochsTrained).toBe(2);
  const after2 = m.itemEmbedding.table.data.slice();
  await Trainer.fitPartial(m, train, { epochs: 1, threads: 1 });
  expect(m.epochsTrained).toBe(3);
  expect(m.itemEmbedding.table.data).not.toEqual(after2);
  await Trainer.fit(m, train, { epochs: 2, threads: 1 });
  expect(m.epochsTrained).toBe(2);
  expect(m.itemEmbedding.table.data).toEqual(after2);
});

test('progress is reported per chunk with loss, rate and ETA', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8 });
  const seen: { epoch: number; samples: number; loss: number; samplesPerSecond: number; etaSeconds: number }[] = [];
  await Trainer.fit(m, train, { epochs: 2, threads: 1, chunkSize: 1000, onProgress: (p) => seen.push(p) });
  expect(seen.length).toBe(2 * Math.ceil(train.size / 1000));
  expect(seen[seen.length - 1]).toMatchObject({ epoch: 2, samples: train.size });
  for (const p of seen) {
    expect(p.loss).toBeGreaterThan(0);
    expect(p.samplesPerSecond).toBeGreaterThan(0);
    expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
  }
});

test('early stopping keeps the best epoch and restores its weights', async () => {
  const { train, test } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 16, seed: 4 });
  // A large learning rate makes validation recall peak early and then fall.
  const report = await Trainer.fit(m, train, {
    optimizer: { type: 'sgd', lr: 0.5 },
    epochs: 40,
    threads: 1,
    validation: { data: test, metric: 'ndcg', patience: 2, k: 10 },
  });
  const metric = (await evaluateRanking(m, test, { k: 10, exclude: train })).ndcg;
  expect(report.bestMetric).not.toBeNull();
  expect(metric).toBeCloseTo(report.bestMetric!, 10);
  const best = Math.max(...report.epochs.map((e) => e.validation!.ndcg));
  expect(report.bestMetric).toBe(best);
  expect(report.weightsFromEpoch).toBe(report.bestEpoch);
  expect(report.epochs[report.bestEpoch - 1].validation!.ndcg).toBe(best);
  if (report.stoppedEarly) expect(report.epochs.length).toBeLessThan(40);
});

test('an AbortSignal stops training between or inside chunks with AbortError', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8 });
  const ac = new AbortController();
  let calls = 0;
  const p = Trainer.fit(m, train, {
    epochs: 1000,
    threads: 1,
    chunkSize: 1000,
    signal: ac.signal,
    onProgress: () => ++calls === 3 && ac.abort(),
  });
  await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  expect(m.busy).toBe(false);
});

test('divergence is detected and explained', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8, initScale: 10 });
  await expect(Trainer.fit(m, train, { optimizer: { type: 'sgd', lr: 1e5 }, epochs: 50, threads: 1 })).rejects.toMatchObject({
    name: 'RecbridgeError',
    code: 'ERR_DIVERGED',
    message: expect.stringContaining('learning rate'),
  });
});

test('divergence is caught from the growth of the loss while the weights are still finite', async () => {
  // WARP under plain SGD on popularity-skewed data: the loss grows by orders of magnitude per epoch.
  const rand = uniformGenerator(1);
  const n = 60_000;
  const users = Int32Array.from({ length: n }, () => Math.floor(rand() * 2000));
  const items = Int32Array.from({ length: n }, () => Math.floor(rand() ** 3 * 1000));
  const data = new Interactions({ users, items, numUsers: 2000, numItems: 1000 });
  const m = new MatrixFactorization({ users: 2000, items: 1000, dim: 32 });
  await expect(Trainer.fit(m, data, { loss: 'warp', optimizer: { type: 'sgd' }, epochs: 20, threads: 1 })).rejects.toMatchObject({
    code: 'ERR_DIVERGED',
    message: expect.stringMatching(/mean loss of a chunk grew from .* to /),
  });
  for (const x of m.userEmbedding.table.data) expect(Number.isFinite(x)).toBe(true);
  // The default optimizer for WARP converges on the same data, as do the defaults of every loss.
  for (const loss of ['bpr', 'bce', 'warp'] as const) {
    const fresh = new MatrixFactorization({ users: 2000, items: 1000, dim: 32 });
    const report = await Trainer.fit(fresh, data, { loss, epochs: 8, threads: 1 });
    const losses = report.epochs.map((e) => e.loss);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
  }
});

test('a model in training is busy: a second fit gets ERR_BUSY', async () => {
  const { train } = planted();
  const m = new MatrixFactorization({ users: 400, items: 200, dim: 8 });
  const first = Trainer.fit(m, train, { epochs: 3, threads: 1 });
  await expect(Trainer.fitPartial(m, train, { epochs: 1 })).rejects.toMatchObject({ code: 'ERR_BUSY' });
  await first;
  expect(m.busy).toBe(false);
});

describe('bad input', () => {
  const { train } = planted(40, 20);
  const model = () => new MatrixFactorization({ users: 40, items: 20, dim: 4 });
  test.each<[string, () => Promise<unknown>, { name: string; code: string; message?: unknown }]>([
    [
      'data is not Interactions',
      () => Trainer.fit(model(), { users: [0], items: [0] } as never),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('for data') },
    ],
    [
      'empty data',
      () => Trainer.fit(model(), new Interactions({ users: [], items: [], numUsers: 40, numItems: 20 })),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('at least one interaction') },
    ],
    [
      'ids beyond the model',
      () => Trainer.fit(new MatrixFactorization({ users: 10, items: 20, dim: 4 }), train),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining("model's size") },
    ],
    [
      'negative learning rate',
      () => Trainer.fit(model(), train, { optimizer: { type: 'sgd', lr: -0.1 } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.optimizer.lr') },
    ],
    [
      'NaN learning rate',
      () => Trainer.fit(model(), train, { optimizer: { type: 'sgd', lr: NaN } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.optimizer.lr') },
    ],
    [
      'unknown optimizer',
      () => Trainer.fit(model(), train, { optimizer: { type: 'lion' as OptimizerType } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.optimizer.type') },
    ],
    [
      'adam beta1 of 1',
      () => Trainer.fit(model(), train, { optimizer: { type: 'adam', beta1: 1 } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.optimizer.beta1') },
    ],
    [
      'zero epochs',
      () => Trainer.fit(model(), train, { epochs: 0 }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.epochs') },
    ],
    [
      'unknown loss',
      () => Trainer.fit(model(), train, { loss: 'hinge' as 'bpr' }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.loss') },
    ],
    [
      'validation data of the wrong type',
      () => Trainer.fit(model(), train, { validation: { data: [] as never } }),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('options.validation.data') },
    ],
    [
      'mse without ratings',
      () => Trainer.fit(model(), train, { loss: 'mse' }),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('values') },
    ],
    [
      'bce with 9 negatives',
      () => Trainer.fit(model(), train, { loss: 'bce', negatives: 9 }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.negatives') },
    ],
    [
      'unknown sampler',
      () => Trainer.fit(model(), train, { sampler: { type: 'zipf' as 'uniform' } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.sampler.type') },
    ],
    [
      'negative popularity exponent',
      () => Trainer.fit(model(), train, { sampler: { type: 'popularity', alpha: -1 } }),
      { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.sampler.alpha') },
    ],
    [
      'model is not a model',
      () => Trainer.fit({} as never, train),
      { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('for model') },
    ],
  ])('%s', async (_label, fn, expected) => {
    await expect(fn()).rejects.toMatchObject(expected);
  });

  test('interactions validate their indices and lengths', () => {
    expect(() => new Interactions({ users: [0, -1], items: [0, 0] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.users[1]') }),
    );
    expect(() => new Interactions({ users: [0, 1], items: [0] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.items') }),
    );
    expect(() => new Interactions({ users: [3], items: [0], numUsers: 2 })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('data.users[0]') }),
    );
    expect(() => new Interactions({ users: [0], items: [0], values: [NaN] })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('data.values[0]') }),
    );
    expect(() => new MatrixFactorization({ users: 0, items: 3 })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('options.users') }),
    );
    expect(() => (model().itemEmbedding.lrMultiplier = -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => model().freeze('nothing.*')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

// TwoTower trained with in-batch sampled softmax: analytic gradients against finite differences
// (every component at once), a planted dataset learned well above chance, freezing, seeds and
// threads, bad input, abort and divergence.
import {
  Interactions,
  Trainer,
  TwoTower,
  capabilities,
  evaluateTwoTower,
  setIsa,
  trainTwoTower,
  uniformGenerator,
  type TwoTowerOptions,
} from '../../lib';
import { native } from '../../lib/core/native';
import { Similarity } from '../../lib/core/native-constants';
import { planted } from '../support/planted';

afterEach(() => setIsa(null));

// ---- gradients ------------------------------------------------------------------------------------

function tinyModel(): TwoTower {
  const r = uniformGenerator(11);
  const dense = (n: number, d: number) => Float32Array.from({ length: n * d }, () => r() - 0.5);
  return new TwoTower({
    users: 5,
    items: 6,
    dim: 4,
    similarity: 'cosine',
    temperature: 0.5,
    seed: 3,
    initScale: 0.5,
    user: {
      features: { vocabulary: 5, bags: { offsets: Int32Array.from([0, 2, 3, 3, 5, 6]), indices: Int32Array.from([0, 1, 2, 3, 4, 1]) } },
      dense: { values: dense(5, 3), dim: 3 },
      mlp: [5, 3],
    },
    item: {
      features: {
        vocabulary: 4,
        bags: { offsets: Int32Array.from([0, 1, 2, 4, 4, 5, 7]), indices: Int32Array.from([0, 1, 2, 3, 0, 1, 2]) },
      },
      dense: { values: dense(6, 2), dim: 2 },
      mlp: [6, 3],
    },
  });
}

test.each(capabilities().supportedIsas)(
  'analytic gradients of every parameter match central finite differences on %s (cosine, temperature, logQ, accidental hit)',
  (isa) => {
    setIsa(isa);
    const m = tinyModel();
    // Biases chosen so every tower output has norm > 0.3: near a zero vector, cosine's 1/|v| makes
    // the loss too curved for finite differences with a float32-sized step.
    for (const p of m.parameters()) if (p.name.endsWith('bias')) p.table.data.forEach((_, i, a) => (a[i] = 0.25 * (1 - (i % 3))));
    const users = Int32Array.from([0, 1, 2, 3, 4]);
    const items = Int32Array.from([1, 2, 1, 4, 5]); // item 1 twice: an accidental hit for rows 0 and 2
    const logQ = Float32Array.from([-1, -2, -0.5, -3, -1.5, -2.5]);
    const lossOf = (grads?: Map<string, Float32Array>) =>
      native.twoTowerLoss({
        user: m.nativeTower('user', { embedding: null, dense: null }, grads),
        item: m.nativeTower('item', { embedding: null, dense: null }, grads),
        users,
        items,
        logQ,
        similarity: Similarity.cosine,
        temperature: 0.5,
        threads: 1,
        grads: grads !== undefined,
      });
    const grads = new Map<string, Float32Array>();
    const base = lossOf(grads);
    expect(base.invalid).toBe(0);
    expect(Number.isFinite(base.loss)).toBe(true);
    expect(grads.size).toBe(m.parameters().length);
    let checked = 0;
    let largest = 0;
    let nonZero = 0;
    for (const p of m.parameters()) {
      const g = grads.get(p.name)!;
      const w = p.table.data;
      for (let k = 0; k < w.length; k++) {
        const orig = w[k];
        // Central difference, with the steps actually taken in float32 as the denominator. The
        // kernels compute in float32, so the loss carries ~1e-7 relative noise: the tolerance is an
        // absolute 3e-5 (noise / step) plus 0.5 % of the gradient.
        const h = 3e-3;
        w[k] = orig + h;
        const up = w[k];
        const lp = lossOf().loss;
        w[k] = orig - h;
        const dn = w[k];
        const lm = lossOf().loss;
        w[k] = orig;
        const numeric = (lp - lm) / (up - dn);
        expect(Math.abs(numeric - g[k])).toBeLessThan(3e-5 + 5e-3 * Math.abs(g[k]));
        largest = Math.max(largest, Math.abs(g[k]));
        checked++;
        if (g[k] !== 0) nonZero++;
      }
    }
    expect(largest).toBeGreaterThan(1e-2); // the tolerance is small against the gradients checked
    expect(checked).toBeGreaterThan(150);
    expect(nonZero).toBeGreaterThan(checked / 2);
    // Rows never in the batch get exactly zero gradient (item 0 and 3 are not in the batch).
    const itemGrad = grads.get('item.embedding')!;
    expect(Array.from(itemGrad.subarray(0, 3)).every((x) => x === 0)).toBe(true);
  },
);

test('without accidental-hit masking the loss would differ: a duplicate positive is not a negative', () => {
  const m = new TwoTower({ users: 2, items: 2, dim: 3, seed: 1, initScale: 1 });
  const spec = (items: number[]) => ({
    user: m.nativeTower('user', { embedding: null, dense: null }),
    item: m.nativeTower('item', { embedding: null, dense: null }),
    users: Int32Array.from([0, 1]),
    items: Int32Array.from(items),
    logQ: null,
    similarity: Similarity.dot,
    temperature: 1,
    threads: 1,
    grads: false,
  });
  // Both rows share item 0: each row's only other column is masked, so each loss is 0.
  expect(native.twoTowerLoss(spec([0, 0])).loss).toBeCloseTo(0, 6);
  expect(native.twoTowerLoss(spec([0, 1])).loss).toBeGreaterThan(0.01);
});

// ---- learning ----------------------------------------------------------------------------------

const base: Pick<TwoTowerOptions, 'users' | 'items' | 'dim' | 'seed'> = { users: 400, items: 200, dim: 16, seed: 5 };

test.each<[string, Partial<TwoTowerOptions>, { type: 'sgd' | 'adagrad' | 'adam'; lr?: number }]>([
  ['id embeddings, dot, adagrad', {}, { type: 'adagrad', lr: 0.1 }],
  [
    'id embeddings + MLP, cosine, adam',
    { similarity: 'cosine', temperature: 0.1, user: { mlp: [16, 16] }, item: { mlp: [16, 16] } },
    { type: 'adam', lr: 0.01 },
  ],
])('%s learns a planted dataset: loss falls, AUC and recall far above chance', async (_label, extra, optimizer) => {
  const { train, test } = planted();
  const m = new TwoTower({ ...base, ...extra });
  const report = await trainTwoTower(m, train, { optimizer, epochs: 15, batchSize: 128, threads: 1, seed: 2 });
  const first = report.epochs[0].loss;
  const last = report.epochs[report.epochs.length - 1].loss;
  expect(last).toBeLessThan(first - 0.2);
  const metrics = await evaluateTwoTower(m, test, { k: 10, exclude: train, auc: true });
  expect(metrics.auc!).toBeGreaterThan(0.85); // chance: 0.5
  // Chance recall@10 is about 10 / (200 - 20) ≈ 0.056 of a user's test items.
  expect(metrics.recall).toBeGreaterThan(2 * 0.056);
});

test('threads: 1 twice with one seed gives bit-identical weights; threads: 2 reaches similar quality', async () => {
  const { train, test } = planted(600, 200, 3);
  const run = async (threads: number, seed: number) => {
    const m = new TwoTower({ users: 600, items: 200, dim: 16, seed: 1, user: { mlp: [16] }, item: { mlp: [16] } });
    await trainTwoTower(m, train, { optimizer: { type: 'adam', lr: 0.01 }, epochs: 8, batchSize: 256, threads, seed });
    return m;
  };
  const a = await run(1, 7);
  const b = await run(1, 7);
  const c = await run(1, 8);
  for (const p of a.parameters()) expect(b.parameter(p.name).table.data).toEqual(p.table.data);
  expect(c.parameter('item.embedding').table.data).not.toEqual(a.parameter('item.embedding').table.data);
  const two = await run(2, 7);
  const q1 = await evaluateTwoTower(a, test, { exclude: train, auc: true });
  const q2 = await evaluateTwoTower(two, test, { exclude: train, auc: true });
  expect(Math.abs(q2.auc! - q1.auc!)).toBeLessThan(0.03);
});

// ---- freezing ----------------------------------------------------------------------------------

test('frozen parameters and frozen rows are bit-identical after training, optimizer state included; lrMultiplier 0 equals frozen', async () => {
  const { train } = planted();
  const options: TwoTowerOptions = { users: 400, items: 200, dim: 8, seed: 2, user: { mlp: [8, 8] }, item: { mlp: [8] } };
  const m = new TwoTower(options);
  m.freeze('item.*');
  m.parameter('user.embedding').freezeRows([0, 5, 399]);
  m.parameter('user.mlp.0.weight').freezeRows([2]);
  const before = new Map(m.parameters().map((p) => [p.name, p.table.data.slice()]));
  await trainTwoTower(m, train, { optimizer: { type: 'adam' }, epochs: 2, batchSize: 128, threads: 1 }, false);
  for (const p of m.parameters()) {
    if (p.name.startsWith('item.')) {
      expect(p.table.data).toEqual(before.get(p.name));
      expect(p.state).toBeNull(); // never allocated, never written
    }
  }
  const emb = m.parameter('user.embedding');
  const e0 = before.get('user.embedding')!;
  for (const r of [0, 5, 399]) expect(emb.table.row(r)).toEqual(e0.subarray(r * 8, (r + 1) * 8));
  expect(emb.table.row(1)).not.toEqual(e0.subarray(8, 16));
  expect(emb.state!.values.subarray(0, 8).every((x) => x === 0)).toBe(true);
  expect(emb.state!.values.subarray(8, 16).some((x) => x !== 0)).toBe(true);
  const w0 = m.parameter('user.mlp.0.weight');
  expect(w0.table.row(2)).toEqual(before.get('user.mlp.0.weight')!.subarray(16, 24));
  expect(w0.table.row(1)).not.toEqual(before.get('user.mlp.0.weight')!.subarray(8, 16));
  // Adam state of the frozen row: m, v and its step count stay zero; another row has stepped.
  const st = w0.state!.values;
  const n = w0.table.data.length;
  expect(st.subarray(16, 24).every((x) => x === 0) && st.subarray(n + 16, n + 24).every((x) => x === 0)).toBe(true);
  expect(st[2 * n + 2]).toBe(0);
  expect(st[2 * n + 1]).toBeGreaterThan(0);

  // The same run with learning-rate multipliers 0 instead of freeze: identical weights.
  const z = new TwoTower(options);
  for (const p of z.parameters()) if (p.name.startsWith('item.')) p.lrMultiplier = 0;
  z.parameter('user.embedding').freezeRows([0, 5, 399]);
  z.parameter('user.mlp.0.weight').freezeRows([2]);
  await trainTwoTower(z, train, { optimizer: { type: 'adam' }, epochs: 2, batchSize: 128, threads: 1 }, false);
  for (const p of m.parameters()) expect(z.parameter(p.name).table.data).toEqual(p.table.data);
  m.unfreeze('*');
  expect(m.parameters().every((p) => p.trainable)).toBe(true);
});

// ---- the fit loop ------------------------------------------------------------------------------

test('progress reports loss, rate and ETA; encode* give tables of the output size', async () => {
  const { train } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 8, user: { mlp: [6] }, item: { mlp: [6] } });
  const seen: { epoch: number; samples: number; loss: number; samplesPerSecond: number; etaSeconds: number }[] = [];
  await trainTwoTower(m, train, { epochs: 2, batchSize: 100, chunkBatches: 10, threads: 1, onProgress: (p) => seen.push(p) });
  expect(seen.length).toBe(2 * Math.ceil(train.size / 1000));
  expect(seen[seen.length - 1]).toMatchObject({ epoch: 2, samples: train.size });
  for (const p of seen) {
    expect(p.loss).toBeGreaterThan(0);
    expect(p.samplesPerSecond).toBeGreaterThan(0);
    expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
  }
  const users = await m.encodeUsers();
  const items = await m.encodeItems();
  expect([users.rows, users.dim, items.rows, items.dim]).toEqual([400, 6, 200, 6]);
});

test('early stopping on validation restores the best weights', async () => {
  const { train, test } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 16, seed: 4 });
  const report = await trainTwoTower(m, train, {
    optimizer: { type: 'sgd', lr: 2 },
    epochs: 12,
    batchSize: 128,
    threads: 1,
    validation: { data: test, metric: 'ndcg', patience: 1, k: 10 },
  });
  const metric = (await evaluateTwoTower(m, test, { k: 10, exclude: train, threads: 1 })).ndcg;
  expect(report.bestMetric).toBe(Math.max(...report.epochs.map((e) => e.validation!.ndcg)));
  expect(metric).toBeCloseTo(report.bestMetric!, 10);
  expect(report.weightsFromEpoch).toBe(report.bestEpoch);
});

test('an AbortSignal stops training with AbortError and releases the model', async () => {
  const { train } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 8 });
  const ac = new AbortController();
  let calls = 0;
  const p = trainTwoTower(m, train, {
    epochs: 1000,
    batchSize: 100,
    chunkBatches: 1,
    threads: 1,
    signal: ac.signal,
    onProgress: () => ++calls === 3 && ac.abort(),
  });
  await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  expect(m.busy).toBe(false);
});

test('divergence is detected and explained', async () => {
  const { train } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 8, initScale: 10 });
  await expect(
    trainTwoTower(m, train, { optimizer: { type: 'sgd', lr: 1e6 }, epochs: 20, batchSize: 128, threads: 1 }),
  ).rejects.toMatchObject({
    name: 'RecbridgeError',
    code: 'ERR_DIVERGED',
    message: expect.stringContaining('learning rate'),
  });
  expect(m.busy).toBe(false);
});

test('a model in training is busy: encode and a second fit get ERR_BUSY', async () => {
  const { train } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 8 });
  const first = trainTwoTower(m, train, { epochs: 2, threads: 1 });
  await expect(trainTwoTower(m, train, { epochs: 1 })).rejects.toMatchObject({ code: 'ERR_BUSY' });
  await expect(m.encodeItems()).rejects.toMatchObject({ code: 'ERR_BUSY' });
  await first;
  expect(m.busy).toBe(false);
});

test('Trainer.fit and fitPartial dispatch two-tower models to trainTwoTower', async () => {
  const { train } = planted();
  const m = new TwoTower({ users: 400, items: 200, dim: 8 });
  const report = await Trainer.fit(m, train, { epochs: 2, threads: 1, batchSize: 128 });
  expect(report.epochs.length).toBe(2);
  expect(m.epochsTrained).toBe(2);
  await Trainer.fitPartial(m, train, { epochs: 1, threads: 1 });
  expect(m.epochsTrained).toBe(3);
});

// ---- bad input ---------------------------------------------------------------------------------

describe('bad input', () => {
  const { train } = planted(40, 20);
  const model = () => new TwoTower({ users: 40, items: 20, dim: 4 });
  const range = (fragment: string, code = 'ERR_OUT_OF_RANGE') => ({ name: 'RangeError', code, message: expect.stringContaining(fragment) });
  const type = (fragment: string) => ({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(fragment) });

  test.each<[string, () => Promise<unknown>, object]>([
    ['data is not Interactions', () => trainTwoTower(model(), { users: [0], items: [0] } as never), type('for data')],
    [
      'empty data',
      () => trainTwoTower(model(), new Interactions({ users: [], items: [], numUsers: 40, numItems: 20 })),
      range('at least one interaction'),
    ],
    ['ids beyond the model', () => trainTwoTower(new TwoTower({ users: 10, items: 20, dim: 4 }), train), range("model's size")],
    [
      'negative learning rate',
      () => trainTwoTower(model(), train, { optimizer: { type: 'sgd', lr: -0.1 } }),
      range('options.optimizer.lr'),
    ],
    [
      'negative dense learning rate',
      () => trainTwoTower(model(), train, { denseOptimizer: { type: 'adam', lr: -1 } }),
      range('options.denseOptimizer.lr'),
    ],
    ['NaN learning rate', () => trainTwoTower(model(), train, { optimizer: { type: 'adam', lr: NaN } }), range('options.optimizer.lr')],
    [
      'unknown optimizer',
      () => trainTwoTower(model(), train, { optimizer: { type: 'rmsprop' as 'sgd' } }),
      range('options.optimizer.type'),
    ],
    ['unknown loss', () => trainTwoTower(model(), train, { loss: 'bpr' as 'softmax' }), range('options.loss')],
    ['zero batch size', () => trainTwoTower(model(), train, { batchSize: 0 }), range('options.batchSize')],
    [
      'logQ of the wrong length',
      () => trainTwoTower(model(), train, { logQ: new Float32Array(3) }),
      range('options.logQ', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['model is not a model', () => trainTwoTower({} as never, train), type('for model')],
  ])('%s', async (_label, fn, expected) => {
    await expect(fn()).rejects.toMatchObject(expected);
  });

  test.each<[string, () => unknown, object]>([
    ['zero users', () => new TwoTower({ users: 0, items: 3 }), range('options.users')],
    ['mismatched output dims', () => new TwoTower({ users: 2, items: 3, dim: 4, user: { mlp: [8] } }), range('options.item.mlp')],
    ['a tower with no input', () => new TwoTower({ users: 2, items: 3, user: { idEmbedding: false } }), range('options.user')],
    [
      'dense values of the wrong length',
      () => new TwoTower({ users: 2, items: 3, user: { dense: { values: new Float32Array(5), dim: 2 } } }),
      range('options.user.dense.values', 'ERR_INVALID_ARG_VALUE'),
    ],
    [
      'NaN in dense features',
      () => new TwoTower({ users: 2, items: 3, item: { dense: { values: Float32Array.from([0, 1, NaN]), dim: 1 } } }),
      range('options.item.dense.values[2]'),
    ],
    [
      'dense values not a Float32Array',
      () => new TwoTower({ users: 2, items: 3, user: { dense: { values: [1, 2] as never, dim: 1 } } }),
      type('options.user.dense.values'),
    ],
    [
      'feature index out of range',
      () =>
        new TwoTower({
          users: 2,
          items: 3,
          user: { features: { vocabulary: 2, bags: { offsets: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 2]) } } },
        }),
      range('options.user.features.bags.indices[1]'),
    ],
    [
      'decreasing bag offsets',
      () =>
        new TwoTower({
          users: 2,
          items: 3,
          user: { features: { vocabulary: 2, bags: { offsets: Int32Array.from([0, 2, 1]), indices: Int32Array.from([0]) } } },
        }),
      range('options.user.features.bags.offsets[2]'),
    ],
    ['bad mlp size', () => new TwoTower({ users: 2, items: 3, user: { mlp: [0] } }), range('options.user.mlp[0]')],
    ['bad temperature', () => new TwoTower({ users: 2, items: 3, temperature: 0 }), range('options.temperature')],
    ['unknown similarity', () => new TwoTower({ users: 2, items: 3, similarity: 'l2' as 'dot' }), range('options.similarity')],
    ['unknown parameter', () => model().parameter('user.nothing'), type('for name')],
    ['freeze pattern matching nothing', () => model().freeze('nothing.*'), type('for pattern')],
  ])('%s', (_label, fn, expected) => {
    expect(fn).toThrow(expect.objectContaining(expected));
  });

  test('the binding rejects shapes that bypass lib/ instead of reading out of bounds', () => {
    const m = model();
    const spec = () => ({
      user: m.nativeTower('user', { embedding: null, dense: null }),
      item: m.nativeTower('item', { embedding: null, dense: null }),
      users: Int32Array.from([0, 1]),
      items: Int32Array.from([0, 1]),
      logQ: null,
      similarity: Similarity.dot,
      temperature: 1,
      threads: 1,
      grads: false,
    });
    const short = spec();
    short.user.embedding!.w = new Float32Array(8); // 2 rows for 40 users
    expect(() => native.twoTowerLoss(short)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const wrongDim = spec();
    wrongDim.item.dim = 3;
    expect(() => native.twoTowerLoss(wrongDim)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // Out-of-range ids are skipped and counted, never read.
    const ids = spec();
    ids.users = Int32Array.from([0, 1000]);
    expect(native.twoTowerLoss(ids).invalid).toBe(1);
  });
});

test.each<'rowwise-adagrad' | 'adam'>(['rowwise-adagrad', 'adam'])(
  '%s on the embedding tables learns the planted groups and keeps frozen rows and their state untouched',
  async (type) => {
    const { train, test } = planted();
    const m = new TwoTower({ ...base, user: { mlp: [16] }, item: { mlp: [16] } });
    m.parameter('item.embedding').freezeRows([0, 1, 2]);
    m.reset();
    const frozen = m.parameter('item.embedding').table.data.slice(0, 3 * 16);
    const report = await Trainer.fit(m, train, {
      embeddingOptimizer: { type },
      optimizer: { type: 'adam', lr: 0.02 },
      epochs: 15,
      batchSize: 128,
      threads: 1,
      seed: 2,
    });
    expect(report.epochs[report.epochs.length - 1].loss).toBeLessThan(report.epochs[0].loss - 0.2);
    const metrics = await evaluateTwoTower(m, test, { k: 10, exclude: train, auc: true });
    expect(metrics.auc!).toBeGreaterThan(0.85);
    const p = m.parameter('item.embedding');
    expect(p.table.data.slice(0, 3 * 16)).toEqual(frozen);
    const state = p.state!;
    expect(state.kind).toBe(type);
    expect(state.values.length).toBe(type === 'adam' ? 2 * p.table.data.length + p.rows : p.rows);
    const frozenState =
      type === 'adam'
        ? [
            ...state.values.subarray(0, 48),
            ...state.values.subarray(p.table.data.length, p.table.data.length + 48),
            ...state.values.subarray(2 * p.table.data.length, 2 * p.table.data.length + 3),
          ]
        : [...state.values.subarray(0, 3)];
    expect(frozenState.every((x) => x === 0)).toBe(true);
    expect(Array.from(type === 'adam' ? state.values.subarray(2 * p.table.data.length) : state.values).some((x) => x !== 0)).toBe(true);
  },
);

test('an unknown embedding optimizer is rejected with a typed error', async () => {
  const { train } = planted(40, 20);
  await expect(
    Trainer.fit(new TwoTower({ users: 40, items: 20, dim: 4 }), train, { embeddingOptimizer: { type: 'lion' as 'adam' } }),
  ).rejects.toMatchObject({
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: expect.stringContaining('options.embeddingOptimizer.type'),
  });
});

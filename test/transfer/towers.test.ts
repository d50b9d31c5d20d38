// Two-tower transfer (towers-shared-items, towers-shared-users): the freezing schedule on TwoTower,
// what is shared, cold users and cold items on generated domains with planted tastes and content,
// text embeddings from a tiny ONNX encoder, and typed errors.
import {
  Domain,
  TransferContext,
  TwoTower,
  alignDomains,
  coldUserSplit,
  runSchedule,
  syntheticDomains,
  towerTransferModels,
  towersSharedItems,
  transfer,
  type TrainSettings,
  type TransferSplit,
} from '../../lib';
import { DataType, encodeModel } from '../../lib/io/onnx/model';
import { planted } from '../support/planted';

const small = () => syntheticDomains({ users: 300, sourceItems: 120, targetItems: 100, sourcePerUser: 20, targetPerUser: 10, seed: 2 });
const SETTINGS: TrainSettings = {
  dim: 16,
  epochs: 30,
  patience: 3,
  loss: 'bpr',
  negatives: 4,
  optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 },
  metric: 'ndcg',
  k: 10,
  threads: 1,
};

function contextOf(source: Domain, target: Domain, split?: TransferSplit): TransferContext {
  const alignment = alignDomains(source, target);
  return new TransferContext(alignment, split ?? coldUserSplit(alignment, { seed: 1 }), SETTINGS, 1);
}

/** Domains with their item content removed (ids only). */
function withoutContent(d: Domain): Domain {
  return new Domain({ name: d.name, interactions: d.interactions, users: d.users, items: d.items });
}

describe('runSchedule on a TwoTower', () => {
  test('the frozen tower is bit-identical through its phase, the other trains, and flags come back', async () => {
    const { train } = planted(80, 40, 3);
    const model = new TwoTower({
      users: 80,
      items: 40,
      dim: 8,
      item: { dense: { values: Float32Array.from({ length: 40 * 3 }, (_, i) => Math.sin(i)), dim: 3 } },
    });
    model.parameter('user.embedding').lrMultiplier = 0.5;
    const before = new Map(model.parameters().map((p) => [p.name, p.table.data.slice()]));
    const seen: Array<Map<string, Float32Array>> = [];
    const reports = await runSchedule(
      model,
      [
        { name: 'users only', data: train, train: ['user.*'], epochs: 3 },
        { name: 'all, items slower', data: train, lrMultipliers: { 'item.*': 0.1 }, epochs: 2 },
      ],
      {
        threads: 1,
        batchSize: 32,
        optimizer: { type: 'adam', lr: 0.05 },
        onPhase: () => seen.push(new Map(model.parameters().map((p) => [p.name, p.table.data.slice()]))),
      },
    );
    const afterFrozen = seen[1]!;
    for (const p of model.parameters()) {
      if (p.name.startsWith('item.')) expect(afterFrozen.get(p.name)).toEqual(before.get(p.name));
      else expect(afterFrozen.get(p.name)).not.toEqual(before.get(p.name));
      // The second phase trained everything.
      expect(p.table.data).not.toEqual(afterFrozen.get(p.name));
    }
    expect(reports.map((r) => r.trainable)).toEqual([
      ['user.embedding'],
      ['user.embedding', 'item.embedding', 'item.dense.projection.weight', 'item.dense.projection.bias'],
    ]);
    expect(model.parameters().every((p) => p.trainable)).toBe(true);
    expect(model.parameter('user.embedding').lrMultiplier).toBe(0.5);
    expect(model.parameter('item.embedding').lrMultiplier).toBe(1);
  });

  test('a TwoTower phase takes two-tower fit options and names bad ones', async () => {
    const { train } = planted(80, 40, 3);
    const model = new TwoTower({ users: 80, items: 40, dim: 4 });
    await expect(runSchedule(model, [{ data: train, fit: { loss: 'bpr' } as never }], { threads: 1 })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/options\.loss/),
    });
    await expect(runSchedule({} as never, [{ data: train }])).rejects.toMatchObject({
      message: expect.stringMatching(/TwoTower for model/),
    });
  });
});

describe('tower transfer', () => {
  test('with the shared tower kept frozen, the target holds the source tower bit for bit', async () => {
    const { source, target } = small();
    for (const kind of ['shared-items', 'shared-users'] as const) {
      const ctx = contextOf(source, target);
      const r = await towerTransferModels(ctx, kind, { sharedLrMultiplier: 0 });
      expect(r.phases.map((p) => p.name)).toEqual(['shared tower frozen']);
      if (kind === 'shared-items') {
        expect(r.shared).toEqual(['item.dense.projection.weight', 'item.dense.projection.bias']);
        for (const name of r.shared) expect(r.target.parameter(name).table.data).toEqual(r.source.parameter(name).table.data);
        // The target's own user tower trained.
        expect(r.phases[0]!.trainable).toContain('user.embedding');
      } else {
        expect(r.shared).toEqual(['user.embedding']);
        const d = SETTINGS.dim;
        const s = r.source.parameter('user.embedding').table.data;
        const t = r.target.parameter('user.embedding').table.data;
        ctx.alignment.users.source.forEach((row, k) => {
          const u = ctx.alignment.users.target[k]!;
          expect(t.subarray(u * d, (u + 1) * d)).toEqual(s.subarray(row * d, (row + 1) * d));
        });
      }
      // The flags are back to trainable everywhere.
      expect(r.target.parameters().every((p) => p.trainable && p.lrMultiplier === 1)).toBe(true);
    }
  });

  test('both strategies beat popularity and target-only on cold users of planted domains', async () => {
    const { source, target } = small();
    const report = await transfer(source, target, {
      strategies: ['towers-shared-items', 'towers-shared-users'],
      seeds: 1,
      settings: SETTINGS,
    });
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics.ndcg.mean;
    for (const name of ['towers-shared-items', 'towers-shared-users']) {
      expect(cold(name)).toBeGreaterThan(cold('popularity') + 0.02);
      expect(cold(name)).toBeGreaterThan(cold('target-only') + 0.02);
    }
  });

  test('cold items (no training rows) are placed by their content', async () => {
    const { source, target } = small();
    const alignment = alignDomains(source, target);
    const split = coldUserSplit(alignment, { seed: 1 });
    // A fifth of the target items lose every training row.
    const coldItem = (i: number) => i % 5 === 0;
    const keep = Int32Array.from(Array.from(split.train.items.keys()).filter((row) => !coldItem(split.train.items[row]!)));
    const ctx = contextOf(source, target, { ...split, train: split.train.subset(keep) });
    const r = await towerTransferModels(ctx, 'shared-items');
    const users = await r.target.encode('user', 1);
    const items = await r.target.encode('item', 1);
    // Each warm test row on a cold item, ranked among all cold items the user has not seen: AUC.
    const coldItems = Array.from({ length: target.numItems }, (_, i) => i).filter(coldItem);
    const seen = new Set(Array.from(target.interactions.users, (u, k) => `${u}:${target.interactions.items[k]}`));
    const score = (u: number, i: number) => {
      let s = 0;
      for (let c = 0; c < items.dim; c++) s += users.data[u * items.dim + c]! * items.data[i * items.dim + c]!;
      return s;
    };
    let auc = 0;
    let n = 0;
    const test = ctx.split.test;
    for (let k = 0; k < test.size; k++) {
      const u = test.users[k]!;
      const i = test.items[k]!;
      if (!coldItem(i) || ctx.split.isCold[u]) continue;
      const negatives = coldItems.filter((j) => !seen.has(`${u}:${j}`));
      const mine = score(u, i);
      auc += negatives.filter((j) => score(u, j) < mine).length / negatives.length;
      n++;
    }
    expect(n).toBeGreaterThan(20);
    expect(auc / n).toBeGreaterThan(0.7);
    // Their id rows never trained: content alone placed them.
    const ids = r.target.parameter('item.embedding').table.data;
    for (const i of coldItems) expect(ids.subarray(i * SETTINGS.dim, (i + 1) * SETTINGS.dim).every((x) => x === 0)).toBe(true);
  });

  test('item text embeddings from an ONNX encoder equal the same vectors given directly', async () => {
    const full = small();
    const source = withoutContent(full.source);
    const target = withoutContent(full.target);
    // A tiny "text encoder": 16 content values → 6 through a fixed matrix.
    const w = Float32Array.from({ length: 16 * 6 }, (_, i) => Math.cos(i * 0.7));
    const encoder = encodeModel({
      graph: {
        name: 'toy_text',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 16] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 6] }],
        initializers: [{ name: 'w', dims: [16, 6], values: w }],
        nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      },
    });
    const input = (d: Domain) => ({ x: { data: d.itemFeatures!.dense!.values, dims: [d.numItems, 16] } });
    const byEncoder = await towerTransferModels(contextOf(source, target), 'shared-items', {
      sharedLrMultiplier: 0,
      itemEmbeddings: { encoder, source: input(full.source), target: input(full.target) },
    });
    const dense = byEncoder.target.config().item.dense!;
    expect(dense.dim).toBe(6);
    const x = full.target.itemFeatures!.dense!.values;
    for (const [i, c] of [
      [0, 0],
      [7, 3],
      [99, 5],
    ]) {
      let want = 0;
      for (let f = 0; f < 16; f++) want += x[i * 16 + f]! * w[f * 6 + c]!;
      expect(dense.values[i * 6 + c]).toBeCloseTo(want, 4);
    }
    const direct = await towerTransferModels(contextOf(source, target), 'shared-items', {
      sharedLrMultiplier: 0,
      itemEmbeddings: { source: byEncoder.source.config().item.dense!.values, target: dense.values, dim: 6 },
    });
    expect((await direct.target.encode('item', 1)).data).toEqual((await byEncoder.target.encode('item', 1)).data);
  });

  test('bad input is typed and names what is wrong', async () => {
    const { source, target } = small();
    const bare = contextOf(withoutContent(source), withoutContent(target));
    await expect(towersSharedItems().run(bare)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/item content in both domains.*target\.itemFeatures/),
    });
    // Without options.strategies the report leaves it out; asked for by name, it says why.
    const report = await transfer(withoutContent(source), withoutContent(target), { seeds: 1, settings: { ...SETTINGS, epochs: 2 } });
    const names = report.results.map((r) => r.strategy);
    expect(names).toContain('towers-shared-users');
    expect(names).not.toContain('towers-shared-items');
    await expect(
      transfer(withoutContent(source), withoutContent(target), { seeds: 1, strategies: ['towers-shared-items'], settings: SETTINGS }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/target\.itemFeatures/) });
    const narrow = new Domain({
      name: 'narrow',
      interactions: source.interactions,
      users: source.users,
      items: source.items,
      itemFeatures: { dense: { values: new Float32Array(source.numItems * 3), dim: 3 } },
    });
    await expect(towersSharedItems().run(contextOf(narrow, target))).rejects.toMatchObject({ code: 'ERR_DIMENSION_MISMATCH' });
    const ctx = contextOf(source, target);
    expect(() => towerTransferModels(ctx, 'shared-users', { sharedLrMultiplier: -1 })).toThrow(/options\.sharedLrMultiplier/);
    expect(() => towerTransferModels(ctx, 'shared-items', { mlp: [] })).toThrow(/options\.mlp/);
    expect(() =>
      towerTransferModels(ctx, 'shared-items', { itemEmbeddings: { source: new Float32Array(3), target: [1, 2] as never, dim: 1 } }),
    ).toThrow(/options\.itemEmbeddings\.target/);
    await expect(
      towerTransferModels(ctx, 'shared-items', { itemEmbeddings: { source: new Float32Array(3), target: new Float32Array(3), dim: 1 } }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/120 source items.*options\.itemEmbeddings\.source/) });
  });
});

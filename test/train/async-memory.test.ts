// Async training reads and writes JS memory in place after the call returns. A transferred
// (detached) ArrayBuffer would free that memory under the kernel, so everything the library hands
// to async native work lives on SharedArrayBuffers (which cannot be detached), and the addon
// refuses detachable memory outright (a reviewer crashed the process this way before the fix).
import { mfChunkSpec } from '../support/mf-chunk-spec';
import { Interactions, MatrixFactorization, Trainer, TwoTower } from '../../lib';
import { native } from '../../lib/core/native';
import { MfLoss, SamplerKind } from '../../lib/core/native-constants';

test('the tables, optimizer state and interactions training uses cannot be transferred away', async () => {
  const data = new Interactions({ users: [0, 1, 2, 1], items: [1, 2, 0, 0] });
  const m = new MatrixFactorization({ users: 3, items: 3, dim: 4, itemBias: true });
  m.itemEmbedding.freezeRows([2]);
  await Trainer.fit(m, data, { optimizer: { type: 'adam' }, epochs: 1, threads: 1 });
  const buffers = [
    m.userEmbedding.table.data.buffer,
    m.itemEmbedding.table.data.buffer,
    m.itemBias!.table.data.buffer,
    m.userEmbedding.state!.values.buffer,
    data.users.buffer,
    data.items.buffer,
    data.byUser().indices.buffer,
    data.groupedByUser().offsets.buffer,
    data.groupedByUser().indices.buffer,
  ];
  for (const b of buffers) expect(() => structuredClone(b, { transfer: [b as ArrayBuffer] })).toThrow();
  const t = new TwoTower({ users: 3, items: 3, dim: 4, user: { mlp: [4] } });
  await Trainer.fit(t, data, { epochs: 1, batchSize: 2, threads: 1 });
  for (const p of t.parameters())
    expect(() => structuredClone(p.table.data.buffer, { transfer: [p.table.data.buffer as ArrayBuffer] })).toThrow();
});

test('groupedByUser keeps every interaction, sorted per user; byUser keeps distinct items', () => {
  const data = new Interactions({ users: [2, 0, 2, 1, 2, 0], items: [3, 1, 0, 2, 3, 1], numUsers: 4, numItems: 4 });
  const g = data.groupedByUser();
  expect(Array.from(g.offsets)).toEqual([0, 2, 3, 6, 6]);
  expect(Array.from(g.indices)).toEqual([1, 1, 2, 0, 3, 3]);
  expect(data.groupedByUser()).toBe(g); // computed once
  const d = data.byUser();
  expect(Array.from(d.offsets)).toEqual([0, 1, 2, 4, 4]);
  expect(Array.from(d.indices)).toEqual([1, 2, 0, 3]);
});

test('the addon refuses detachable memory for async training, naming the argument', () => {
  const m = new MatrixFactorization({ users: 2, items: 3, dim: 4 });
  const shared = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
  const spec = mfChunkSpec({
    user: { w: new Float32Array(8), dim: 4, state: null, frozen: null, lrMult: 1 }, // plain ArrayBuffer
    item: { w: m.itemEmbedding.table.data, dim: 4, state: null, frozen: null, lrMult: 1 },
    records: shared(2),
    lr: 0.1,
  });
  expect(() => native.mfChunk(spec)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'spec.user.w', message: expect.stringContaining('spec.user.w') }),
  );
  expect(() => native.mfChunk({ ...spec, user: { ...spec.user, w: m.userEmbedding.table.data }, records: new Int32Array(2) })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('spec.records') }),
  );
  // Records sized for another layout (stride 4 is for rejection of known positives).
  expect(() => native.mfChunk({ ...spec, user: { ...spec.user, w: m.userEmbedding.table.data }, records: shared(4) })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('spec.records') }),
  );
  const records = {
    loss: MfLoss.bpr,
    numItems: 3,
    sampler: { kind: SamplerKind.uniform },
    maxRejections: 20,
    users: shared(1),
    items: shared(1),
    values: null,
    posOffsets: null,
    posIndices: null,
    seed: 0,
    epoch: 0,
  };
  expect(() => native.shuffleRecords({ ...records, records: new Int32Array(2) })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('spec.records') }),
  );
  expect(() => native.shuffleRecords({ ...records, records: shared(3) })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('spec.records') }),
  );
  expect(() => native.shuffleRecords({ ...records, loss: MfLoss.mse, records: shared(3) })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('spec.values') }),
  );
  // The grouped lists must cover the interactions: the records are built from them.
  expect(() => native.shuffleRecords({ ...records, posOffsets: shared(2), posIndices: shared(2), records: shared(3) })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', argument: 'spec.posIndices', message: expect.stringContaining('spec.posIndices') }),
  );
  expect(() =>
    native.shuffleRecords({
      ...records,
      sampler: { kind: SamplerKind.alias, prob: new Float32Array(new SharedArrayBuffer(8)), alias: shared(2) },
      records: shared(2),
    }),
  ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('spec.sampler.prob') }));
  const table = m.itemEmbedding.table.data;
  expect(() => native.mfChunk({ ...spec, user: { ...spec.user, w: m.userEmbedding.table.data, dim: 2.5 } })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('spec.user.dim') }),
  );
  expect(() => native.mfChunk({ ...spec, user: { ...spec.user, w: table }, item: { ...spec.item, w: table } })).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', argument: 'spec.user.w', message: expect.stringContaining('separate') }),
  );
  expect(() => native.mfChunk({ ...spec, user: { ...spec.user, w: m.userEmbedding.table.data }, loss: 1.5 as MfLoss })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('spec.loss') }),
  );
  expect(() => native.shuffleSchedule(new Int32Array(4), 0, 0)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('schedule') }),
  );
});

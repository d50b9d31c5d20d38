// ONNX export of towers and scoring graphs, and ONNX encoders, checked against recbridge itself
// through onnxruntime-node (a devDependency). Every model is built here; nothing is downloaded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';

import { MatrixFactorization, TwoTower, buildTowerModel, encodeModel, encodeWithOnnx, exportOnnx, topK, towerInputs } from '../../lib';
import { ONNX_MAX_WEIGHT_BYTES, checkOnnxSize } from '../../lib/io/onnx/export';
import { DataType, attribute } from '../../lib/io/onnx/model';
import { tempDir, towerWithState } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runTower(
  bytes: Uint8Array,
  inputs: Record<string, { data: BigInt64Array | Float32Array; dims: number[] }>,
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [name, v] of Object.entries(inputs))
      feeds[name] = new ort.Tensor(v.data instanceof Float32Array ? 'float32' : 'int64', v.data, v.dims);
    return (await session.run(feeds)).embedding.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function report(label: string, diff: number): void {
  process.stderr.write(`onnx parity ${label}: max |diff| = ${diff.toExponential(2)}\n`);
}

describe('tower export parity with onnxruntime', () => {
  it.each([
    ['dot', 'user'],
    ['dot', 'item'],
    ['cosine', 'user'],
    ['cosine', 'item'],
  ] as const)('two-tower %s %s tower (id + features/dense + MLP)', async (similarity, side) => {
    const m = towerWithState(similarity);
    const rows = Int32Array.from({ length: side === 'user' ? m.users : m.items }, (_, i) => i);
    const expected = await m.encode(side, 1);
    const got = await runTower(buildTowerModel(m, side), towerInputs(m, side, rows));
    const diff = maxAbsDiff(got, expected.data);
    report(`two-tower ${similarity} ${side}`, diff);
    expect(diff).toBeLessThan(1e-5);
  });

  it('a tower without id embedding, including an empty feature bag', async () => {
    const offsets = Int32Array.of(0, 2, 2, 5);
    const m = new TwoTower({
      users: 4,
      items: 3,
      dim: 6,
      item: { idEmbedding: false, features: { vocabulary: 7, bags: { offsets, indices: Int32Array.of(1, 2, 3, 4, 6) } } },
    });
    const expected = await m.encodeItems();
    const got = await runTower(buildTowerModel(m, 'item'), towerInputs(m, 'item', [0, 1, 2]));
    expect(Array.from(got.subarray(6, 12))).toEqual([0, 0, 0, 0, 0, 0]);
    const diff = maxAbsDiff(got, expected.data);
    report('two-tower features only', diff);
    expect(diff).toBeLessThan(1e-6);
  });

  it.each([false, true])('matrix factorization towers are exact lookups (itemBias %s)', async (itemBias) => {
    const m = new MatrixFactorization({ users: 9, items: 13, dim: 5, itemBias, seed: 3 });
    if (m.itemBias) m.itemBias.table.data.forEach((_, i, a) => (a[i] = i / 10));
    const items = await runTower(
      buildTowerModel(m, 'item'),
      towerInputs(
        m,
        'item',
        Array.from({ length: 13 }, (_, i) => i),
      ),
    );
    expect(Array.from(items)).toEqual(Array.from(m.encodeItems().data));
    const users = await runTower(buildTowerModel(m, 'user'), towerInputs(m, 'user', [4]));
    expect(Array.from(users)).toEqual(Array.from(m.userQuery(4)));
  });

  it('exportOnnx writes towers and a scoring graph that agrees with topK', async () => {
    const m = towerWithState('cosine');
    const tower = path.join(dir, 'user.onnx');
    const scoring = path.join(dir, 'scoring.onnx');
    expect(await exportOnnx(tower, m, { part: 'user-tower' })).toBe(fs.statSync(tower).size);
    await exportOnnx(scoring, m, { part: 'scoring', k: 5 });
    const users = await m.encodeUsers();
    const items = await m.encodeItems();
    const session = await ort.InferenceSession.create(scoring);
    const out = await session.run({ query: new ort.Tensor('float32', users.data.slice(0, 3 * users.dim), [3, users.dim]) });
    await session.release();
    for (let u = 0; u < 3; u++) {
      const want = topK(items, users.row(u), 5, { threads: 1 });
      expect(Array.from((out.indices.data as BigInt64Array).subarray(u * 5, u * 5 + 5), Number)).toEqual(Array.from(want.indices));
    }
    await expect(exportOnnx(path.join(dir, 'x.onnx'), m, { part: 'nope' as 'scoring' })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
    });
  });
});

describe('encodeWithOnnx', () => {
  // A toy "text encoder": token embeddings → last_hidden_state [batch, tokens, 4].
  const vocab = 10;
  const table = Float32Array.from({ length: vocab * 4 }, (_, i) => Math.cos(i));
  const textEncoder = encodeModel({
    graph: {
      name: 'toy_text',
      inputs: [
        { name: 'input_ids', elemType: DataType.INT64, shape: ['batch', 'tokens'] },
        { name: 'attention_mask', elemType: DataType.INT64, shape: ['batch', 'tokens'] },
      ],
      outputs: [{ name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch', 'tokens', 4] }],
      initializers: [{ name: 'table', dims: [vocab, 4], values: table }],
      nodes: [
        { opType: 'Gather', inputs: ['table', 'input_ids'], outputs: ['h'] },
        // The mask is an input of real encoders; this toy only has to consume it.
        { opType: 'Shape', inputs: ['attention_mask'], outputs: ['mask_shape'] },
        { opType: 'Identity', inputs: ['h'], outputs: ['last_hidden_state'] },
      ],
    },
  });
  const n = 23;
  const tokens = 5;
  const ids = Int32Array.from({ length: n * tokens }, (_, i) => (i * 7) % vocab);
  const mask = BigInt64Array.from({ length: n * tokens }, (_, i) => (i % tokens < 1 + (((i / tokens) | 0) % tokens) ? 1n : 0n));

  function expectedMean(r: number): number[] {
    const out = [0, 0, 0, 0];
    let w = 0;
    for (let s = 0; s < tokens; s++) {
      if (!mask[r * tokens + s]) continue;
      w++;
      for (let k = 0; k < 4; k++) out[k] += table[ids[r * tokens + s] * 4 + k];
    }
    return out.map((x) => x / w);
  }

  it('mean-pools a token output with the attention mask, in batches, Int32 ids fed as int64', async () => {
    const file = path.join(dir, 'text.onnx');
    fs.writeFileSync(file, textEncoder);
    const progress: number[] = [];
    const r = await encodeWithOnnx(
      file,
      { input_ids: { data: ids, dims: [n, tokens] }, attention_mask: { data: mask, dims: [n, tokens] } },
      { batchSize: 7, pooling: 'mean', onProgress: (d) => progress.push(d) },
    );
    expect([r.rows, r.dim]).toEqual([n, 4]);
    expect(r.values.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(progress).toEqual([7, 14, 21, 23]);
    for (let row = 0; row < n; row++) {
      const want = expectedMean(row);
      for (let k = 0; k < 4; k++) expect(r.values[row * 4 + k]).toBeCloseTo(want[k], 6);
    }
    const first = await encodeWithOnnx(
      textEncoder,
      { input_ids: { data: ids, dims: [n, tokens] }, attention_mask: { data: mask, dims: [n, tokens] } },
      { pooling: 'first', normalize: true },
    );
    const v = Array.from(table.subarray(ids[tokens] * 4, ids[tokens] * 4 + 4));
    const norm = Math.hypot(...v);
    for (let k = 0; k < 4; k++) expect(first.values[4 + k]).toBeCloseTo(v[k] / norm, 6);
  });

  it('passes rank-2 outputs through and gives the features to a TwoTower', async () => {
    const linear = encodeModel({
      graph: {
        name: 'linear',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        initializers: [{ name: 'w', dims: [3, 2], values: Float32Array.of(1, 0, 0, 1, 1, 1) }],
        nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      },
    });
    const x = Float32Array.from({ length: 10 * 3 }, (_, i) => i);
    const r = await encodeWithOnnx(linear, { x: { data: x, dims: [10, 3] } }, { batchSize: 4 });
    expect(Array.from(r.values.subarray(0, 4))).toEqual([0 + 2, 1 + 2, 3 + 5, 4 + 5]);
    const m = new TwoTower({ users: 2, items: 10, dim: 4, item: { dense: { values: r.values, dim: r.dim } } });
    expect((await m.encodeItems()).rows).toBe(10);
  });

  it('refuses outputs whose rows are not the batch’s entities, and non-finite outputs', async () => {
    // Sums the batch into one row: [1, 2] for any batch.
    const summed = encodeModel({
      graph: {
        name: 'summed',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 2] }],
        initializers: [{ name: 'axes', dims: [1], values: BigInt64Array.of(0n) }],
        nodes: [{ opType: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attributes: [attribute.int('keepdims', 1)] }],
      },
    });
    // Doubles the rows: [2b, 2].
    const doubled = encodeModel({
      graph: {
        name: 'doubled',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['rows', 2] }],
        nodes: [{ opType: 'Concat', inputs: ['x', 'x'], outputs: ['y'], attributes: [attribute.int('axis', 0)] }],
      },
    });
    // log(x): -Infinity and NaN for x ≤ 0.
    const logged = encodeModel({
      graph: {
        name: 'logged',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['batch', 2] }],
        nodes: [{ opType: 'Log', inputs: ['x'], outputs: ['y'] }],
      },
    });
    const x = { x: { data: Float32Array.from({ length: 8 }, (_, i) => i + 1), dims: [4, 2] } };
    for (const model of [summed, doubled])
      await expect(encodeWithOnnx(model, x, { batchSize: 3 })).rejects.toMatchObject({
        code: 'ERR_OUT_OF_RANGE',
        message: expect.stringMatching(/dims starting with the batch size 3/),
      });
    expect((await encodeWithOnnx(logged, x)).rows).toBe(4);
    const zero = { x: { data: Float32Array.of(1, 2, 3, 4, 0, 6, 7, 8), dims: [4, 2] } };
    await expect(encodeWithOnnx(logged, zero)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/finite values.*entity 2/),
    });
  });

  it('a missing file is ENOENT and a damaged one ERR_CORRUPT_FILE naming it, never an uncoded Error', async () => {
    const x = { x: { data: new Float32Array(4), dims: [2, 2] } };
    await expect(encodeWithOnnx(path.join(dir, 'missing.onnx'), x)).rejects.toMatchObject({ code: 'ENOENT' });
    const damaged = path.join(dir, 'damaged.onnx');
    fs.writeFileSync(damaged, Buffer.from('this is not a protobuf at all, just text'));
    await expect(encodeWithOnnx(damaged, x)).rejects.toMatchObject({
      code: 'ERR_CORRUPT_FILE',
      message: expect.stringContaining(`${damaged} is corrupt: onnxruntime cannot load it`),
    });
    await expect(encodeWithOnnx(new Uint8Array(16).fill(7), x)).rejects.toMatchObject({ code: 'ERR_CORRUPT_FILE' });
  });

  it('names what is wrong with the inputs and options', async () => {
    const feeds = { input_ids: { data: ids, dims: [n, tokens] }, attention_mask: { data: mask, dims: [n, tokens] } };
    await expect(encodeWithOnnx(textEncoder, { input_ids: feeds.input_ids })).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: expect.stringMatching(/missing attention_mask/),
    });
    await expect(encodeWithOnnx(textEncoder, feeds)).rejects.toMatchObject({ message: expect.stringMatching(/options\.pooling/) });
    await expect(
      encodeWithOnnx(textEncoder, { ...feeds, attention_mask: { data: mask, dims: [n - 1, tokens] } }, { pooling: 'mean' }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/inputs\.attention_mask\.data/) });
    const signal = AbortSignal.abort();
    await expect(encodeWithOnnx(textEncoder, feeds, { pooling: 'mean', signal })).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ABORT_ERR',
    });
  });
});

describe('onnxruntime-node is optional', () => {
  it('is not loaded when recbridge is imported', () => {
    jest.isolateModules(() => {
      jest.doMock('onnxruntime-node', () => {
        throw new Error('onnxruntime-node was loaded at import time');
      });
      expect(() => require('../../lib')).not.toThrow();
    });
  });

  it('without it, the ONNX functions say how to install it', async () => {
    let encode!: typeof encodeWithOnnx;
    jest.isolateModules(() => {
      jest.doMock('onnxruntime-node', () => {
        throw new Error("Cannot find module 'onnxruntime-node'");
      });
      encode = (require('../../lib') as { encodeWithOnnx: typeof encodeWithOnnx }).encodeWithOnnx;
    });
    await expect(encode(textEncoderBytes(), {})).rejects.toMatchObject({
      code: 'ERR_OPTIONAL_DEPENDENCY',
      message: expect.stringContaining('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node'),
    });
  });
});

function textEncoderBytes(): Uint8Array {
  return encodeModel({
    graph: {
      name: 'g',
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1] }],
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
    },
  });
}

describe('ONNX size limit', () => {
  it('refuses weights past protobuf’s 2 GiB message limit with a RangeError that says what to do instead', () => {
    expect(() => checkOnnxSize('scoring', ONNX_MAX_WEIGHT_BYTES)).not.toThrow();
    expect(() => checkOnnxSize('scoring', 2 ** 31)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/2 GiB message limit.*writeNpy/) }),
    );
  });
});

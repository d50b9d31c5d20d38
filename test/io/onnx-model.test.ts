import type * as Ort from 'onnxruntime-node';

import { EmbeddingTable, normalGenerator, topK } from '../../lib';
import { DataType, attribute, buildScoringModel, encodeModel } from '../../lib/io/onnx/model';
import { ProtoWriter } from '../../lib/io/onnx/protobuf';

function loadOrt(): typeof Ort {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node') as typeof Ort;
  } catch (err) {
    throw new Error(
      `onnxruntime-node could not be loaded (${(err as Error).message}). It is a devDependency of recbridge ` +
        'and these parity tests need it: run "npm install" (or "npm rebuild onnxruntime-node").',
    );
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function randomQueries(n: number, dim: number, seed: number): Float32Array {
  const normal = normalGenerator(seed);
  return Float32Array.from({ length: n * dim }, () => normal());
}

describe('ProtoWriter', () => {
  it('encodes varints as in the protobuf encoding guide', () => {
    const w = new ProtoWriter();
    w.rawVarint(1)
      .rawVarint(150)
      .rawVarint(300)
      .rawVarint(2 ** 32)
      .rawVarint(2 ** 53 - 1);
    expect(hex(w.finish())).toBe('01' + '9601' + 'ac02' + '8080808010' + 'ffffffffffffff0f');
  });

  it('encodes negative and 64-bit integers in ten bytes, two’s complement', () => {
    expect(hex(new ProtoWriter().rawVarint(-1).finish())).toBe('ffffffffffffffffff01');
    expect(hex(new ProtoWriter().rawVarint(-2n).finish())).toBe('feffffffffffffffff01');
    expect(hex(new ProtoWriter().rawVarint(2n ** 63n).finish())).toBe('80808080808080808001');
    expect(() => new ProtoWriter().rawVarint(2n ** 64n)).toThrow(RangeError);
    expect(() => new ProtoWriter().rawVarint(0.5)).toThrow(RangeError);
  });

  it('encodes keys, strings, nested messages, fixed32 and floats', () => {
    // Field 1 varint 150; field 2 string "testing"; field 3 holding a message with field 1 = 150.
    const w = new ProtoWriter().int(1, 150).string(2, 'testing').message(3, new ProtoWriter().int(1, 150));
    expect(hex(w.finish())).toBe('089601' + '120774657374696e67' + '1a03089601');
    // Key (5 << 3 | 5) = 0x2d, then little-endian bits: 1.0f = 0x3f800000.
    expect(hex(new ProtoWriter().float(5, 1).fixed32(6, 0x01020304).finish())).toBe('2d0000803f' + '3504030201');
    expect(hex(new ProtoWriter().bool(16, true).finish())).toBe('800101');
  });

  it('encodes packed repeated fields', () => {
    // The guide's example: field 4 packed [3, 270, 86942] → 22 06 03 8e 02 9e a7 05.
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
    expect(hex(new ProtoWriter().packedInts(1, BigInt64Array.of(-1n)).finish())).toBe('0a0affffffffffffffffff01');
    expect(hex(new ProtoWriter().packedFloats(4, Float32Array.of(1, -2)).finish())).toBe('22080000803f000000c0');
  });

  it('keeps large byte payloads intact across nesting', () => {
    const payload = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    const bytes = new ProtoWriter().int(1, 7).message(2, new ProtoWriter().bytes(9, payload).int(3, 1)).finish();
    // 08 07 | 12 <len 5005 = 8d 27> | 4a <len 5000 = 88 27> payload | 18 01
    expect(hex(bytes.subarray(0, 8))).toBe('0807128d274a8827');
    expect(bytes.length).toBe(8 + 5000 + 2);
    expect(Buffer.from(bytes.subarray(8, 5008)).equals(Buffer.from(payload))).toBe(true);
    expect(hex(bytes.subarray(5008))).toBe('1801');
  });

  it('rejects reserved or out-of-range field numbers and reuse after finish', () => {
    expect(() => new ProtoWriter().int(0, 1)).toThrow(RangeError);
    expect(() => new ProtoWriter().int(19000, 1)).toThrow(RangeError);
    expect(() => new ProtoWriter().int(2 ** 29, 1)).toThrow(RangeError);
    const w = new ProtoWriter().int(1, 1);
    w.finish();
    expect(() => w.int(1, 2)).toThrow(/already finished/);
  });
});

describe('encodeModel', () => {
  const identity = {
    name: 'g',
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['n', 3] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['n', 3] }],
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
  };

  it('starts with ir_version 8 and the default opset import', () => {
    const bytes = encodeModel({ graph: identity });
    // 08 08: ir_version = 8 | 42 04 0a 00 10 11: opset_import { domain: "", version: 17 }
    expect(hex(bytes.subarray(0, 8))).toBe('0808' + '42040a001011');
  });

  it('names the wrong argument when the graph is mis-wired', () => {
    const dangling = { ...identity, nodes: [{ opType: 'Identity', inputs: ['nope'], outputs: ['y'] }] };
    expect(() => encodeModel({ graph: dangling })).toThrow(/model\.graph\.nodes\[0\]\.inputs\[0\]/);
    const badTensor = { ...identity, initializers: [{ name: 'w', dims: [2, 2], values: new Float32Array(3) }] };
    expect(() => encodeModel({ graph: badTensor })).toThrow(/model\.graph\.initializers\[0\]\.values/);
  });

  it('produces models onnxruntime runs (attributes, int64 initializers, symbolic dims)', async () => {
    const ort = loadOrt();
    const bytes = encodeModel({
      metadata: { purpose: 'test' },
      graph: {
        name: 'g',
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['n', 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['n', 2, 2] }],
        initializers: [{ name: 'shape', dims: [3], values: BigInt64Array.of(-1n, 2n, 2n) }],
        nodes: [
          { opType: 'LeakyRelu', inputs: ['x'], outputs: ['r'], attributes: [attribute.float('alpha', 0.5)] },
          { opType: 'Reshape', inputs: ['r', 'shape'], outputs: ['y'] },
        ],
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, -2, 3, -4, -1, 0, 2, 8), [2, 4]) });
    expect(out.y.dims).toEqual([2, 2, 2]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([1, -1, 3, -2, -0.5, 0, 2, 8]);
    await session.release();
  });
});

describe('buildScoringModel', () => {
  const rows = 500;
  const dim = 16;
  const k = 10;
  const table = EmbeddingTable.create(rows, dim, { init: 'normal', seed: 42 });
  let ort: typeof Ort;
  let session: Ort.InferenceSession;

  beforeAll(async () => {
    ort = loadOrt();
    session = await ort.InferenceSession.create(buildScoringModel({ items: table.data, rows, dim, k }));
  });

  afterAll(async () => {
    await session?.release();
  });

  function expectSameTopK(values: Float32Array, indices: BigInt64Array, query: Float32Array, kExpected: number): void {
    const expected = topK(table, query, kExpected, { threads: 1 });
    expect(Array.from(indices, Number)).toEqual(Array.from(expected.indices));
    for (let j = 0; j < values.length; j++) {
      expect(Math.abs(values[j] - expected.scores[j])).toBeLessThanOrEqual(1e-4 * Math.abs(expected.scores[j]));
    }
  }

  it('declares the expected inputs and outputs', () => {
    expect(session.inputNames).toEqual(['query']);
    expect(session.outputNames).toEqual(['values', 'indices']);
  });

  it('matches topK for single queries', async () => {
    const queries = randomQueries(20, dim, 7);
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const out = await session.run({ query: new ort.Tensor('float32', query, [1, dim]) });
      expect(out.values.dims).toEqual([1, k]);
      expectSameTopK(out.values.data as Float32Array, out.indices.data as BigInt64Array, query, k);
    }
  });

  it('matches topK for a batch (symbolic batch dimension)', async () => {
    const nq = 8;
    const queries = randomQueries(nq, dim, 8);
    const out = await session.run({ query: new ort.Tensor('float32', queries, [nq, dim]) });
    expect(out.indices.dims).toEqual([nq, k]);
    const values = out.values.data as Float32Array;
    const indices = out.indices.data as BigInt64Array;
    for (let q = 0; q < nq; q++) {
      expectSameTopK(
        values.subarray(q * k, (q + 1) * k),
        indices.subarray(q * k, (q + 1) * k),
        queries.subarray(q * dim, (q + 1) * dim),
        k,
      );
    }
  });

  it('clamps k to the number of rows and breaks ties by the lower index, like topK', async () => {
    // 40 rows that repeat 8 distinct vectors: every score occurs five times.
    const base = EmbeddingTable.create(8, 4, { init: 'normal', seed: 3 });
    const small = new EmbeddingTable(
      Float32Array.from({ length: 40 * 4 }, (_, i) => base.data[i % 32]),
      4,
    );
    const s = await ort.InferenceSession.create(buildScoringModel({ items: small.data, rows: 40, dim: 4, k: 100 }));
    const query = randomQueries(1, 4, 11);
    const out = await s.run({ query: new ort.Tensor('float32', query, [1, 4]) });
    const expected = topK(small, query, 100, { threads: 1 });
    expect(expected.indices.length).toBe(40);
    expect(Array.from(out.indices.data as BigInt64Array, Number)).toEqual(Array.from(expected.indices));
    await s.release();
  });

  it('rejects specs that do not describe the items', () => {
    expect(() => buildScoringModel({ items: new Float32Array(10), rows: 3, dim: 4, k: 1 })).toThrow(/spec\.items/);
    expect(() => buildScoringModel({ items: new Float32Array(12), rows: 3, dim: 4, k: 0 })).toThrow(/spec\.k/);
  });
});

// The addon re-checks everything that could make it read or write out of bounds, so a caller that
// bypasses lib/ gets a coded error naming the argument (the spec field), never a crash. These call
// the binding directly on purpose.
import * as path from 'node:path';

import { ArgumentRangeError, ArgumentTypeError, DetachedBufferError, RecbridgeError } from '../../lib/core/errors';
import {
  HOT_FIELD_ORDER,
  native,
  wrapBinding,
  type KnnGraphHandle,
  type KnnRecommendSpec,
  type NativeBinding,
  type QuantTopKSpec,
  type TopKBatchSpec,
  type TopKSpec,
} from '../../lib/core/native';
import { PoolMode, QuantKind } from '../../lib/core/native-constants';

const f32 = (n: number) => new Float32Array(n);
const i32 = (...xs: number[]) => Int32Array.from(xs);

function thrown(fn: () => unknown): { code?: string; argument?: string; message?: string; name?: string } | undefined {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; argument?: string; message?: string };
  }
  return undefined;
}

// Test tables call it with rest parameters: jest passes `done` to a function declaring more
// parameters than its row has values.
function expectCode(fn: () => unknown, code: string, argument: string, mentions = argument) {
  const err = thrown(fn);
  expect(err?.code).toBe(code);
  expect(err?.argument).toBe(argument);
  expect(err?.message).toContain(mentions);
}

const T = f32(10 * 4); // 10 rows, dim 4

const topK = (s: Partial<TopKSpec>) =>
  native.topK({
    table: T,
    dim: 4,
    query: f32(4),
    k: 1,
    exclude: null,
    block: null,
    allow: null,
    threads: 1,
    outIndices: i32(0),
    outScores: f32(1),
    ...s,
  });
const batch = (s: Partial<TopKBatchSpec>) =>
  native.topKBatch({
    table: T,
    dim: 4,
    queries: f32(4),
    k: 1,
    excludeOffsets: null,
    excludeIndices: null,
    block: null,
    allow: null,
    threads: 1,
    cancel: null,
    ...s,
  });

test.each<[string, () => unknown, string, string, string?]>([
  [
    'spec is not an object',
    () => native.scoreItems(4 as unknown as Parameters<typeof native.scoreItems>[0]),
    'ERR_INVALID_ARG_TYPE',
    'spec',
  ],
  ['table is not a typed array', () => topK({ table: {} as Float32Array }), 'ERR_INVALID_ARG_TYPE', 'table'],
  ['table is an Int32Array', () => topK({ table: new Int32Array(40) as unknown as Float32Array }), 'ERR_INVALID_ARG_TYPE', 'table'],
  ['table is missing', () => topK({ table: undefined }), 'ERR_INVALID_ARG_TYPE', 'table'],
  ['dim is 0', () => topK({ dim: 0 }), 'ERR_OUT_OF_RANGE', 'dim'],
  ['dim is not a number', () => topK({ dim: 'x' as unknown as number }), 'ERR_INVALID_ARG_TYPE', 'dim'],
  ['table length not a multiple of dim', () => topK({ table: f32(10) }), 'ERR_INVALID_ARG_VALUE', 'table', 'multiple of dim'],
  ['query too short', () => topK({ query: f32(3) }), 'ERR_INVALID_ARG_VALUE', 'query'],
  ['k is 0', () => topK({ k: 0 }), 'ERR_OUT_OF_RANGE', 'k'],
  ['k is fractional', () => topK({ k: 2.5, outIndices: i32(0, 0, 0), outScores: f32(3) }), 'ERR_OUT_OF_RANGE', 'k'],
  ['threads is 0', () => topK({ threads: 0 }), 'ERR_OUT_OF_RANGE', 'threads'],
  ['outIndices shorter than k', () => topK({ k: 5, outScores: f32(5) }), 'ERR_INVALID_ARG_VALUE', 'outIndices'],
  [
    'outScores shorter than k',
    () => topK({ k: 5, outIndices: new Int32Array(5), outScores: f32(2) }),
    'ERR_INVALID_ARG_VALUE',
    'outScores',
  ],
  ['allow index out of range', () => topK({ allow: i32(10) }), 'ERR_OUT_OF_RANGE', 'allow', 'allow[0]'],
  ['exclude index negative', () => topK({ exclude: i32(-1) }), 'ERR_OUT_OF_RANGE', 'exclude', 'exclude[0]'],
  ['block index out of range', () => topK({ block: i32(3, 11) }), 'ERR_OUT_OF_RANGE', 'block', 'block[1]'],
  [
    'scoreItems out too short',
    () => native.scoreItems({ table: T, dim: 4, query: f32(4), items: null, out: f32(9), threads: 1 }),
    'ERR_INVALID_ARG_VALUE',
    'out',
  ],
  [
    'scoreItems subset out of range',
    () => native.scoreItems({ table: T, dim: 4, query: f32(4), items: i32(0, 10), out: f32(2), threads: 1 }),
    'ERR_OUT_OF_RANGE',
    'items',
    'items[1]',
  ],
  [
    'gather index out of range',
    () => native.gather({ table: T, dim: 4, indices: i32(2, 10), out: f32(8) }),
    'ERR_OUT_OF_RANGE',
    'indices',
    'indices[1]',
  ],
  ['gather out too short', () => native.gather({ table: T, dim: 4, indices: i32(2, 3), out: f32(7) }), 'ERR_INVALID_ARG_VALUE', 'out'],
  [
    'pool offsets past the indices',
    () => native.pool({ table: T, dim: 4, offsets: i32(0, 3), indices: i32(1, 2), weights: null, mode: PoolMode.sum, out: f32(4) }),
    'ERR_OUT_OF_RANGE',
    'offsets',
  ],
  [
    'pool offsets decreasing',
    () => native.pool({ table: T, dim: 4, offsets: i32(0, 2, 1, 2), indices: i32(1, 2), weights: null, mode: PoolMode.sum, out: f32(12) }),
    'ERR_OUT_OF_RANGE',
    'offsets',
  ],
  [
    'pool weighted without weights',
    () =>
      native.pool({ table: T, dim: 4, offsets: i32(0, 1), indices: i32(1), weights: null, mode: PoolMode['weighted-sum'], out: f32(4) }),
    'ERR_INVALID_ARG_TYPE',
    'weights',
  ],
  [
    'pool mode 7',
    () => native.pool({ table: T, dim: 4, offsets: i32(0, 1), indices: i32(1), weights: null, mode: 7 as PoolMode, out: f32(4) }),
    'ERR_OUT_OF_RANGE',
    'mode',
  ],
  ['setIsa with a number', () => native.setIsa(3 as unknown as 'scalar'), 'ERR_INVALID_ARG_TYPE', 'isa'],
])('%s', (...[, fn, code, argument, mentions]) => expectCode(fn, code, argument, mentions));

type BatchResult = Awaited<ReturnType<typeof native.topKBatch>>;
test.each<[string, () => Promise<BatchResult>, string, string, string?]>([
  ['batch queries not a multiple of dim', () => batch({ queries: f32(5) }), 'ERR_INVALID_ARG_VALUE', 'queries'],
  ['batch k times queries overflows int32', () => batch({ queries: f32(8), k: 2 ** 31 - 1 }), 'ERR_OUT_OF_RANGE', 'k'],
  ['batch offsets without indices', () => batch({ excludeOffsets: i32(0, 0) }), 'ERR_INVALID_ARG_TYPE', 'excludeOffsets'],
  ['batch offsets wrong length', () => batch({ excludeOffsets: i32(0), excludeIndices: i32() }), 'ERR_INVALID_ARG_VALUE', 'excludeOffsets'],
  [
    'batch offsets decreasing',
    () => batch({ queries: f32(8), excludeOffsets: i32(0, 2, 1), excludeIndices: i32(1) }),
    'ERR_OUT_OF_RANGE',
    'excludeOffsets',
  ],
  [
    'batch exclusion out of range',
    () => batch({ excludeOffsets: i32(0, 1), excludeIndices: i32(99) }),
    'ERR_OUT_OF_RANGE',
    'excludeIndices',
    'excludeIndices[0]',
  ],
  ['batch allow out of range', () => batch({ allow: i32(10) }), 'ERR_OUT_OF_RANGE', 'allow', 'allow[0]'],
  ['batch cancel is not a token', () => batch({ cancel: i32(0) as never }), 'ERR_INVALID_ARG_TYPE', 'cancel'],
])('%s (thrown synchronously, nothing queued)', (...[, fn, code, argument, mentions]) => expectCode(fn, code, argument, mentions));

describe('neighbour graphs and quantized tables', () => {
  // Row 0's neighbours are columns 1 and 2, row 1's column 0; row 2 has none.
  const graph: KnnGraphHandle = native.knnFromArrays({
    rows: 3,
    cols: 3,
    offsets: i32(0, 2, 3, 3),
    indices: i32(1, 2, 0),
    scores: Float32Array.of(0.5, 0.25, 1),
    threads: 1,
  });
  const recommend = (s: Partial<KnnRecommendSpec>) =>
    native.knnRecommend({
      graph,
      history: i32(0),
      weights: null,
      exclude: null,
      k: 2,
      mean: false,
      shrink: 0,
      excludeHistory: false,
      outIndices: i32(0, 0),
      outScores: f32(2),
      ...s,
    });
  const codes = new Int8Array(T.length);
  const quant = { kind: QuantKind.int8, codes, scales: f32(10), rowSums: new Int32Array(10), dim: 4 };
  const quantTopK = (s: Partial<QuantTopKSpec>) =>
    native.quantTopK({
      ...quant,
      query: f32(4),
      k: 1,
      exclude: null,
      block: null,
      allow: null,
      threads: 1,
      rerank: 0,
      f32Table: null,
      outIndices: i32(0),
      outScores: f32(1),
      ...s,
    });

  test.each<[string, () => unknown, string, string, string?]>([
    [
      'knnFromArrays offsets not ending at the indices',
      () => native.knnFromArrays({ rows: 1, cols: 3, offsets: i32(0, 2), indices: i32(1), scores: f32(1), threads: 1 }),
      'ERR_OUT_OF_RANGE',
      'offsets',
    ],
    [
      'knnFromArrays column out of range',
      () => native.knnFromArrays({ rows: 1, cols: 3, offsets: i32(0, 1), indices: i32(3), scores: f32(1), threads: 1 }),
      'ERR_OUT_OF_RANGE',
      'indices',
      'indices[0]',
    ],
    [
      'knnFromArrays non-finite score',
      () => native.knnFromArrays({ rows: 1, cols: 3, offsets: i32(0, 1), indices: i32(1), scores: Float32Array.of(NaN), threads: 1 }),
      'ERR_OUT_OF_RANGE',
      'scores',
    ],
    [
      'knnRow row out of range',
      () => native.knnRow({ graph, row: 3, k: 1, exclude: null, outIndices: i32(0), outScores: f32(1) }),
      'ERR_OUT_OF_RANGE',
      'row',
    ],
    [
      'knnRow graph is not a handle',
      () => native.knnRow({ graph: {} as KnnGraphHandle, row: 0, k: 1, exclude: null, outIndices: i32(0), outScores: f32(1) }),
      'ERR_INVALID_ARG_TYPE',
      'graph',
    ],
    ['knnRecommend outIndices shorter than k', () => recommend({ outIndices: i32(0) }), 'ERR_INVALID_ARG_VALUE', 'outIndices'],
    ['knnRecommend weights of another length', () => recommend({ weights: f32(2) }), 'ERR_INVALID_ARG_VALUE', 'weights'],
    ['knnRecommend negative shrink', () => recommend({ shrink: -1 }), 'ERR_OUT_OF_RANGE', 'shrink'],
    [
      'knnScores out shorter than the columns',
      () => native.knnScores({ graph, history: i32(0), weights: null, mean: false, shrink: 0, out: f32(2) }),
      'ERR_INVALID_ARG_VALUE',
      'out',
    ],
    [
      'knnRecommendBatch offsets past the histories',
      () =>
        native.knnRecommendBatch({
          graph,
          historyOffsets: i32(0, 2),
          historyIndices: i32(0),
          historyWeights: null,
          excludeOffsets: null,
          excludeIndices: null,
          k: 1,
          mean: false,
          shrink: 0,
          excludeHistory: false,
          threads: 1,
          cancel: null,
        }),
      'ERR_OUT_OF_RANGE',
      'historyOffsets',
    ],
    ['quantTopK kind 3', () => quantTopK({ kind: 3 as QuantKind }), 'ERR_OUT_OF_RANGE', 'kind'],
    ['quantTopK int8 codes as Uint16Array', () => quantTopK({ codes: new Uint16Array(40) }), 'ERR_INVALID_ARG_TYPE', 'codes'],
    ['quantTopK scales of another length', () => quantTopK({ scales: f32(9) }), 'ERR_INVALID_ARG_VALUE', 'scales'],
    ['quantTopK rerank without the float32 rows', () => quantTopK({ rerank: 5 }), 'ERR_INVALID_ARG_TYPE', 'f32Table'],
    [
      'quantScore subset out of range',
      () => native.quantScore({ ...quant, query: f32(4), items: i32(10), out: f32(1), threads: 1 }),
      'ERR_OUT_OF_RANGE',
      'items',
      'items[0]',
    ],
    [
      'quantize source of another length',
      () => native.quantize({ ...quant, source: f32(39), threads: 1 }),
      'ERR_INVALID_ARG_VALUE',
      'source',
    ],
  ])('%s', (...[, fn, code, argument, mentions]) => expectCode(fn, code, argument, mentions));

  test('valid calls still work', () => {
    const oi = i32(0, 0);
    const os = f32(2);
    expect(native.knnRow({ graph, row: 0, k: 2, exclude: null, outIndices: oi, outScores: os })).toBe(2);
    expect(Array.from(oi)).toEqual([1, 2]);
    expect(recommend({ outIndices: oi, outScores: os })).toEqual([2, 0]);
    expect(Array.from(oi)).toEqual([1, 2]);
  });
});

test('a detached table is reported by the binding itself', () => {
  const t = f32(40);
  structuredClone(t.buffer, { transfer: [t.buffer as ArrayBuffer] });
  expectCode(() => topK({ table: t }), 'ERR_DETACHED_BUFFER', 'table');
});

test('cancel() accepts only tokens', () => {
  expectCode(() => native.cancel({} as never), 'ERR_INVALID_ARG_TYPE', 'token');
  expect(() => native.cancel(native.createCancelToken())).not.toThrow();
});

test('valid raw calls still work (the guards are not over-eager)', async () => {
  const t = Float32Array.from({ length: 40 }, (_, i) => i % 7);
  const oi = new Int32Array(3);
  const os = new Float32Array(3);
  expect(topK({ table: t, query: Float32Array.of(1, 0, 0, 0), k: 3, outIndices: oi, outScores: os })).toBe(3);
  const r = await batch({ table: t, queries: Float32Array.of(1, 0, 0, 0), k: 3, cancel: native.createCancelToken() });
  expect(r.completed).toBe(true);
  expect(Array.from(r.counts)).toEqual([3]);
  expect(Array.from(r.indices)).toEqual(Array.from(oi));
});

test('the addon sets code and argument on its errors; native re-types them as recbridge errors', () => {
  // The addon as loaded, without lib's wrapper: its errors are plain errors of the addon's realm.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw = require('node-gyp-build')(path.resolve(__dirname, '../..')) as NativeBinding;
  const spec: TopKSpec = {
    table: T,
    dim: 4,
    query: f32(4),
    k: 0,
    exclude: null,
    block: null,
    allow: null,
    threads: 1,
    outIndices: i32(0),
    outScores: f32(1),
  };
  // topK takes its fields positionally (HOT_FIELD_ORDER).
  const plain = thrown(() => (raw.topK as unknown as (...f: unknown[]) => number)(...HOT_FIELD_ORDER.topK.map((f) => spec[f])));
  expect([plain?.name, plain?.code, plain?.argument]).toEqual(['RangeError', 'ERR_OUT_OF_RANGE', 'k']);
  expect(plain).not.toBeInstanceOf(ArgumentRangeError);
  const short = thrown(() => (raw.topK as unknown as (...f: unknown[]) => number)(T, 4, f32(4)));
  expect([short?.code, short?.argument]).toEqual(['ERR_INVALID_ARG_TYPE', 'arguments']);

  const typed = thrown(() => native.topK(spec));
  expect(typed).toBeInstanceOf(ArgumentRangeError);
  expect([typed?.name, typed?.code, typed?.argument, typed?.message]).toEqual(['RangeError', 'ERR_OUT_OF_RANGE', 'k', plain?.message]);

  const t = f32(40);
  structuredClone(t.buffer, { transfer: [t.buffer as ArrayBuffer] });
  const detached = thrown(() => native.topK({ ...spec, table: t, k: 1 }));
  expect(detached).toBeInstanceOf(DetachedBufferError);
  expect([detached?.name, detached?.code, detached?.argument]).toEqual(['DetachedBufferError', 'ERR_DETACHED_BUFFER', 'table']);
  expect(thrown(() => native.topK({ ...spec, table: {} as Float32Array }))).toBeInstanceOf(ArgumentTypeError);
});

test('the wrapper converts synchronous throws and rejections alike, and passes other values through', async () => {
  const fail = (fields: object) => Object.assign(new Error('native says no'), fields);
  const fake = {
    abiVersion: 5,
    // The hot calls receive their fields positionally (HOT_FIELD_ORDER): k is the fourth.
    topK: (...fields: unknown[]) => {
      if ((fields[3] as number) < 1) throw fail({ code: 'ERR_OUT_OF_RANGE', argument: 'k' });
      return 7;
    },
    topKBatch: () => Promise.reject(fail({ code: 'ERR_OUT_OF_MEMORY' })),
    knnBuild: () => Promise.reject(fail({ code: 'SOMETHING_ELSE' })),
    shuffleSchedule: () => {
      throw fail({ code: 'ERR_INVALID_ARG_TYPE', argument: 'schedule' });
    },
  } as unknown as NativeBinding;
  const wrapped = wrapBinding(fake);
  expect(wrapped.abiVersion).toBe(5);
  expect(wrapped.topK({ k: 1 } as TopKSpec)).toBe(7);
  const range = thrown(() => wrapped.topK({ k: 0 } as TopKSpec));
  expect(range).toBeInstanceOf(ArgumentRangeError);
  expect(range?.argument).toBe('k');
  const oom = await wrapped.topKBatch({} as TopKBatchSpec).catch((e: unknown) => e);
  expect(oom).toBeInstanceOf(RecbridgeError);
  expect((oom as RecbridgeError).code).toBe('ERR_OUT_OF_MEMORY');
  const other = await wrapped.knnBuild({} as never).catch((e: unknown) => e);
  expect((other as { code: string }).code).toBe('SOMETHING_ELSE');
  expect(other).not.toBeInstanceOf(RecbridgeError);
  // An async function's argument errors still throw synchronously: nothing was queued.
  const sync = thrown(() => wrapped.shuffleSchedule(new Int32Array(1), 0, 0));
  expect(sync).toBeInstanceOf(ArgumentTypeError);
  expect(sync?.argument).toBe('schedule');
});

test('the single-query calls pass every spec field, positionally, in the order the addon declares', () => {
  const seen: Record<string, unknown[]> = {};
  const capture =
    (name: string) =>
    (...fields: unknown[]) => {
      seen[name] = fields;
      return name === 'knnRecommend' ? [0, 0] : 0;
    };
  const wrapped = wrapBinding({
    topK: capture('topK'),
    quantTopK: capture('quantTopK'),
    knnRecommend: capture('knnRecommend'),
  } as unknown as NativeBinding);
  for (const name of Object.keys(HOT_FIELD_ORDER) as (keyof typeof HOT_FIELD_ORDER)[]) {
    const spec = Object.fromEntries(HOT_FIELD_ORDER[name].map((f) => [f, `value of ${f}`]));
    (wrapped[name] as (s: unknown) => unknown)(spec);
    expect(seen[name]).toEqual(HOT_FIELD_ORDER[name].map((f) => `value of ${f}`));
  }
  // The addon's own copy of the order (native/addon/hot_fields.h) is the one lib/ uses.
  expect((native as unknown as { hotFieldOrder: unknown }).hotFieldOrder).toEqual(HOT_FIELD_ORDER);
});

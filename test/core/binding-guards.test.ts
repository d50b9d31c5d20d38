// The addon re-checks everything that could make it read or write out of bounds, so a caller that
// bypasses lib/ gets a coded error, never a crash. These call the raw binding on purpose.
import { native } from '../../lib/core/native';

const f32 = (n: number) => new Float32Array(n);
const i32 = (...xs: number[]) => Int32Array.from(xs);

function expectCode(fn: () => unknown, code: string, mentions: string) {
  let thrown: { code?: string; message?: string } | undefined;
  try {
    fn();
  } catch (err) {
    thrown = err as typeof thrown;
  }
  expect(thrown?.code).toBe(code);
  expect(thrown?.message).toContain(mentions);
}

const T = f32(10 * 4); // 10 rows, dim 4

test.each<[string, () => unknown, string, string]>([
  ['table is not a typed array', () => native.topK({} as Float32Array, 4, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_INVALID_ARG_TYPE', 'table'],
  ['table is an Int32Array', () => native.topK(new Int32Array(40) as unknown as Float32Array, 4, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_INVALID_ARG_TYPE', 'table'],
  ['dim is 0', () => native.topK(T, 0, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'dim'],
  ['dim is not a number', () => native.topK(T, 'x' as unknown as number, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_INVALID_ARG_TYPE', 'dim'],
  ['table length not a multiple of dim', () => native.topK(f32(10), 4, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_INVALID_ARG_VALUE', 'multiple of dim'],
  ['query too short', () => native.topK(T, 4, f32(3), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_INVALID_ARG_VALUE', 'query'],
  ['k is 0', () => native.topK(T, 4, f32(4), 0, null, null, null, 1, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'k'],
  ['k is fractional', () => native.topK(T, 4, f32(4), 2.5, null, null, null, 1, i32(0, 0, 0), f32(3)), 'ERR_OUT_OF_RANGE', 'k'],
  ['threads is 0', () => native.topK(T, 4, f32(4), 1, null, null, null, 0, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'threads'],
  ['outIndices shorter than k', () => native.topK(T, 4, f32(4), 5, null, null, null, 1, i32(0), f32(5)), 'ERR_INVALID_ARG_VALUE', 'outIndices'],
  ['outScores shorter than k', () => native.topK(T, 4, f32(4), 5, null, null, null, 1, new Int32Array(5), f32(2)), 'ERR_INVALID_ARG_VALUE', 'outScores'],
  ['allow index out of range', () => native.topK(T, 4, f32(4), 1, null, null, i32(10), 1, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'allow[0]'],
  ['exclude index negative', () => native.topK(T, 4, f32(4), 1, i32(-1), null, null, 1, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'exclude[0]'],
  ['block index out of range', () => native.topK(T, 4, f32(4), 1, null, i32(3, 11), null, 1, i32(0), f32(1)), 'ERR_OUT_OF_RANGE', 'block[1]'],
  ['scoreItems out too short', () => native.scoreItems(T, 4, f32(4), null, f32(9), 1), 'ERR_INVALID_ARG_VALUE', 'out'],
  ['scoreItems subset out of range', () => native.scoreItems(T, 4, f32(4), i32(0, 10), f32(2), 1), 'ERR_OUT_OF_RANGE', 'items[1]'],
  ['gather index out of range', () => native.gather(T, 4, i32(2, 10), f32(8)), 'ERR_OUT_OF_RANGE', 'indices[1]'],
  ['gather out too short', () => native.gather(T, 4, i32(2, 3), f32(7)), 'ERR_INVALID_ARG_VALUE', 'out'],
  ['pool offsets past the indices', () => native.pool(T, 4, i32(0, 3), i32(1, 2), null, 0, f32(4)), 'ERR_OUT_OF_RANGE', 'offsets'],
  ['pool offsets decreasing', () => native.pool(T, 4, i32(0, 2, 1, 2), i32(1, 2), null, 0, f32(12)), 'ERR_OUT_OF_RANGE', 'offsets'],
  ['pool weighted without weights', () => native.pool(T, 4, i32(0, 1), i32(1), null, 2, f32(4)), 'ERR_INVALID_ARG_TYPE', 'weights'],
  ['pool mode 7', () => native.pool(T, 4, i32(0, 1), i32(1), null, 7, f32(4)), 'ERR_OUT_OF_RANGE', 'mode'],
  ['setIsa with a number', () => native.setIsa(3 as unknown as 'scalar'), 'ERR_INVALID_ARG_TYPE', 'isa'],
])('%s', (_label, fn, code, mentions) => expectCode(fn, code, mentions));

type BatchResult = Awaited<ReturnType<typeof native.topKBatch>>;
test.each<[string, () => Promise<BatchResult>, string, string]>([
  ['batch queries not a multiple of dim', () => native.topKBatch(T, 4, f32(5), 1, null, null, null, null, 1, null), 'ERR_INVALID_ARG_VALUE', 'queries'],
  ['batch k times queries overflows int32', () => native.topKBatch(T, 4, f32(8), 2 ** 31 - 1, null, null, null, null, 1, null), 'ERR_OUT_OF_RANGE', 'k'],
  ['batch offsets without indices', () => native.topKBatch(T, 4, f32(4), 1, i32(0, 0), null, null, null, 1, null), 'ERR_INVALID_ARG_TYPE', 'excludeOffsets'],
  ['batch offsets wrong length', () => native.topKBatch(T, 4, f32(4), 1, i32(0), i32(), null, null, 1, null), 'ERR_INVALID_ARG_VALUE', 'excludeOffsets'],
  ['batch offsets decreasing', () => native.topKBatch(T, 4, f32(8), 1, i32(0, 2, 1), i32(1), null, null, 1, null), 'ERR_OUT_OF_RANGE', 'excludeOffsets'],
  ['batch exclusion out of range', () => native.topKBatch(T, 4, f32(4), 1, i32(0, 1), i32(99), null, null, 1, null), 'ERR_OUT_OF_RANGE', 'excludeIndices[0]'],
  ['batch allow out of range', () => native.topKBatch(T, 4, f32(4), 1, null, null, null, i32(10), 1, null), 'ERR_OUT_OF_RANGE', 'allow[0]'],
  ['batch cancel is not a token', () => native.topKBatch(T, 4, f32(4), 1, null, null, null, null, 1, i32(0) as never), 'ERR_INVALID_ARG_TYPE', 'cancel'],
])('%s (thrown synchronously, nothing queued)', (_label, fn, code, mentions) => expectCode(fn, code, mentions));

test('a detached table is reported by the binding itself', () => {
  const t = f32(40);
  structuredClone(t.buffer, { transfer: [t.buffer as ArrayBuffer] });
  expectCode(() => native.topK(t, 4, f32(4), 1, null, null, null, 1, i32(0), f32(1)), 'ERR_DETACHED_BUFFER', 'table');
});

test('cancel() accepts only tokens', () => {
  expectCode(() => native.cancel({} as never), 'ERR_INVALID_ARG_TYPE', 'token');
  expect(() => native.cancel(native.createCancelToken())).not.toThrow();
});

test('valid raw calls still work (the guards are not over-eager)', async () => {
  const t = Float32Array.from({ length: 40 }, (_, i) => i % 7);
  const oi = new Int32Array(3);
  const os = new Float32Array(3);
  expect(native.topK(t, 4, Float32Array.of(1, 0, 0, 0), 3, null, null, null, 1, oi, os)).toBe(3);
  const r = await native.topKBatch(t, 4, Float32Array.of(1, 0, 0, 0), 3, null, null, null, null, 1, native.createCancelToken());
  expect(r.completed).toBe(true);
  expect(Array.from(r.counts)).toEqual([3]);
  expect(Array.from(r.indices)).toEqual(Array.from(oi));
});

test('native errors keep their argument and class when re-typed by lib/', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromNative } = require('../../lib/core/errors') as typeof import('../../lib/core/errors');
  const t = f32(40);
  structuredClone(t.buffer, { transfer: [t.buffer as ArrayBuffer] });
  let raw: unknown;
  try {
    native.topK(t, 4, f32(4), 1, null, null, null, 1, i32(0), f32(1));
  } catch (e) {
    raw = e;
  }
  const typed = fromNative(raw) as unknown as { name: string; code: string; argument: string };
  expect([typed.name, typed.code, typed.argument]).toEqual(['DetachedBufferError', 'ERR_DETACHED_BUFFER', 'table']);
  let range: unknown;
  try {
    native.topK(T, 4, f32(4), 0, null, null, null, 1, i32(0), f32(1));
  } catch (e) {
    range = e;
  }
  const r = fromNative(range) as unknown as { name: string; code: string; argument: string };
  expect([r.name, r.code, r.argument]).toEqual(['RangeError', 'ERR_OUT_OF_RANGE', 'k']);
});

// Bad input gets a typed error that names the argument: TypeError/RangeError with a stable code for
// arguments, DetachedBufferError for transferred buffers. Asserted on name/code/message, never with
// instanceof (jest's sandbox has its own Error constructors).
import { EmbeddingTable, ItemSet, configure, gather, pool, scoreItems, topK, topKBatch } from '../../lib';
import { randomFloats } from '../support/data';

const DIM = 8;
const ROWS = 50;
const table = () => new EmbeddingTable(randomFloats(ROWS * DIM, 1), DIM);
const query = () => randomFloats(DIM, 2);

type Expectation = { name: string; code: string; mentions: string };
const typeErr = (mentions: string): Expectation => ({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions });
const rangeErr = (mentions: string, code = 'ERR_OUT_OF_RANGE'): Expectation => ({ name: 'RangeError', code, mentions });

function checkError(thrown: unknown, e: Expectation) {
  expect(thrown).toBeDefined();
  const err = thrown as { name: string; code: string; message: string };
  expect({ name: err.name, code: err.code }).toEqual({ name: e.name, code: e.code });
  expect(err.message).toContain(e.mentions);
}

function expectError(fn: () => unknown, e: Expectation) {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  checkError(thrown, e);
}

async function expectRejection(p: () => Promise<unknown>, e: Expectation) {
  checkError(
    await p().then(
      () => undefined,
      (err: unknown) => err,
    ),
    e,
  );
}

const nanQuery = () => Object.assign(query(), { 3: NaN });
const infQuery = () => Object.assign(query(), { 0: -Infinity });

describe('topK', () => {
  const cases: [string, () => unknown, Expectation][] = [
    ['table is not an EmbeddingTable', () => topK({} as EmbeddingTable, query(), 3), typeErr('for table')],
    ['query is a string', () => topK(table(), 'abc' as unknown as Float32Array, 3), typeErr('for query')],
    ['query is a Float64Array', () => topK(table(), new Float64Array(DIM) as unknown as Float32Array, 3), typeErr('for query')],
    [
      'query has the wrong length',
      () => topK(table(), new Float32Array(DIM + 1), 3),
      rangeErr('query of length 8', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['query holds NaN', () => topK(table(), nanQuery(), 3), rangeErr('for query[3]')],
    ['query holds -Infinity', () => topK(table(), infQuery(), 3), rangeErr('for query[0]')],
    ['query array holds a string', () => topK(table(), [1, 2, 3, 4, 5, 6, 7, 'x'] as unknown as number[], 3), typeErr('for query[7]')],
    ['k is 0', () => topK(table(), query(), 0), rangeErr('Expected positive integer for k but received 0')],
    ['k is negative', () => topK(table(), query(), -1), rangeErr('for k')],
    ['k is fractional', () => topK(table(), query(), 1.5), rangeErr('for k')],
    ['k is NaN', () => topK(table(), query(), NaN), rangeErr('for k')],
    ['k is Infinity', () => topK(table(), query(), Infinity), rangeErr('for k')],
    ['k is a string', () => topK(table(), query(), '3' as unknown as number), typeErr('for k')],
    ['k is 2^31', () => topK(table(), query(), 2 ** 31), rangeErr('for k')],
    ['options is a number', () => topK(table(), query(), 3, 5 as unknown as object), typeErr('for options')],
    ['exclude index out of range', () => topK(table(), query(), 3, { exclude: [1, ROWS] }), rangeErr('for options.exclude[1]')],
    ['exclude index negative', () => topK(table(), query(), 3, { exclude: [-1] }), rangeErr('for options.exclude[0]')],
    ['exclude index fractional', () => topK(table(), query(), 3, { exclude: [0.5] }), rangeErr('for options.exclude[0]')],
    [
      'exclude Int32Array out of range',
      () => topK(table(), query(), 3, { exclude: Int32Array.of(0, 99) }),
      rangeErr('for options.exclude[1]'),
    ],
    ['exclude is a string', () => topK(table(), query(), 3, { exclude: '1,2' as unknown as number[] }), typeErr('for options.exclude')],
    [
      'block ItemSet too large for the table',
      () => topK(table(), query(), 3, { block: new ItemSet([ROWS + 5]) }),
      rangeErr('for options.block'),
    ],
    ['allow index out of range', () => topK(table(), query(), 3, { allow: [ROWS] }), rangeErr('for options.allow[0]')],
    ['threads is 0', () => topK(table(), query(), 3, { threads: 0 }), rangeErr('for options.threads')],
    ['threads is 257', () => topK(table(), query(), 3, { threads: 257 }), rangeErr('for options.threads')],
  ];
  test.each(cases)('%s', (_label, fn, e) => expectError(fn, e));
});

describe('scoreItems', () => {
  const cases: [string, () => unknown, Expectation][] = [
    ['query of wrong length', () => scoreItems(table(), new Float32Array(3)), rangeErr('query of length 8', 'ERR_INVALID_ARG_VALUE')],
    ['query with NaN', () => scoreItems(table(), nanQuery()), rangeErr('for query[3]')],
    ['items out of range', () => scoreItems(table(), query(), { items: [0, 50] }), rangeErr('for options.items[1]')],
    [
      'out is too short',
      () => scoreItems(table(), query(), { out: new Float32Array(10) }),
      rangeErr('for options.out', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['out is a plain array', () => scoreItems(table(), query(), { out: [] as unknown as Float32Array }), typeErr('for options.out')],
  ];
  test.each(cases)('%s', (_label, fn, e) => expectError(fn, e));
});

describe('topKBatch', () => {
  const qs = () => randomFloats(4 * DIM, 3);
  const cases: [string, () => Promise<unknown>, Expectation][] = [
    [
      'queries not a multiple of dim',
      () => topKBatch(table(), new Float32Array(DIM + 1), 3),
      rangeErr('for queries', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['queries with NaN', () => topKBatch(table(), Object.assign(qs(), { 9: NaN }), 3), rangeErr('for queries[9]')],
    ['queries is a number', () => topKBatch(table(), 7 as unknown as Float32Array, 3), typeErr('for queries')],
    ['k is 0', () => topKBatch(table(), qs(), 0), rangeErr('for k')],
    [
      'exclude array has the wrong length',
      () => topKBatch(table(), qs(), 3, { exclude: [[1]] }),
      rangeErr('for options.exclude', 'ERR_INVALID_ARG_VALUE'),
    ],
    [
      'exclude entry out of range',
      () => topKBatch(table(), qs(), 3, { exclude: [null, [ROWS], null, null] }),
      rangeErr('for options.exclude[1][0]'),
    ],
    [
      'CSR offsets do not end at indices.length',
      () => topKBatch(table(), qs(), 3, { exclude: { offsets: Int32Array.of(0, 1, 1, 1, 3), indices: Int32Array.of(1, 2) } }),
      rangeErr('for options.exclude.offsets'),
    ],
    [
      'CSR offsets decrease',
      () => topKBatch(table(), qs(), 3, { exclude: { offsets: Int32Array.of(0, 2, 1, 2, 2), indices: Int32Array.of(1, 2) } }),
      rangeErr('for options.exclude.offsets[2]'),
    ],
    ['signal is not an AbortSignal', () => topKBatch(table(), qs(), 3, { signal: {} as AbortSignal }), typeErr('for options.signal')],
    ['threads is 1.5', () => topKBatch(table(), qs(), 3, { threads: 1.5 }), rangeErr('for options.threads')],
  ];
  test.each(cases)('%s', async (_label, fn, e) => expectRejection(fn, e));

  test('an already-aborted signal rejects with AbortError before any work', async () => {
    const ac = new AbortController();
    ac.abort();
    await expectRejection(() => topKBatch(table(), qs(), 3, { signal: ac.signal }), {
      name: 'AbortError',
      code: 'ABORT_ERR',
      mentions: 'aborted',
    });
  });
});

describe('gather and pool', () => {
  const cases: [string, () => unknown, Expectation][] = [
    ['gather index out of range', () => gather(table(), [0, ROWS]), rangeErr('for indices[1]')],
    [
      'gather out too short',
      () => gather(table(), [0, 1], { out: new Float32Array(DIM) }),
      rangeErr('for options.out', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['pool mode inherited from Object.prototype', () => pool(table(), [[0]], { mode: 'toString' as 'sum' }), rangeErr('for options.mode')],
    ['pool bag out of range', () => pool(table(), [[0], [ROWS]]), rangeErr('for bags[1][0]')],
    ['pool unknown mode', () => pool(table(), [[0]], { mode: 'max' as 'sum' }), rangeErr('for options.mode')],
    ['pool weighted without weights', () => pool(table(), [[0]], { mode: 'weighted-sum' }), typeErr('for options.weights')],
    [
      'pool weights with NaN',
      () => pool(table(), [[0, 1]], { mode: 'weighted-sum', weights: [[1, NaN]] }),
      rangeErr('for options.weights[0][1]'),
    ],
    [
      'pool weights wrong length',
      () => pool(table(), [[0, 1]], { mode: 'weighted-sum', weights: [[1]] }),
      rangeErr('options.weights[0] of length 2', 'ERR_INVALID_ARG_VALUE'),
    ],
    ['pool CSR offsets bad end', () => pool(table(), { offsets: [0, 3], indices: [1, 2] }), rangeErr('for bags.offsets')],
    ['pool CSR offsets decrease', () => pool(table(), { offsets: [0, 2, 1, 2], indices: [1, 2] }), rangeErr('for bags.offsets[2]')],
    ['pool bags is a number', () => pool(table(), 3 as unknown as number[][]), typeErr('for bags')],
  ];
  test.each(cases)('%s', (_label, fn, e) => expectError(fn, e));
});

describe('EmbeddingTable and configure', () => {
  const cases: [string, () => unknown, Expectation][] = [
    ['data is a plain array', () => new EmbeddingTable([1, 2] as unknown as Float32Array, 2), typeErr('for data')],
    ['dim is 0', () => new EmbeddingTable(new Float32Array(4), 0), rangeErr('for dim')],
    ['length not a multiple of dim', () => new EmbeddingTable(new Float32Array(5), 2), rangeErr('for data', 'ERR_INVALID_ARG_VALUE')],
    [
      'data on a resizable ArrayBuffer',
      () =>
        new EmbeddingTable(
          new Float32Array(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(32, { maxByteLength: 64 })),
          2,
        ),
      rangeErr('for data'),
    ],
    ['create with negative rows', () => EmbeddingTable.create(-1, 4), rangeErr('for rows')],
    ['create with an unknown init', () => EmbeddingTable.create(2, 4, { init: 'ones' as 'zeros' }), rangeErr('for options.init')],
    [
      'create with shared = "yes"',
      () => EmbeddingTable.create(2, 4, { shared: 'yes' as unknown as boolean }),
      typeErr('for options.shared'),
    ],
    ['fromRows with ragged rows', () => EmbeddingTable.fromRows([[1, 2], [3]]), rangeErr('for rows[1]')],
    ['fromRows with a string value', () => EmbeddingTable.fromRows([[1, 'a' as unknown as number]]), typeErr('for rows[0][1]')],
    ['fromRows with no rows', () => EmbeddingTable.fromRows([]), rangeErr('for rows')],
    ['row index out of range', () => table().row(ROWS), rangeErr('for i')],
    ['configure threads 0', () => configure({ threads: 0 }), rangeErr('for options.threads')],
    ['ItemSet with a negative index', () => new ItemSet([3, -2]), rangeErr('for indices[1]')],
  ];
  test.each(cases)('%s', (_label, fn, e) => expectError(fn, e));
});

describe('inputs are copied before async work starts', () => {
  test('changing or detaching queries, exclusions and the block list after the call does not affect the result', async () => {
    const t = table();
    const qs = randomFloats(2 * DIM, 9);
    const offsets = new Int32Array(new SharedArrayBuffer(12));
    offsets.set([0, 2, 3]);
    const indices = Int32Array.of(1, 2, 3);
    const block = Int32Array.of(4, 5);
    const expected = await topKBatch(t, qs.slice(), 5, {
      exclude: { offsets: offsets.slice(), indices: indices.slice() },
      block: block.slice(),
    });
    const pending = topKBatch(t, qs, 5, { exclude: { offsets, indices }, block });
    offsets[1] = 0x7ffffff0; // a shared buffer another thread could change
    structuredClone(qs.buffer, { transfer: [qs.buffer as ArrayBuffer] });
    structuredClone(block.buffer, { transfer: [block.buffer as ArrayBuffer] });
    const got = await pending;
    expect(got.indices).toEqual(expected.indices);
    expect(got.scores).toEqual(expected.scores);
  });

  test('a table on a plain ArrayBuffer is copied, so transferring it mid-batch is harmless', async () => {
    const plain = new EmbeddingTable(randomFloats(2000 * DIM, 4), DIM);
    const qs = randomFloats(64 * DIM, 5);
    const expected = await topKBatch(new EmbeddingTable(plain.data.slice(), DIM), qs, 5);
    const pending = topKBatch(plain, qs, 5);
    structuredClone(plain.data.buffer, { transfer: [plain.data.buffer as ArrayBuffer] });
    const got = await pending;
    expect(got.indices).toEqual(expected.indices);
    expect(got.scores).toEqual(expected.scores);
  });
});

describe('detached buffers', () => {
  function detachedTable(): EmbeddingTable {
    const t = table();
    structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
    return t;
  }
  const detached = { name: 'DetachedBufferError', code: 'ERR_DETACHED_BUFFER', mentions: 'detached' };
  test.each<[string, (t: EmbeddingTable) => unknown]>([
    ['topK', (t) => topK(t, query(), 3)],
    ['scoreItems', (t) => scoreItems(t, query())],
    ['gather', (t) => gather(t, [0])],
    ['pool', (t) => pool(t, [[0]])],
    ['row', (t) => t.row(0)],
  ])('%s on a table whose buffer was transferred', (_label, fn) => expectError(() => fn(detachedTable()), detached));

  test('topKBatch on a detached table rejects', async () => {
    await expectRejection(() => topKBatch(detachedTable(), randomFloats(DIM, 1), 3), detached);
  });

  test('a detached query is reported as detached, not as a length problem', () => {
    const q = query();
    structuredClone(q.buffer, { transfer: [q.buffer as ArrayBuffer] });
    expectError(() => topK(table(), q, 3), { ...detached, mentions: 'query' });
  });

  test('a detached exclusion list is reported', () => {
    const ex = Int32Array.of(1, 2);
    structuredClone(ex.buffer, { transfer: [ex.buffer as ArrayBuffer] });
    expectError(() => topK(table(), query(), 3, { exclude: ex }), { ...detached, mentions: 'options.exclude' });
  });
});

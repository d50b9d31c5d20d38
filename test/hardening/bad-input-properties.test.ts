// Property tests behind the README's "Bad input" table: for each public entry point, generated
// wrong types, out-of-range numbers, NaN/±Infinity, empty inputs and detached buffers give the
// documented typed error naming the argument (or the documented empty result) — and arbitrary
// values in every argument position never produce anything but one of the documented errors
// (no internal TypeError, no crash). Errors are compared by name/code, never with instanceof
// (jest's sandbox has its own Error constructors).
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  EmbeddingTable,
  Interactions,
  ItemSet,
  MatrixFactorization,
  Trainer,
  Vocabulary,
  configure,
  gather,
  inspectModel,
  loadFeatures,
  loadInteractions,
  loadModel,
  parseFeatures,
  parseInteractions,
  parseLinks,
  pool,
  saveModel,
  scoreItems,
  setIsa,
  topK,
  topKBatch,
} from '../../lib';

const ROWS = 12;
const DIM = 4;
const table = EmbeddingTable.create(ROWS, DIM, { init: 'normal', seed: 1 });
const query = () => new Float32Array([0.5, -1, 2, 0.25]);
const RUNS = { numRuns: 150 };

const ARGUMENT_CODES = ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_ARG_VALUE', 'ERR_DETACHED_BUFFER'];

type Expected = { name: string; code: string; mentions?: string };
const typeErr = (mentions: string): Expected => ({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', mentions });
const rangeErr = (mentions: string): Expected => ({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', mentions });
const lengthErr = (mentions: string): Expected => ({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', mentions });
const detachedErr = (mentions: string): Expected => ({ name: 'DetachedBufferError', code: 'ERR_DETACHED_BUFFER', mentions });

function caught(fn: () => unknown): { name: string; code: string; message: string } | null {
  try {
    fn();
  } catch (err) {
    return err as { name: string; code: string; message: string };
  }
  return null;
}

function matches(err: { name: string; code: string; message: string } | null, e: Expected): boolean {
  if (!err) return false;
  return err.name === e.name && err.code === e.code && (e.mentions === undefined || err.message.includes(e.mentions));
}

function expectThrows(fn: () => unknown, e: Expected): void {
  const err = caught(fn);
  if (!matches(err, e))
    throw new Error(`expected ${JSON.stringify(e)}, got ${err ? `${err.name} ${err.code}: ${err.message}` : 'no error'}`);
}

type Caught = { name: string; code: string; message: string } | null;

async function caughtAsync(p: () => Promise<unknown>): Promise<Caught> {
  return p().then(
    () => null,
    (err: unknown) => err as Caught,
  );
}

async function expectRejects(p: () => Promise<unknown>, e: Expected): Promise<void> {
  const err = await caughtAsync(p);
  if (!matches(err, e))
    throw new Error(`expected ${JSON.stringify(e)}, got ${err ? `${err.name} ${err.code}: ${err.message}` : 'no error'}`);
}

/** A typed array whose buffer has been transferred away (detached). */
function detached<T extends Float32Array | Int32Array>(make: () => T): T {
  const a = make();
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

const notNumber = fc.anything().filter((x) => typeof x !== 'number');
const notPositiveInt = fc.oneof(fc.double(), fc.integer({ max: 0 }), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0));
const nonFinite = fc.constantFrom(NaN, Infinity, -Infinity);
const outOfRows = fc.oneof(
  fc.integer({ min: ROWS, max: 2 ** 31 - 1 }),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc.constantFrom(NaN, 1.5, Infinity),
);

describe('any value in any argument position: only documented errors', () => {
  const anyArgs = fc.array(fc.oneof(fc.anything(), fc.float32Array(), fc.int32Array(), fc.constant(table), fc.constant(query())), {
    maxLength: 5,
  });
  const documented = (fn: () => unknown) => {
    const err = caught(fn);
    if (err && !ARGUMENT_CODES.includes(err.code)) throw new Error(`undocumented error ${err.name} ${err.code}: ${err.message}`);
  };
  const sync: [string, (...a: unknown[]) => unknown][] = [
    ['topK', topK as never],
    ['scoreItems', scoreItems as never],
    ['gather', gather as never],
    ['pool', pool as never],
    ['new ItemSet', (...a) => new ItemSet(...(a as [never]))],
    ['new EmbeddingTable', (...a) => new EmbeddingTable(...(a as [never, never]))],
    ['EmbeddingTable.create', EmbeddingTable.create as never],
    ['EmbeddingTable.fromRows', EmbeddingTable.fromRows as never],
    ['new Interactions', (...a) => new Interactions(...(a as [never]))],
    ['new MatrixFactorization', (...a) => new MatrixFactorization(...(a as [never]))],
  ];
  it.each(sync)('%s', (_, fn) => {
    fc.assert(
      fc.property(anyArgs, (args) => documented(() => fn(...args))),
      { numRuns: 300 },
    );
  });
  it('topK with a valid table and query and any k and options', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (k, options) => documented(() => topK(table, query(), k as number, options as never))),
      { numRuns: 300 },
    );
  });
  it('topKBatch rejects (never throws synchronously) with documented errors', async () => {
    await fc.assert(
      fc.asyncProperty(anyArgs, async (args) => {
        // A synchronous throw would escape caughtAsync's promise chain and fail the property too.
        const err = await caughtAsync(() => (topKBatch as (...a: unknown[]) => Promise<unknown>)(...args));
        if (err && !ARGUMENT_CODES.includes(err.code)) throw new Error(`undocumented error ${err.name} ${err.code}: ${err.message}`);
      }),
      { numRuns: 150 },
    );
  });
});

describe('topK / scoreItems / topKBatch', () => {
  it('wrong types name the argument', () => {
    fc.assert(
      fc.property(notNumber, (k) => expectThrows(() => topK(table, query(), k as number), typeErr('for k'))),
      RUNS,
    );
    const notQuery = fc.anything().filter((x) => !(x instanceof Float32Array) && !Array.isArray(x));
    fc.assert(
      fc.property(notQuery, (q) => expectThrows(() => topK(table, q as Float32Array, 3), typeErr('for query'))),
      RUNS,
    );
    fc.assert(
      fc.property(notQuery, (q) => expectThrows(() => scoreItems(table, q as Float32Array), typeErr('for query'))),
      RUNS,
    );
    const notTable = fc.anything().filter((x) => !(x instanceof EmbeddingTable));
    fc.assert(
      fc.property(notTable, (t) => expectThrows(() => topK(t as EmbeddingTable, query(), 3), typeErr('for table'))),
      RUNS,
    );
  });
  it('k: anything but a positive integer is out of range; any large k is clamped', () => {
    fc.assert(
      fc.property(
        notPositiveInt.filter((k) => !(Number.isInteger(k) && k > 0)),
        (k) => expectThrows(() => topK(table, query(), k), rangeErr('for k')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (k) => topK(table, query(), k).indices.length === Math.min(k, ROWS)),
      RUNS,
    );
  });
  it('NaN or ±Infinity anywhere in a query names the element', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: DIM - 1 }), nonFinite, (at, bad) => {
        const q = query();
        q[at] = bad;
        expectThrows(() => topK(table, q, 3), rangeErr(`for query[${at}]`));
        expectThrows(() => scoreItems(table, q), rangeErr(`for query[${at}]`));
      }),
      RUNS,
    );
  });
  it('a query of the wrong length is ERR_INVALID_ARG_VALUE', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 }).filter((n) => n !== DIM),
        (n) => expectThrows(() => topK(table, new Float32Array(n), 3), lengthErr('query')),
      ),
      RUNS,
    );
  });
  it('index lists: out of range, fractional or NaN entries name the entry', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: ROWS - 1 }), { maxLength: 5 }), outOfRows, (ok, bad) => {
        const list = [...ok, bad];
        const at = ok.length;
        expectThrows(() => topK(table, query(), 3, { exclude: list }), rangeErr(`options.exclude[${at}]`));
        expectThrows(() => topK(table, query(), 3, { block: list }), rangeErr('options.block'));
        expectThrows(() => topK(table, query(), 3, { allow: list }), rangeErr('options.allow'));
        expectThrows(() => scoreItems(table, query(), { items: list }), rangeErr(`options.items[${at}]`));
      }),
      RUNS,
    );
  });
  it('threads outside [1, 256] are out of range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 257 }), fc.constant(NaN)), (threads) =>
        expectThrows(() => topK(table, query(), 3, { threads }), rangeErr('options.threads')),
      ),
      RUNS,
    );
  });
  it('empty inputs give empty results', async () => {
    const empty = EmbeddingTable.create(0, DIM);
    expect(topK(empty, query(), 5).indices.length).toBe(0);
    expect(scoreItems(empty, query()).length).toBe(0);
    expect(topK(table, query(), 5, { allow: [] }).indices.length).toBe(0);
    expect(topK(table, query(), 5, { exclude: [] }).indices.length).toBe(5);
    expect(scoreItems(table, query(), { items: [] }).length).toBe(0);
    expect(scoreItems(table, query(), { items: new Int32Array(0), out: new Float32Array(0) }).length).toBe(0);
    expect((await topKBatch(table, new Float32Array(0), 3)).counts.length).toBe(0);
    expect((await topKBatch(empty, new Float32Array(DIM * 2), 3)).counts).toEqual(new Int32Array([0, 0]));
  });
  it('detached buffers are DetachedBufferError, naming the buffer', async () => {
    expectThrows(() => topK(table, detached(query), 3), detachedErr('query'));
    expectThrows(() => scoreItems(table, query(), { out: detached(() => new Float32Array(ROWS)) }), detachedErr('options.out'));
    expectThrows(() => topK(table, query(), 3, { exclude: detached(() => new Int32Array([1])) }), detachedErr('options.exclude'));
    const data = new Float32Array(ROWS * DIM);
    const wrapped = new EmbeddingTable(data, DIM);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expectThrows(() => topK(wrapped, query(), 3), detachedErr('table'));
    expectThrows(() => scoreItems(wrapped, query()), detachedErr('table'));
    await expectRejects(
      () =>
        topKBatch(
          table,
          detached(() => new Float32Array(DIM)),
          3,
        ),
      detachedErr('queries'),
    );
  });
  it('topKBatch: ragged queries, NaN and an aborted signal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).filter((n) => n % DIM !== 0),
        async (n) => expectRejects(() => topKBatch(table, new Float32Array(n), 3), lengthErr('queries')),
      ),
      { numRuns: 30 },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 * DIM - 1 }), nonFinite, async (at, bad) => {
        const qs = new Float32Array(3 * DIM);
        qs[at] = bad;
        await expectRejects(() => topKBatch(table, qs, 3), rangeErr(`queries[${at}]`));
      }),
      { numRuns: 30 },
    );
    await expectRejects(() => topKBatch(table, query(), 3, { signal: AbortSignal.abort() }), { name: 'AbortError', code: 'ABORT_ERR' });
  });
});

describe('tables, index sets and lookups', () => {
  it('EmbeddingTable: data type, dim range and length', () => {
    const notF32 = fc.anything().filter((x) => !(x instanceof Float32Array));
    fc.assert(
      fc.property(notF32, (d) => expectThrows(() => new EmbeddingTable(d as Float32Array, DIM), typeErr('for data'))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1_048_577 }), nonFinite, fc.constant(1.5)), (dim) =>
        expectThrows(() => new EmbeddingTable(new Float32Array(8), dim), rangeErr('for dim')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }).filter((n) => n % DIM !== 0),
        (n) => expectThrows(() => new EmbeddingTable(new Float32Array(n), DIM), lengthErr('for data')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: -1 }), fc.double({ min: 2 ** 31, max: 2 ** 60, noNaN: true }), nonFinite), (rows) =>
        expectThrows(() => EmbeddingTable.create(rows, DIM), rangeErr('for rows')),
      ),
      RUNS,
    );
    expect(new EmbeddingTable(new Float32Array(0), DIM).rows).toBe(0);
    expectThrows(
      () =>
        new EmbeddingTable(
          detached(() => new Float32Array(8)),
          DIM,
        ),
      detachedErr('data'),
    );
    expectThrows(() => EmbeddingTable.fromRows([]), rangeErr('for rows'));
  });
  it('ItemSet, gather and pool: indices out of range name the entry; empty lists are fine', () => {
    fc.assert(
      fc.property(outOfRows, (bad) => {
        expectThrows(() => gather(table, [0, bad]), rangeErr('indices[1]'));
        expectThrows(() => pool(table, [[0], [1, bad]]), rangeErr('bags[1][1]'));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(NaN, 0.5)), (bad) =>
        expectThrows(() => new ItemSet([bad]), rangeErr('indices[0]')),
      ),
      RUNS,
    );
    expect(new ItemSet([]).size).toBe(0);
    expect(gather(table, []).length).toBe(0);
    expect(pool(table, []).length).toBe(0);
    expectThrows(() => new ItemSet(detached(() => new Int32Array(2))), detachedErr('indices'));
    expectThrows(() => pool(table, [[1]], { mode: 'max' as never }), rangeErr('options.mode'));
  });
  it('configure and setIsa', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 257 })), (threads) =>
        expectThrows(() => configure({ threads }), rangeErr('options.threads')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        fc.string().filter((s) => !['scalar', 'avx2', 'avx512'].includes(s)),
        (isa) => expectThrows(() => setIsa(isa as never), rangeErr('for isa')),
      ),
      RUNS,
    );
  });
});

describe('training data, models and files', () => {
  it('Interactions: negative, fractional or NaN indices, mismatched lengths, non-finite values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(NaN, 0.5, Infinity)), (bad) =>
        expectThrows(() => new Interactions({ users: [0, bad], items: [0, 1] }), rangeErr('data.users[1]')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(nonFinite, (bad) =>
        expectThrows(() => new Interactions({ users: [0], items: [0], values: [bad] }), rangeErr('data.values[0]')),
      ),
      RUNS,
    );
    expectThrows(() => new Interactions({ users: [0, 1], items: [0] }), rangeErr('data.items'));
    expect(new Interactions({ users: [], items: [] }).size).toBe(0);
  });
  it('MatrixFactorization sizes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), nonFinite, fc.constant(2.5)), (n) =>
        expectThrows(() => new MatrixFactorization({ users: n, items: 3, dim: 4 }), rangeErr('options.users')),
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 65_537 }), nonFinite), (d) =>
        expectThrows(() => new MatrixFactorization({ users: 2, items: 3, dim: d }), rangeErr('options.dim')),
      ),
      RUNS,
    );
  });
  it('Trainer.fit: bad options, empty data and indices beyond the model reject before any work', async () => {
    const model = new MatrixFactorization({ users: 3, items: 3, dim: 2 });
    const data = new Interactions({ users: [0, 1], items: [1, 2] });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer({ max: 0 }), fc.constantFrom(NaN, 1.5)), async (epochs) =>
        expectRejects(() => Trainer.fit(model, data, { epochs }), rangeErr('options.epochs')),
      ),
      { numRuns: 20 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.double({ max: 0 }), nonFinite), async (lr) =>
        expectRejects(() => Trainer.fit(model, data, { epochs: 1, optimizer: { type: 'sgd', lr } }), rangeErr('options.optimizer.lr')),
      ),
      { numRuns: 20 },
    );
    await expectRejects(() => Trainer.fit(model, new Interactions({ users: [], items: [] }), { epochs: 1 }), rangeErr('for data'));
    await expectRejects(() => Trainer.fit(model, new Interactions({ users: [5], items: [0] }), { epochs: 1 }), rangeErr('for data'));
  });
  it('loadModel / saveModel / loadInteractions argument types', async () => {
    const notString = fc.anything().filter((x) => typeof x !== 'string');
    await fc.assert(
      fc.asyncProperty(notString, async (p) => expectRejects(() => loadModel(p as string), typeErr('for path'))),
      { numRuns: 30 },
    );
    await expectRejects(() => saveModel('/tmp/never-written.safetensors', {} as never), typeErr('for model'));
    await expectRejects(() => loadInteractions('/nonexistent/file.inter'), { name: 'RecbridgeError', code: 'ERR_MALFORMED_DATA' });
    await expectRejects(() => loadInteractions('/nonexistent/file.inter', { format: 'xml' as never }), rangeErr('options.format'));
  });
  it('parseInteractions / parseFeatures / parseLinks: source and name types, a detached source, empty input', () => {
    const notSource = fc.anything().filter((x) => typeof x !== 'string' && !ArrayBuffer.isView(x));
    fc.assert(
      fc.property(notSource, (source) => {
        expectThrows(() => parseInteractions(source as never), typeErr('for source'));
        expectThrows(() => parseFeatures(source as never, { entities: new Vocabulary() }), typeErr('for source'));
        expectThrows(() => parseLinks(source as never), typeErr('for source'));
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(
        fc.anything().filter((x) => x !== undefined && (typeof x !== 'string' || x === '')),
        (name) => expectThrows(() => parseInteractions('a b', { name: name as never }), typeErr('options.name')),
      ),
      { numRuns: 50 },
    );
    const gone = new Uint8Array(4);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    expectThrows(() => parseInteractions(gone), detachedErr('source'));
    expect(parseInteractions('').interactions.size).toBe(0);
    expect(parseLinks(new Uint8Array(0)).pairs).toEqual([]);
    expectThrows(() => parseFeatures('', { entities: new Vocabulary() }), {
      name: 'RecbridgeError',
      code: 'ERR_MALFORMED_DATA',
      mentions: '<string>: empty file',
    });
  });
  it('the remaining table rows: detached columns, empty files, wrong path types', async () => {
    expectThrows(() => new Interactions({ users: detached(() => new Int32Array(2)), items: new Int32Array(2) }), detachedErr('data.users'));
    expectThrows(() => configure({ threads: '2' as never }), typeErr('options.threads'));
    expectThrows(() => setIsa(5 as never), typeErr('for isa'));
    expectThrows(() => pool(table, [[1]], { mode: 'weighted-sum', weights: [[NaN]] }), rangeErr('options.weights[0][0]'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-bad-input-'));
    try {
      const empty = path.join(dir, 'empty.safetensors');
      fs.writeFileSync(empty, '');
      await expectRejects(() => loadModel(empty), { name: 'CorruptFileError', code: 'ERR_CORRUPT_FILE' });
      await expectRejects(() => inspectModel(empty), { name: 'CorruptFileError', code: 'ERR_CORRUPT_FILE' });
      const pairs = path.join(dir, 'empty.txt');
      fs.writeFileSync(pairs, '');
      expect((await loadInteractions(pairs)).interactions.size).toBe(0);
      await expectRejects(() => saveModel(5 as never, new MatrixFactorization({ users: 2, items: 2, dim: 2 })), typeErr('for path'));
      await expectRejects(() => loadInteractions(5 as never), typeErr('for path'));
      await expectRejects(() => loadFeatures(5 as never, { entities: new Vocabulary() }), typeErr('for path'));
      await expectRejects(() => loadFeatures(pairs, {} as never), typeErr('options.entities'));
      await expectRejects(
        () =>
          Trainer.fitPartial(new MatrixFactorization({ users: 2, items: 2, dim: 2 }), new Interactions({ users: [0], items: [0] }), {
            epochs: 0,
          }),
        rangeErr('options.epochs'),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The in-memory parsers (parseInteractions, parseFeatures, parseLinks) against the file loaders:
// the same text gives the same result or the same error (with the source name in place of the
// path), as a string, as bytes and as a file — including rows, CRLF pairs and multi-byte
// characters that straddle the loaders' 1 MiB chunks. Files are generated here.
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  Interactions,
  Vocabulary,
  loadFeatures,
  loadInteractions,
  loadLinks,
  parseFeatures,
  parseInteractions,
  parseLinks,
  saveInteractions,
  type LoadFeaturesOptions,
  type LoadedFeatures,
  type LoadedInteractions,
} from '../../lib';
import { planted } from '../support/planted';

// The chunk-boundary cases parse a few MiB three times each, on a shared machine.
jest.setTimeout(60_000);

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-parse-'));
let seq = 0;
/** Writes text under a fresh folder so the file keeps exactly the given base name. */
const file = (name: string, data: string | Uint8Array) => {
  const p = path.join(dir, String(seq++), name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Caught = { name: string; code: string; message: string };
type Outcome<T> = { ok: T } | { error: Pick<Caught, 'name' | 'code' | 'message'> };

function settle<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: fn() };
  } catch (err) {
    const e = err as Caught;
    return { error: { name: e.name, code: e.code, message: e.message } };
  }
}
async function settleAsync<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    const e = err as Caught;
    return { error: { name: e.name, code: e.code, message: e.message } };
  }
}

const interactionsView = (r: LoadedInteractions) => ({
  users: r.users.toArray(),
  items: r.items.toArray(),
  rows: Array.from(r.interactions.users),
  cols: Array.from(r.interactions.items),
  values: r.interactions.values && Array.from(r.interactions.values),
  times: r.interactions.timestamps && Array.from(r.interactions.timestamps),
  skipped: r.skipped,
  filtered: r.filtered,
});

const featuresView = (r: LoadedFeatures) => ({
  entities: r.features.entities.toArray(),
  fields: r.features.fields.map((name) => {
    const f = r.features.field(name);
    if (f.kind === 'dense') return { name, kind: f.kind, dim: f.dim, values: Array.from(f.values), present: Array.from(f.present) };
    const tokens = f.vocabulary.toArray();
    if (f.kind === 'categorical') return { name, kind: f.kind, tokens, codes: Array.from(f.codes) };
    return { name, kind: f.kind, tokens, offsets: Array.from(f.offsets), indices: Array.from(f.indices) };
  }),
  missing: r.missing,
  unknown: r.unknown,
  skipped: r.skipped,
  filled: r.filled,
});

/** Deep equality through JSON: jest's toEqual takes seconds on the 100k-entry columns below. */
const expectSame = (actual: unknown, expected: unknown) => expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));

const view = <T, V>(o: Outcome<T>, f: (x: T) => V): Outcome<V> => ('ok' in o ? { ok: f(o.ok) } : o);
const renamed = <T>(o: Outcome<T>, from: string, to: string): Outcome<T> =>
  'ok' in o ? o : { error: { ...o.error, message: o.error.message.split(from).join(to) } };

/** The file loader, and the parser on the same text as a string and as bytes, agree. */
async function expectInteractionsAgree(name: string, data: string | Uint8Array, options: object = {}): Promise<Outcome<unknown>> {
  const p = file(name, data);
  const fromFile = renamed(view(await settleAsync(() => loadInteractions(p, options)), interactionsView), p, name);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  expectSame(
    view(
      settle(() => parseInteractions(bytes, { ...options, name })),
      interactionsView,
    ),
    fromFile,
  );
  expectSame(
    view(
      settle(() => parseInteractions(text, { ...options, name })),
      interactionsView,
    ),
    fromFile,
  );
  return fromFile;
}

/** Features options with a fresh vocabulary per load (loads may add to it). */
type FeaturesCase = Omit<LoadFeaturesOptions, 'entities'> & { entities: () => Vocabulary };

async function expectFeaturesAgree(name: string, data: string, options: FeaturesCase): Promise<Outcome<unknown>> {
  const p = file(name, data);
  const { entities, ...rest } = options;
  const fromFile = renamed(view(await settleAsync(() => loadFeatures(p, { ...rest, entities: entities() })), featuresView), p, name);
  expectSame(
    view(
      settle(() => parseFeatures(Buffer.from(data), { ...rest, entities: entities(), name })),
      featuresView,
    ),
    fromFile,
  );
  expectSame(
    view(
      settle(() => parseFeatures(data, { ...rest, entities: entities(), name })),
      featuresView,
    ),
    fromFile,
  );
  return fromFile;
}

describe('parseInteractions gives what loadInteractions gives', () => {
  const cases: [string, string, object][] = [
    ['u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n', {}],
    ['u1.base', '1\t2\t5\t10\n', {}],
    ['ratings.dat', '1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978298413\r\n', {}],
    ['other.dat', 'a::b::1::7\n', {}],
    ['pairs.dat', 'a b 1\n', {}],
    ['x.txt', '1::2::4::9\n', { format: 'movielens', time: null }],
    ['t.inter', 'user_id:token\titem_id:token\ttimestamp:float\nu\ti\t5.5\n', {}],
    [
      'x.inter',
      'user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\ti1\t5\t10\nu2\ti1\t3\t11\nu1\ti2\t4\t12\r\n\n',
      { minValue: 4 },
    ],
    ['t.tsv', 'u\ti\t2020-01-02\t4\n', { value: 3, time: 2 }],
    ['t.csv', 'when,user_id,item_id\n100,u,i\n50,v,i\n', { header: true, time: 'when' }],
    ['n2.csv', 'user_id,item_id\nu,i\n', { header: true, time: 'when' }],
    ['bad.data', '1\t2\t5\t10\n1\t3\t4\tyesterday\n2\t\t4\t11\n3\t4\n', { format: 'movielens' }],
    ['bad.data', '1\t2\t5\t10\n1\t3\t4\tyesterday\n2\t\t4\t11\n3\t4\n', { format: 'movielens', skipMalformed: true }],
    ['ratings.dat', '1::2::5::1\n9::2::x::1\n', {}],
    ['big.tsv', '1\t2\t1e39\n', {}],
    ['pairs.txt', 'alice apple 1\nbob banana\n\n  carol   cherry   2.5  \n', {}],
    ['pairs.txt', 'alice apple 1\nbob banana\n', { value: null }],
    ['ids.txt', 'ünï 東京 1\r\n😀 é\n', {}],
    ['empty.txt', '', {}],
    ['empty.inter', '', {}],
  ];
  test.each(cases)('%s %j', async (name, text, options) => {
    await expectInteractionsAgree(name, text, options);
  });

  test('frozen vocabularies, shared across calls, fail on the same line', async () => {
    const text = '1\ta\n7\ta\n';
    const p = file('frozen.tsv', text);
    const fromFile = await settleAsync(() => loadInteractions(p, { users: new Vocabulary(['1']).freeze() }));
    const fromText = settle(() => parseInteractions(text, { users: new Vocabulary(['1']).freeze(), name: 'frozen.tsv' }));
    expect(fromText).toEqual(renamed(fromFile, p, 'frozen.tsv'));
    expect(fromText).toMatchObject({
      error: { code: 'ERR_MALFORMED_DATA', message: 'frozen.tsv:2: unknown user id "7" (the users vocabulary is frozen)' },
    });
  });

  test.each(['tsv', 'csv', 'recbole'] as const)('a saved %s split reads back the same from file and memory', async (format) => {
    const { train } = planted(60, 40, 3);
    const users = new Vocabulary(Array.from({ length: 60 }, (_, u) => `user-${u}`));
    const items = new Vocabulary(Array.from({ length: 40 }, (_, i) => `ítem_${i}`));
    const p = path.join(dir, `saved-${format}.${format === 'recbole' ? 'inter' : format}`);
    await saveInteractions(
      p,
      new Interactions({ users: train.users, items: train.items, values: Float32Array.from(train.users, (u) => u % 5) }),
      { users, items, format },
    );
    const fromFile = interactionsView(await loadInteractions(p, { header: format === 'recbole' ? undefined : true }));
    const bytes = fs.readFileSync(p);
    const options = { header: format === 'recbole' ? undefined : true, name: path.basename(p) };
    expect(interactionsView(parseInteractions(bytes, options))).toEqual(fromFile);
    expect(interactionsView(parseInteractions(bytes.toString('utf8'), options))).toEqual(fromFile);
    expect(fromFile.rows.length).toBe(train.size);
  });

  test('without a name, a string is <string> and bytes are <buffer>; the format defaults to whitespace pairs', () => {
    expect(interactionsView(parseInteractions('a b 2\nc d 3\n'))).toMatchObject({ users: ['a', 'c'], items: ['b', 'd'], values: [2, 3] });
    expect(() => parseInteractions('a b 2\nc d x\n')).toThrow(
      expect.objectContaining({ name: 'RecbridgeError', code: 'ERR_MALFORMED_DATA', message: '<string>:2: value "x" is not a number' }),
    );
    expect(() => parseInteractions(Buffer.from('a b x\n'))).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_DATA', message: '<buffer>:1: value "x" is not a number' }),
    );
    // A name picks the format as a file name does; an explicit format wins.
    expect(parseInteractions('user_id:token\titem_id:token\nu\ti\n', { name: 'mine.inter' }).interactions.size).toBe(1);
    expect(parseInteractions('u,i\n', { name: 'x', format: 'csv' }).users.toArray()).toEqual(['u']);
    // A Uint8Array that is a view into a larger buffer reads only its own bytes.
    const whole = Buffer.from('XXa b\nYY');
    expect(parseInteractions(new Uint8Array(whole.buffer, whole.byteOffset + 2, 4)).users.toArray()).toEqual(['a']);
  });
});

describe('chunk boundaries (1 MiB) in files and in byte buffers', () => {
  /** ASCII rows exactly `bytes` long in all (the last one padded to fit), each ending with eol. */
  const filler = (bytes: number, eol = '\n') => {
    const rows: string[] = [];
    let size = 0;
    for (let k = 0; size < bytes - 40; k++) {
      const row = `u${k % 997}\ti${k % 101}\t${(k % 5) + 1}${eol}`;
      rows.push(row);
      size += row.length;
    }
    rows.push(`p\t${'x'.repeat(bytes - size - 4 - eol.length)}\t1${eol}`);
    return rows.join('');
  };

  test('a row split across two chunks', async () => {
    const head = filler(MiB - 7);
    const text = `${head}split\tacross\t4\nlast\tone\t5\n`;
    expect(Buffer.byteLength(head)).toBe(MiB - 7); // chunk one ends inside "across"
    const r = (await expectInteractionsAgree('rows.tsv', text)) as { ok: ReturnType<typeof interactionsView> };
    expect(r.ok.users.slice(-2)).toEqual(['split', 'last']);
    expect(r.ok.items.slice(-2)).toEqual(['across', 'one']);
  });

  test('CRLF with the \\r ending one chunk and the \\n starting the next', async () => {
    const bytes = Buffer.from(`${filler(MiB - 6, '\r\n')}u\ti\t2\r\nv\tj\t3\r\n`);
    expect([bytes[MiB - 1], bytes[MiB]]).toEqual([0x0d, 0x0a]);
    const r = (await expectInteractionsAgree('crlf.tsv', bytes)) as { ok: ReturnType<typeof interactionsView> };
    expect(r.ok.users.slice(-2)).toEqual(['u', 'v']);
    expect(r.ok.values!.slice(-2)).toEqual([2, 3]); // no stray \r left on a value
    expect(r.ok.items).not.toContainEqual(expect.stringContaining('\r'));
  });

  test.each([
    ['é', 1],
    ['東', 1],
    ['東', 2],
    ['😀', 1],
    ['😀', 2],
    ['😀', 3],
  ])('a multi-byte character (%s) split after %i byte(s) at the chunk boundary', async (ch, before) => {
    const prefix = filler(MiB - 20);
    const lead = 20 - before - 'u\t'.length; // the id starts with ASCII, then the character straddles
    const text = `${prefix}u\t${'a'.repeat(lead)}${ch}z\t1\n`;
    const bytes = Buffer.from(text);
    const at = bytes.indexOf(Buffer.from(ch), MiB - 40);
    expect([at, at + Buffer.byteLength(ch)]).toEqual([MiB - before, MiB - before + Buffer.byteLength(ch)]);
    const r = (await expectInteractionsAgree('utf8.tsv', bytes)) as { ok: ReturnType<typeof interactionsView> };
    expect(r.ok.items.at(-1)).toBe(`${'a'.repeat(lead)}${ch}z`);
  });

  test('features and links across the boundary too', async () => {
    const rows: string[] = ['item_id:token\tname:token_seq\temb:float_seq\n'];
    for (let e = 0, size = 0; size < MiB + 5000; e++) {
      rows.push(`${e}\tnäme ${e % 7} ç\t${e % 3} ${(e % 11) / 4}\n`);
      size += rows[rows.length - 1].length;
    }
    const text = rows.join('');
    const n = rows.length - 1;
    await expectFeaturesAgree('big.item', text, { entities: () => new Vocabulary(Array.from({ length: n }, (_, e) => String(e))) });
    const links = Array.from({ length: 60000 }, (_, k) => `a${k}\tb😀${k}\n`).join('');
    expect(Buffer.byteLength(links)).toBeGreaterThan(MiB);
    const p = file('big.link.tsv', links);
    const fromFile = await loadLinks(p);
    expectSame(parseLinks(Buffer.from(links), { name: 'big.link.tsv' }), fromFile);
    expectSame(parseLinks(links, { name: 'big.link.tsv' }), fromFile);
    expect(fromFile.pairs[59999]).toEqual(['a59999', 'b😀59999']);
  });
});

describe('byte-order mark', () => {
  test('a leading UTF-8 BOM is not part of the first column name or id', async () => {
    const inter = '\ufeffuser_id:token\titem_id:token\trating:float\nu\ti\t3\n';
    const r = (await expectInteractionsAgree('bom.inter', inter)) as { ok: ReturnType<typeof interactionsView> };
    expect(r.ok).toMatchObject({ users: ['u'], values: [3] });
    const tsv = (await expectInteractionsAgree('bom.tsv', '\ufeffu1\ti1\n')) as { ok: ReturnType<typeof interactionsView> };
    expect(tsv.ok.users).toEqual(['u1']);
    const dat = (await expectInteractionsAgree('bom.dat', '\ufeff1::2::3::4\n')) as { ok: ReturnType<typeof interactionsView> };
    expect(dat.ok).toMatchObject({ users: ['1'], times: [4] });
    await expectFeaturesAgree('bom.item', '\ufeffitem_id:token\tkind:token\n1\ta\n', { entities: () => new Vocabulary(['1']) });
    expect(parseFeatures('\ufeffid,kind\n1,a\n', { entities: new Vocabulary(['1']), format: 'csv' }).missing).toBe(0);
    expect(parseLinks('\ufeffx y\n').pairs).toEqual([['x', 'y']]);
  });

  test('a BOM anywhere else is data', () => {
    expect(parseInteractions('a\tb\n\ufeffc\td\n', { format: 'tsv' }).users.toArray()).toEqual(['a', '\ufeffc']);
  });
});

describe('parseFeatures and parseLinks give what the loaders give', () => {
  const ITEMS =
    'item_id:token\ttitle:token_seq\tyear:token\tclass:token_seq\tprice:float\temb:float_seq\n' +
    "10\tToy Story\t1995\tAnimation Children's Comedy\t3.5\t1 2\n" +
    '30\tHeat\t1995\tAction  Crime\t\t3 4\n' +
    '99\tNot In Vocabulary\t2000\tDrama\t1\t0 0\n' +
    '20\tUnknown\t\t\tnan\t\n';
  const four = () => new Vocabulary(['20', '10', '30', '40']);
  const cases: [string, string, FeaturesCase][] = [
    ['x.item', ITEMS, { entities: four }],
    ['x.item', ITEMS, { entities: four, fillMissing: true }],
    ['x.item', ITEMS, { entities: four, fillMissing: true, unknownIds: 'add' }],
    ['x.item', ITEMS, { entities: four, unknownIds: 'error', skipMalformed: true }],
    ['x.item', ITEMS, { entities: four, fields: ['class', 'emb'], fillMissing: true }],
    ['x.item', ITEMS, { entities: four, fields: { year: 'float', title: 'token' }, fillMissing: true, skipMalformed: true }],
    ['x.item', 'item_id:token\tkind\n1\ta\n', { entities: four }],
    ['x.item', 'item_id:token\tkind:token\n10\ta\n10\tb\n', { entities: four }],
    ['x.item', 'item_id:token\temb:float_seq\n10\t\n', { entities: four, fillMissing: true }],
    ['x.item', 'item_id:token\tv:float\n10\t1e39\n', { entities: four }],
    ['x.item', '', { entities: four }],
    ['u.user', 'user_id:token\tage:float\tocc:token\n20\t24\ttech\n30\t53\tother\n', { entities: four }],
    ['f.csv', 'id,kind,score\n10,a,0.5\n20,b,\n30,c,1e3\n', { entities: four, fillMissing: true }],
    ['f.csv', 'kind;id\na;10\n', { entities: four, id: 'nope' }],
    ['f.tsv', 'id\ttags\n10\ta,b\n20\t\n', { entities: four, separator: ',' }],
  ];
  test.each(cases)('%s %#', async (name, text, options) => {
    await expectFeaturesAgree(name, text, options);
  });

  test.each([
    ['l.link', 'a_id:token\tb_id:token\nx\ty\n', {}],
    ['l.csv', 'from,to\nx,y\n,z\n', { header: true, a: 'to', b: 'from', skipMalformed: true }],
    ['l.txt', 'x y\nz\n', {}],
    ['l.tsv', 'x\ty\n', { header: true, a: 'missing' }],
  ])('links %s', async (name, text, options) => {
    const p = file(name, text);
    const fromFile = renamed(await settleAsync(() => loadLinks(p, options)), p, name);
    expect(settle(() => parseLinks(text, { ...options, name }))).toEqual(fromFile);
    expect(settle(() => parseLinks(Buffer.from(text), { ...options, name }))).toEqual(fromFile);
  });

  test('messages name the source', () => {
    expect(() => parseFeatures('', { entities: new Vocabulary() })).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_DATA', message: '<string>: empty file (expected a header line)' }),
    );
    expect(() =>
      parseFeatures('id\temb:float_seq\n1\t\n', { entities: new Vocabulary(['1']), fillMissing: true, name: 'my features' }),
    ).toThrow(expect.objectContaining({ message: 'my features: field emb: no line gives it a value, so its width is unknown' }));
    expect(() => parseLinks(Buffer.from('x\n'))).toThrow(
      expect.objectContaining({ message: '<buffer>:1: expected at least 2 columns, found 1' }),
    );
  });
});

describe('arguments', () => {
  const typeErr = (argument: string) =>
    expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(`for ${argument} `) });
  const detached = () => {
    const a = new Uint8Array(4);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };

  test('the source is a string or a Uint8Array, attached', () => {
    for (const bad of [5, null, undefined, {}, ['a b'], new Uint16Array(2), new ArrayBuffer(2)]) {
      expect(() => parseInteractions(bad as never)).toThrow(typeErr('source'));
      expect(() => parseFeatures(bad as never, { entities: new Vocabulary() })).toThrow(typeErr('source'));
      expect(() => parseLinks(bad as never)).toThrow(typeErr('source'));
    }
    for (const parse of [
      (s: Uint8Array) => parseInteractions(s),
      (s: Uint8Array) => parseFeatures(s, { entities: new Vocabulary() }),
      (s: Uint8Array) => parseLinks(s),
    ]) {
      expect(() => parse(detached())).toThrow(
        expect.objectContaining({ name: 'DetachedBufferError', code: 'ERR_DETACHED_BUFFER', message: expect.stringContaining('source') }),
      );
    }
    // A Uint8Array from another realm (a Buffer is one too) is accepted.
    expect(parseInteractions(Buffer.from('a b\n')).interactions.size).toBe(1);
  });

  test("options: a plain object; name a non-empty string; the loaders' own checks", () => {
    expect(() => parseInteractions('a b', 5 as never)).toThrow(typeErr('options'));
    expect(() => parseInteractions('a b', { name: '' })).toThrow(typeErr('options.name'));
    expect(() => parseLinks('a b', { name: 7 as never })).toThrow(typeErr('options.name'));
    expect(() => parseFeatures('id\n', { entities: new Vocabulary(), name: null as never })).toThrow(typeErr('options.name'));
    expect(() => parseFeatures('id\n', {} as never)).toThrow(typeErr('options.entities'));
    expect(() => parseFeatures('id\n', undefined as never)).toThrow(typeErr('options.entities'));
    expect(() => parseInteractions('a b', { format: 'xml' as never })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.format') }),
    );
    expect(() => parseInteractions('a b', { time: 'when' })).toThrow(typeErr('options.time'));
    expect(() => parseLinks('a b', { format: 'json' as never })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => parseFeatures('id\n', { entities: new Vocabulary(), unknownIds: 'drop' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });

  test('any value in any position gives an argument error or ERR_MALFORMED_DATA, never an internal error', () => {
    const allowed = ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_ARG_VALUE', 'ERR_DETACHED_BUFFER', 'ERR_MALFORMED_DATA'];
    const anyOptions = fc.oneof(
      fc.anything(),
      fc.record(
        {
          name: fc.oneof(fc.string(), fc.anything()),
          format: fc.constantFrom('recbole', 'tsv', 'csv', 'movielens', 'whitespace', 'xml', 5),
          header: fc.oneof(fc.boolean(), fc.anything()),
          user: fc.oneof(fc.nat(4), fc.string(), fc.anything()),
          value: fc.oneof(fc.nat(4), fc.constant(null), fc.anything()),
          time: fc.oneof(fc.nat(4), fc.constant(null), fc.string()),
          minValue: fc.oneof(fc.double(), fc.anything()),
          entities: fc.oneof(fc.constant(new Vocabulary(['1', '2'])), fc.anything()),
          fields: fc.oneof(fc.array(fc.string()), fc.dictionary(fc.string(), fc.constantFrom('token', 'float', 'x')), fc.anything()),
          id: fc.oneof(fc.nat(3), fc.string(), fc.anything()),
          separator: fc.oneof(fc.constantFrom(' ', ','), fc.anything()),
          unknownIds: fc.constantFrom('skip', 'error', 'add', 'x'),
          skipMalformed: fc.boolean(),
          fillMissing: fc.oneof(fc.boolean(), fc.anything()),
          a: fc.oneof(fc.nat(3), fc.string()),
        },
        { requiredKeys: [] },
      ),
    );
    const anySource = fc.oneof(
      fc.anything(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array(),
      fc.constantFrom('user_id:token\titem_id:token\n1\t2\n', 'id\tx:float\n1\t2\n'),
    );
    const parsers = [parseInteractions, parseFeatures, parseLinks] as ((s: unknown, o: unknown) => unknown)[];
    fc.assert(
      fc.property(fc.nat(2), anySource, anyOptions, (which, source, options) => {
        const outcome = settle(() => parsers[which](source, options));
        if ('error' in outcome && !allowed.includes(outcome.error.code))
          throw new Error(`undocumented ${outcome.error.name} ${outcome.error.code}: ${outcome.error.message}`);
      }),
      { numRuns: 600 },
    );
  });
});

// Ordinary headered CSV and TSV: named columns, header and delimiter detection, RFC 4180 quoting
// (delimiters, doubled quotes and line breaks inside quotes, CRLF, a BOM), minValue, the errors
// that name what to fix, and hostile inputs that must fail fast instead of hanging or growing
// memory. Every case reads the same text from a file, a string and bytes, which must agree.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  Vocabulary,
  loadFeatures,
  loadInteractions,
  loadLinks,
  parseFeatures,
  parseInteractions,
  parseLinks,
  type LoadInteractionsOptions,
  type LoadedInteractions,
} from '../../lib';

jest.setTimeout(60_000);

const MiB = 1 << 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-csv-'));
let seq = 0;
const file = (name: string, data: string | Uint8Array) => {
  const p = path.join(dir, String(seq++), name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Outcome = { ok: ReturnType<typeof view> } | { error: { name: string; code: string; message: string } };

const view = (r: LoadedInteractions) => ({
  rows: Array.from(r.interactions.users, (u, k) => [
    r.users.id(u),
    r.items.id(r.interactions.items[k]),
    r.interactions.values?.[k] ?? null,
    r.interactions.timestamps?.[k] ?? null,
  ]),
  filtered: r.filtered,
  skipped: r.skipped,
});
const caught = (err: unknown) => {
  const e = err as { name: string; code: string; message: string };
  return { error: { name: e.name, code: e.code, message: e.message } };
};

/** Reads the text as a file, a string and bytes; all three must agree (messages name the file). */
async function read(name: string, text: string | Uint8Array, options: LoadInteractionsOptions = {}): Promise<Outcome> {
  const p = file(name, text);
  let fromFile: Outcome;
  try {
    fromFile = { ok: view(await loadInteractions(p, options)) };
  } catch (err) {
    fromFile = caught(err);
    fromFile.error.message = fromFile.error.message.split(p).join(name);
  }
  for (const source of [typeof text === 'string' ? text : Buffer.from(text).toString('utf8'), Buffer.from(text)]) {
    let inMemory: Outcome;
    try {
      inMemory = { ok: view(parseInteractions(source, { ...options, name })) };
    } catch (err) {
      inMemory = caught(err);
    }
    // Through JSON: jest's deep equality takes seconds on the chunk-boundary case's 50k rows.
    expect(JSON.stringify(inMemory)).toBe(JSON.stringify(fromFile));
  }
  return fromFile;
}
const rows = async (name: string, text: string, options?: LoadInteractionsOptions) => {
  const r = await read(name, text, options);
  if (!('ok' in r)) throw new Error(`expected rows, got ${r.error.code} ${r.error.message}`);
  return r.ok.rows;
};
const failure = async (name: string, text: string, options?: LoadInteractionsOptions) => {
  const r = await read(name, text, options);
  if (!('error' in r)) throw new Error(`expected an error, got ${JSON.stringify(r.ok)}`);
  return r.error;
};

const MOVIELENS =
  'userId,movieId,rating,timestamp\n' +
  '1,"Toy Story (1995)",4.0,964982703\n' +
  '1,"American President, The (1995)",3.5,964982224\n' +
  '2,"Say ""Hi"" (2001)",5,964983815\n' +
  '3,Heat (1995),2,964982931\n';

describe('a headered ratings CSV', () => {
  test('is read with no options: header, delimiter, columns and quoting all detected', async () => {
    expect(await rows('ratings.csv', MOVIELENS)).toEqual([
      ['1', 'Toy Story (1995)', 4, 964982703],
      ['1', 'American President, The (1995)', 3.5, 964982224],
      ['2', 'Say "Hi" (2001)', 5, 964983815],
      ['3', 'Heat (1995)', 2, 964982931],
    ]);
  });

  test('named columns and minValue turn ratings into implicit feedback', async () => {
    const r = await read('ratings.csv', MOVIELENS, { userColumn: 'userId', itemColumn: 'movieId', valueColumn: 'rating', minValue: 4 });
    expect(r).toEqual({
      ok: {
        rows: [
          ['1', 'Toy Story (1995)', 4, 964982703],
          ['2', 'Say "Hi" (2001)', 5, 964983815],
        ],
        filtered: 2,
        skipped: 0,
      },
    });
    // By index too, with the header skipped; timeColumn null drops the times.
    expect(await rows('ratings.csv', MOVIELENS, { header: true, userColumn: 1, itemColumn: 0, valueColumn: 2, timeColumn: null })).toEqual([
      ['Toy Story (1995)', '1', 4, null],
      ['American President, The (1995)', '1', 3.5, null],
      ['Say "Hi" (2001)', '2', 5, null],
      ['Heat (1995)', '3', 2, null],
    ]);
  });

  test('the older option names still work, and are one option with the new ones', async () => {
    expect(await rows('ratings.csv', MOVIELENS, { user: 'movieId', item: 'userId', value: null })).toEqual(
      await rows('ratings.csv', MOVIELENS, { userColumn: 'movieId', itemColumn: 'userId', valueColumn: null }),
    );
    expect(await rows('ratings.csv', MOVIELENS, { user: 'userId', userColumn: 'userId' })).toHaveLength(4);
    expect(() => parseInteractions(MOVIELENS, { user: 'userId', userColumn: 'movieId' })).toThrow(
      expect.objectContaining({
        name: 'RangeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringContaining('options.userColumn'),
      }),
    );
  });

  test('CRLF line endings and a byte-order mark', async () => {
    const crlf = `\ufeff${MOVIELENS.replace(/\n/g, '\r\n')}`;
    expect(await rows('ratings.csv', crlf)).toEqual(await rows('ratings.csv', MOVIELENS));
  });

  test('TSV headers are detected too; RecBole-typed headers in a .tsv or .csv work', async () => {
    expect(await rows('r.tsv', 'userId\tmovieId\trating\n7\t8\t1\n')).toEqual([['7', '8', 1, null]]);
    expect(await rows('r.csv', 'user_id:token,item_id:token\nu,i\n')).toEqual([['u', 'i', null, null]]);
  });
});

describe('header detection (header: "auto", the default for csv and tsv)', () => {
  test.each([
    ['numbers under a line of names', 'userId,movieId,rating\n1,2,3\n', [['1', '2', 3, null]]],
    ['a user and an item column name over string ids', 'User ID,item\nalice,apple\n', [['alice', 'apple', null, null]]],
    [
      'a first line with a number is data',
      'alice,apple,5\nbob,banana,4\n',
      [
        ['alice', 'apple', 5, null],
        ['bob', 'banana', 4, null],
      ],
    ],
    [
      'strings everywhere is data',
      'alice,apple\nbob,banana\n',
      [
        ['alice', 'apple', null, null],
        ['bob', 'banana', null, null],
      ],
    ],
    ['a single line of numbers is data', '1,2\n', [['1', '2', null, null]]],
    ['an empty file has no rows', '', []],
  ])('%s', async (_, text, expected) => {
    expect(await rows('x.csv', text)).toEqual(expected);
  });

  test('unknown names over string ids read as data; header: true says otherwise', async () => {
    expect(await rows('x.csv', 'buyer,product\nalice,apple\n')).toHaveLength(2);
    expect(await rows('x.csv', 'buyer,product\nalice,apple\n', { header: true, userColumn: 'buyer', itemColumn: 'product' })).toEqual([
      ['alice', 'apple', null, null],
    ]);
  });

  test('header: false reads the first line as data; a named column implies a header', async () => {
    expect(await rows('x.csv', 'user_id,item_id\nu,i\n', { header: false })).toEqual([
      ['user_id', 'item_id', null, null],
      ['u', 'i', null, null],
    ]);
    expect(await rows('x.csv', 'buyer,product\nalice,apple\n', { userColumn: 'buyer', itemColumn: 1 })).toEqual([
      ['alice', 'apple', null, null],
    ]);
  });

  test('a malformed first row is reported, not taken for a header', async () => {
    expect(await failure('x.csv', '1,2,abc\n3,4,5\n')).toEqual({
      name: 'RecbridgeError',
      code: 'ERR_MALFORMED_DATA',
      message: 'x.csv:1: value "abc" is not a number',
    });
  });

  test('whitespace files keep header: false by default', async () => {
    expect(await rows('x.txt', 'user item\nu i\n')).toHaveLength(2);
    expect(await rows('x.txt', 'user item\nu i\n', { header: 'auto' })).toEqual([['u', 'i', null, null]]);
  });
});

describe('delimiters', () => {
  const table = [
    ['u1', 'i 1', 4, null],
    ['u2', 'i2', 2.5, null],
  ];
  test.each([';', '\t', '|'])('%j is detected in a .csv file', async (d) => {
    expect(await rows('x.csv', `user${d}item${d}rating\nu1${d}i 1${d}4\nu2${d}i2${d}2.5\n`)).toEqual(table);
  });

  test('the delimiter that cuts every record the same way wins over a more frequent one', async () => {
    // MovieLens' movies.csv: genres hold `|`, commas separate the columns.
    const movies = '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n2,Jumanji (1995),Adventure|Children\n';
    expect(await rows('movies.csv', movies, { valueColumn: null })).toEqual([
      ['1', 'Toy Story (1995)', null, null],
      ['2', 'Jumanji (1995)', null, null],
    ]);
    // Decimal commas under semicolons.
    expect(await rows('x.csv', '1;2;4,5\n1;3;3,5\n', { valueColumn: null })).toEqual([
      ['1', '2', null, null],
      ['1', '3', null, null],
    ]);
  });

  test('an explicit delimiter wins; "auto" is the default', async () => {
    expect(await rows('x.csv', 'a;b,c\n', { delimiter: ',', header: false })).toEqual([['a;b', 'c', null, null]]);
    expect(await rows('x.csv', 'a;b,c\n', { delimiter: ';', header: false })).toEqual([['a', 'b,c', null, null]]);
    expect(await rows('x.tsv', 'a;b\tc\n', { delimiter: 'auto' })).toEqual([['a;b', 'c', null, null]]);
    expect(await rows('x.txt', 'a|b|3\n', { delimiter: '|' })).toEqual([['a', 'b', 3, null]]);
  });
});

describe('RFC 4180 quoting', () => {
  test('delimiters, doubled quotes and line breaks (LF and CRLF, kept as written) inside quotes', async () => {
    const text = (last: string) => `user,item,rating\n"a,b","say ""hi""",1\n"multi\nline","crlf\r\nkept",2\r\n"${last}","x",3\n`;
    expect(await failure('q.csv', text(''))).toMatchObject({ message: 'q.csv:6: empty user or item id' });
    expect(await rows('q.csv', text('c'))).toEqual([
      ['a,b', 'say "hi"', 1, null],
      ['multi\nline', 'crlf\r\nkept', 2, null],
      ['c', 'x', 3, null],
    ]);
  });

  test('a quote inside an unquoted field is an ordinary character', async () => {
    expect(await rows('q.csv', 'u,5" disk,1\nv,x"y",2\n')).toEqual([
      ['u', '5" disk', 1, null],
      ['v', 'x"y"', 2, null],
    ]);
  });

  test('quoting is on for csv, off for tsv and RecBole unless asked', async () => {
    expect(await rows('q.tsv', '"u"\t"i"\n', { header: false })).toEqual([['"u"', '"i"', null, null]]);
    expect(await rows('q.tsv', '"u\tv"\t"i"\n', { header: false, quoted: true })).toEqual([['u\tv', 'i', null, null]]);
    expect(await rows('q.csv', '"u","i"\n', { header: false, quoted: false })).toEqual([['"u"', '"i"', null, null]]);
    expect(await rows('q.inter', 'user_id:token\titem_id:token\n"u\t"i\n')).toEqual([['"u', '"i', null, null]]);
  });

  test('an unclosed quote names the line it opened on, even with skipMalformed', async () => {
    const text = 'user,item\nu,i\nv,"open\nw,j\n';
    for (const skipMalformed of [false, true]) {
      expect(await failure('q.csv', text, { skipMalformed })).toEqual({
        name: 'RecbridgeError',
        code: 'ERR_MALFORMED_DATA',
        message:
          'q.csv:3: a quoted field opened on this line is never closed (the file ends inside it; a quote inside a quoted field is written "")',
      });
    }
  });

  test('text after a closing quote is a malformed row (skipMalformed skips it, multi-line or not)', async () => {
    const text = 'user,item\nu,"i"x\nv,"j\nk"y\nw,l\n';
    expect(await failure('q.csv', text)).toMatchObject({
      message: 'q.csv:2: field 2 has text after its closing quote (a quote inside a quoted field is written "")',
    });
    expect(await read('q.csv', text, { skipMalformed: true })).toEqual({ ok: { rows: [['w', 'l', null, null]], filtered: 0, skipped: 2 } });
  });

  test('a quoted line break across the 1 MiB chunk boundary, with \\r ending the first chunk', async () => {
    const rowsText: string[] = ['user,item,rating\n'];
    let size = rowsText[0].length;
    for (let k = 0; size < MiB - 200; k++) {
      rowsText.push(`u${k % 97},i${k % 13},${k % 5}\n`);
      size += rowsText[rowsText.length - 1].length;
    }
    const pad = MiB - size - 'last,"ab'.length - 1; // the \r is the last byte of the first chunk
    const text = `${rowsText.join('')}last,"${'x'.repeat(pad)}ab\r\ncd",5\n`;
    expect(Buffer.byteLength(text.slice(0, text.indexOf('\r') + 1))).toBe(MiB);
    const r = await rows('chunks.csv', text);
    expect(r.at(-1)).toEqual(['last', `${'x'.repeat(pad)}ab\r\ncd`, 5, null]);
    expect(r).toHaveLength(rowsText.length);
  });
});

describe('errors name what to fix', () => {
  test('an unknown column name lists the header', async () => {
    expect(await failure('r.csv', MOVIELENS, { itemColumn: 'movie' })).toEqual({
      name: 'RecbridgeError',
      code: 'ERR_MALFORMED_DATA',
      message: 'r.csv:1: no column "movie" for options.itemColumn (the header has "userId", "movieId", "rating", "timestamp")',
    });
    expect(await failure('r.csv', 'a,b,c\n1,2,3\n')).toMatchObject({
      message:
        'r.csv:1: no user column: the header has no column named user_id or user (it has "a", "b", "c"); name the user column with options.userColumn',
    });
  });

  test('a row missing a column names file and line', async () => {
    expect(await failure('r.csv', 'userId,movieId,rating,timestamp\n1,2,3,4\n1,2\n')).toMatchObject({
      message: 'r.csv:3: expected at least 4 columns, found 2',
    });
  });

  test('minValue: a non-numeric value names file, line and value; a row or header without one is an error', async () => {
    expect(await failure('r.csv', 'user,item,rating\nu,i,4\nv,j,n/a\n', { minValue: 4 })).toMatchObject({
      message: 'r.csv:3: value "n/a" is not a number',
    });
    expect(await failure('r.csv', 'u,i,4\nv,j\n', { minValue: 4 })).toMatchObject({
      message: 'r.csv:2: expected at least 3 columns, found 2',
    });
    expect(await failure('r.csv', 'user,item,when\nu,i,4\n', { minValue: 4 })).toMatchObject({
      message: expect.stringMatching(
        /^r\.csv:1: options\.minValue needs a value column: the header has no column named rating or weight .*options\.valueColumn$/,
      ),
    });
    expect(() => parseInteractions('u,i\n', { valueColumn: null, minValue: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('options.minValue') }),
    );
  });

  test('argument errors name the option', () => {
    const bad: [LoadInteractionsOptions, string, string][] = [
      [{ delimiter: ':' as never }, 'ERR_OUT_OF_RANGE', 'options.delimiter'],
      [{ delimiter: 5 as never }, 'ERR_INVALID_ARG_TYPE', 'options.delimiter'],
      [{ quoted: 'yes' as never }, 'ERR_INVALID_ARG_TYPE', 'options.quoted'],
      [{ maxRecordLength: 0 }, 'ERR_OUT_OF_RANGE', 'options.maxRecordLength'],
      [{ header: 'yes' as never }, 'ERR_INVALID_ARG_TYPE', 'options.header'],
      [{ userColumn: '' }, 'ERR_INVALID_ARG_TYPE', 'options.userColumn'],
      [{ userColumn: null as never }, 'ERR_INVALID_ARG_TYPE', 'options.userColumn'],
      [{ itemColumn: -1 }, 'ERR_OUT_OF_RANGE', 'options.itemColumn'],
      [{ timeColumn: 1.5 }, 'ERR_OUT_OF_RANGE', 'options.timeColumn'],
      [{ format: 'whitespace', quoted: true }, 'ERR_OUT_OF_RANGE', 'options.quoted'],
    ];
    for (const [options, code, argument] of bad) {
      expect(() => parseInteractions('u,i\n', { name: 'x.csv', ...options })).toThrow(
        expect.objectContaining({ code, message: expect.stringContaining(argument) }),
      );
    }
  });
});

describe('hostile input fails fast, with bounded memory', () => {
  test('a single 50 MB line, from a string and from a file', async () => {
    const line = 'x'.repeat(50_000_000);
    const expected = expect.objectContaining({
      code: 'ERR_MALFORMED_DATA',
      message: expect.stringContaining('one.csv:1: line longer than 1048576 characters'),
    });
    expect(() => parseInteractions(line, { name: 'one.csv' })).toThrow(expected);
    await expect(loadInteractions(file('one.csv', line))).rejects.toEqual(expected);
    expect(() => parseInteractions(`a,b\n${line}`, { name: 'one.csv', maxRecordLength: 100 })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('one.csv:2: line longer than 100 characters') }),
    );
  });

  test('an endless source without line breaks (/dev/zero) is rejected after about maxRecordLength', async () => {
    const zero = '/dev/zero';
    if (!fs.existsSync(zero)) return;
    for (const load of [
      () => loadInteractions(zero, { format: 'csv' }),
      () => loadFeatures(zero, { format: 'csv', entities: new Vocabulary() }),
      () => loadLinks(zero, { format: 'csv' }),
    ]) {
      await expect(load()).rejects.toEqual(expect.objectContaining({ message: expect.stringContaining('/dev/zero:1: line longer than') }));
    }
  });

  test('an unclosed quote over an endless stream of lines is rejected at maxRecordLength', async () => {
    const fifo = path.join(dir, 'endless.csv');
    execFileSync('mkfifo', [fifo]);
    // A writer that never stops: only the loader's bound can end this read.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(fifo)},'w');fs.writeSync(fd,'u,"open\\n');const b=Buffer.from('x\\n'.repeat(32768));for(;;)fs.writeSync(fd,b);`,
      ],
      { stdio: 'ignore' },
    );
    try {
      await expect(loadInteractions(fifo, { format: 'csv', header: false, delimiter: ',', maxRecordLength: 4 * MiB })).rejects.toEqual(
        expect.objectContaining({
          code: 'ERR_MALFORMED_DATA',
          message: expect.stringContaining('endless.csv:1: a quoted field opened on this line is still open after 4194304 characters'),
        }),
      );
    } finally {
      writer.kill();
    }
  });

  test('an unclosed quote in 50 MB held in memory stops at the bound', () => {
    const text = `user,item\nu,"${'x\n'.repeat(25_000_000)}`;
    const started = Date.now();
    expect(() => parseInteractions(text, { name: 'big.csv' })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('big.csv:2: a quoted field opened on this line is still open after 1048576'),
      }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('features and links read CSV the same way', () => {
  test("MovieLens' movies.csv: quoted titles with commas, genres as a `|` sequence", async () => {
    const movies =
      'movieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation|Children\r\n11,"American President, The (1995)",Comedy|Drama|Romance\r\n';
    const entities = () => new Vocabulary(['11', '1', '2']);
    const options = { id: 'movieId', fields: { title: 'token', genres: 'token_seq' }, separator: '|' } as const;
    const fromFile = await loadFeatures(file('movies.csv', movies), { ...options, entities: entities() });
    const fromText = parseFeatures(movies, { ...options, entities: entities(), name: 'movies.csv' });
    for (const r of [fromFile, fromText]) {
      expect(r.missing).toBe(1);
      const title = r.features.field('title');
      if (title.kind !== 'categorical') throw new Error('title is not categorical');
      expect(Array.from(title.codes, (c) => (c < 0 ? null : title.vocabulary.id(c)))).toEqual([
        'American President, The (1995)',
        'Toy Story (1995)',
        null,
      ]);
      const genres = r.features.field('genres');
      if (genres.kind !== 'multi') throw new Error('genres is not multi');
      expect(Array.from(genres.indices.subarray(genres.offsets[0], genres.offsets[1]), (t) => genres.vocabulary.id(t))).toEqual([
        'Comedy',
        'Drama',
        'Romance',
      ]);
    }
  });

  test('features: a sniffed ; delimiter, quoted fields, and an unclosed quote', async () => {
    const r = parseFeatures('id;name\n1;"a;b"\n', { entities: new Vocabulary(['1']), format: 'csv' });
    const name = r.features.field('name');
    expect(name.kind === 'categorical' && name.vocabulary.toArray()).toEqual(['a;b']);
    expect(() => parseFeatures('id,name\n1,"a\n', { entities: new Vocabulary(['1']), name: 'f.csv' })).toThrow(
      expect.objectContaining({
        code: 'ERR_MALFORMED_DATA',
        message: expect.stringContaining('f.csv:2: a quoted field opened on this line is never closed'),
      }),
    );
  });

  test('links: quoted ids, delimiter option and detection', async () => {
    const text = 'a|"b|c"\n"x ""y"""|z\n';
    const expected = [
      ['a', 'b|c'],
      ['x "y"', 'z'],
    ];
    expect(parseLinks(text, { format: 'csv', delimiter: '|' }).pairs).toEqual(expected);
    expect(parseLinks(text, { name: 'l.csv' }).pairs).toEqual(expected);
    expect((await loadLinks(file('l.csv', text))).pairs).toEqual(expected);
    expect(parseLinks('"a b" c\n').pairs).toEqual([['"a', 'b"']]); // whitespace files are not quoted
  });
});

// Loader formats (MovieLens u.data / ratings.dat, time columns) and the export round trip: every
// file is generated here under the OS temp folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Interactions, Vocabulary, loadInteractions, saveInteractions, saveSplit, splitByUser } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-loaders-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const triples = (r: { interactions: Interactions; users: Vocabulary; items: Vocabulary }) =>
  Array.from(r.interactions.users, (u, i) => [
    r.users.id(u),
    r.items.id(r.interactions.items[i]),
    r.interactions.values?.[i] ?? null,
    r.interactions.timestamps?.[i] ?? null,
  ]);

test('MovieLens u.data (tab) and ratings.dat (::) are detected by name and keep ratings and times', async () => {
  const udata = await loadInteractions(file('ml/u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n'));
  expect(triples(udata)).toEqual([
    ['196', '242', 3, 881250949],
    ['186', '302', 3, 891717742],
    ['196', '377', 1, 878887116],
  ]);
  const fold = await loadInteractions(file('ml/u1.base', '1\t2\t5\t10\n'));
  expect(fold.interactions.timestamps).toEqual(new Float64Array([10]));
  const dat = await loadInteractions(file('ml/ratings.dat', '1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978298413\r\n'));
  expect(triples(dat)).toEqual([
    ['1', '1193', 5, 978300760],
    ['1', '661', 3, 978302109],
    ['2', '1193', 4, 978298413],
  ]);
  // Any *.dat with :: is MovieLens; without it, plain whitespace pairs.
  const other = await loadInteractions(file('ml/other.dat', 'a::b::1::7\n'));
  expect(triples(other)).toEqual([['a', 'b', 1, 7]]);
  const plain = await loadInteractions(file('ml/pairs.dat', 'a b 1\n'));
  expect(plain.interactions.timestamps).toBeNull();
  // Explicit format on any name; time: null drops the column.
  const explicit = await loadInteractions(file('ml/x.txt', '1::2::4::9\n'), { format: 'movielens', time: null });
  expect(explicit.interactions.timestamps).toBeNull();
  expect(Array.from(explicit.interactions.values!)).toEqual([4]);
});

test('time columns: RecBole timestamp by default, tsv/csv by index or name, ISO dates as seconds', async () => {
  const rec = await loadInteractions(file('t.inter', 'user_id:token\titem_id:token\ttimestamp:float\nu\ti\t5.5\n'));
  expect(rec.interactions.timestamps).toEqual(new Float64Array([5.5]));
  expect(rec.interactions.values).toBeNull();
  const tsv = await loadInteractions(file('t.tsv', 'u\ti\t2020-01-02\t4\n'), { value: 3, time: 2 });
  expect(tsv.interactions.timestamps![0]).toBe(Date.UTC(2020, 0, 2) / 1000);
  const csv = await loadInteractions(file('t.csv', 'when,user_id,item_id\n100,u,i\n50,v,i\n'), { header: true, time: 'when' });
  expect(Array.from(csv.interactions.timestamps!)).toEqual([100, 50]);
  // Without a header only indices work, and names are rejected by argument; by default a name
  // means the file has a header, which must then have the column.
  await expect(loadInteractions(file('n.tsv', 'u\ti\n'), { header: false, time: 'when' })).rejects.toMatchObject({
    code: 'ERR_INVALID_ARG_TYPE',
    message: expect.stringContaining('options.time'),
  });
  await expect(loadInteractions(file('n.tsv', 'u\ti\n'), { time: 'when' })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/n\.tsv:1: no column "when" for options\.time \(the header has "u", "i"\)/),
  });
  await expect(loadInteractions(file('n2.csv', 'user_id,item_id\nu,i\n'), { header: true, time: 'when' })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/n2\.csv:1: no column "when" for options.time/),
  });
});

test('malformed lines name file, line and reason; skipMalformed counts them', async () => {
  const bad = file('bad/u.data', '1\t2\t5\t10\n1\t3\t4\tyesterday\n2\t\t4\t11\n3\t4\n');
  await expect(loadInteractions(bad)).rejects.toMatchObject({
    name: 'RecbridgeError',
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/u\.data:2: time "yesterday"/),
  });
  const ok = await loadInteractions(bad, { skipMalformed: true });
  expect([ok.interactions.size, ok.skipped]).toEqual([1, 3]);
  const frozen = new Vocabulary(['1']).freeze();
  await expect(loadInteractions(bad, { users: frozen, skipMalformed: false, time: null, value: null })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/:3: empty user or item id/),
  });
  const dat = file('bad/ratings.dat', '1::2::5::1\n9::2::x::1\n');
  await expect(loadInteractions(dat)).rejects.toMatchObject({
    message: expect.stringMatching(/ratings\.dat:2: value "x" is not a number/),
  });
  const unknownUser = file('bad/frozen.tsv', '1\ta\n7\ta\n');
  await expect(loadInteractions(unknownUser, { users: frozen })).rejects.toMatchObject({
    message: expect.stringMatching(/frozen\.tsv:2: unknown user id "7"/),
  });
  expect((await loadInteractions(unknownUser, { users: frozen, skipMalformed: true })).skipped).toBe(1);
  await expect(loadInteractions(dir)).rejects.toMatchObject({ code: 'ERR_MALFORMED_DATA' });
  await expect(loadInteractions(bad, { time: -1 })).rejects.toMatchObject({
    code: 'ERR_OUT_OF_RANGE',
    message: expect.stringContaining('options.time'),
  });
});

test('a file without a final newline, with CRLF and blank lines, and multi-byte ids', async () => {
  const p = file('utf.tsv', 'ü\tß\r\n\r\nü\t日本\t2');
  const r = await loadInteractions(p);
  expect([r.users.toArray(), r.items.toArray()]).toEqual([['ü'], ['ß', '日本']]);
  expect(r.interactions.values).toBeNull(); // the first line has no value column
});

describe('saveInteractions round-trips through loadInteractions', () => {
  const users = new Vocabulary(['alice', 'bob', 'carol']);
  const items = new Vocabulary(['x', 'y', 'z', 'w']);
  const data = new Interactions({
    users: [0, 1, 2, 0, 1],
    items: [3, 2, 1, 0, 0],
    values: [4, 0.1, 3.5, 1e-7, 5],
    timestamps: [10, 20.25, 30, 1.5e9, 7],
    numUsers: 3,
    numItems: 4,
  });
  const expected = triples({ interactions: data, users, items });

  test.each(['tsv', 'csv', 'recbole'] as const)('%s', async (format) => {
    const p = path.join(dir, `out.${format === 'recbole' ? 'inter' : format}`);
    expect(await saveInteractions(p, data, { users, items, format })).toBe(5);
    const back = await loadInteractions(p, format === 'recbole' ? {} : { header: true });
    expect(triples(back)).toEqual(expected);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('csv quotes ids with commas, quotes and line breaks, and reads them back without options', async () => {
    const odd = new Vocabulary(['a,b', 'say "hi"', 'two\r\nlines']);
    const p = path.join(dir, 'odd.csv');
    await saveInteractions(p, data, { users: odd, items });
    expect(fs.readFileSync(p, 'utf8').split('\n')[1]).toBe('"a,b",w,4,10');
    expect(triples(await loadInteractions(p))).toEqual(triples({ interactions: data, users: odd, items }));
  });

  test('without vocabularies ids are row numbers; no header when asked; implicit data has two columns', async () => {
    const implicit = new Interactions({ users: [2, 0], items: [1, 1], numUsers: 3, numItems: 2 });
    const p = path.join(dir, 'plain.tsv');
    await saveInteractions(p, implicit, { header: false });
    expect(fs.readFileSync(p, 'utf8')).toBe('2\t1\n0\t1\n');
    await expect(
      saveInteractions(path.join(dir, 'bad.tsv'), data, { users: new Vocabulary(['a\tb', 'c', 'd']), items }),
    ).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.users') });
    await expect(saveInteractions(path.join(dir, 'bad.csv'), data, { users: new Vocabulary(['', 'c', 'd']), items })).rejects.toMatchObject(
      { code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('options.users (row 0)') },
    );
    await expect(saveInteractions(path.join(dir, 'short.tsv'), data, { users: new Vocabulary(['a']) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(saveInteractions(path.join(dir, 'no/such/dir/x.tsv'), data)).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('saveInteractions'),
    });
  });

  test('saveSplit writes a reloadable split (RecBole benchmark names for recbole)', async () => {
    const [train, valid, test] = splitByUser(data, [0.6, 0.2, 0.2], 1);
    const out = await saveSplit(path.join(dir, 'ml-x'), { train, validation: valid, test }, { users, items }, 'recbole');
    expect(path.basename(out.train)).toBe('ml-x.train.inter');
    expect(path.basename(out.validation!)).toBe('ml-x.valid.inter');
    const u = new Vocabulary();
    const i = new Vocabulary();
    const parts = [];
    for (const p of [out.train, out.validation!, out.test]) parts.push(await loadInteractions(p, { users: u, items: i }));
    const reloaded = parts.flatMap((r) => triples(r)).sort();
    expect(reloaded).toEqual([...expected].sort());
    const tsv = await saveSplit(path.join(dir, 'plain-split'), { train, test }, { users, items }, { format: 'csv' });
    expect(fs.readdirSync(path.join(dir, 'plain-split')).sort()).toEqual(['test.csv', 'train.csv']);
    expect(tsv.validation).toBeUndefined();
  });
});

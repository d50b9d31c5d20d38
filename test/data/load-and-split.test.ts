// Loading interactions from text files (RecBole atomic files, CSV with named columns, plain
// whitespace pairs), malformed lines reported with file and line, vocabularies, and the seeded
// per-user ratio split. Files are generated here; the research data is never read by tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Interactions, Vocabulary, loadInteractions, splitByUser } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-data-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('RecBole atomic files: typed header, columns by name, ratings as values, minValue filter', async () => {
  const p = file(
    'x.inter',
    'user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\ti1\t5\t10\nu2\ti1\t3\t11\nu1\ti2\t4\t12\r\n\n',
  );
  const all = await loadInteractions(p);
  expect(all.interactions.size).toBe(3);
  expect([all.users.toArray(), all.items.toArray()]).toEqual([
    ['u1', 'u2'],
    ['i1', 'i2'],
  ]);
  expect(Array.from(all.interactions.users)).toEqual([0, 1, 0]);
  expect(Array.from(all.interactions.items)).toEqual([0, 0, 1]);
  expect(Array.from(all.interactions.values!)).toEqual([5, 3, 4]);
  const liked = await loadInteractions(p, { minValue: 4 });
  expect([liked.interactions.size, liked.filtered]).toEqual([2, 1]);
});

test('CSV with named columns and whitespace pairs; vocabularies shared across files', async () => {
  const csv = file('a.csv', 'rating,item,user\n1,b,x\n1,a,y\n');
  const a = await loadInteractions(csv, { header: true, user: 'user', item: 'item', value: 'rating' });
  expect([a.users.toArray(), a.items.toArray()]).toEqual([
    ['x', 'y'],
    ['b', 'a'],
  ]);
  const pairs = file('b.txt', 'y   c 1\nz\tb\t1\n');
  const b = await loadInteractions(pairs, { users: a.users, items: a.items });
  expect(a.users.toArray()).toEqual(['x', 'y', 'z']); // extended in place
  expect(Array.from(b.interactions.users)).toEqual([1, 2]);
  expect(Array.from(b.interactions.items)).toEqual([2, 0]);
  expect(b.interactions.numItems).toBe(3);
});

test('malformed lines fail with file and line, or are counted with skipMalformed', async () => {
  const p = file('bad.inter', 'user_id:token\titem_id:token\trating:float\nu1\ti1\t5\nu2\n u3\ti2\tfive\n');
  await expect(loadInteractions(p)).rejects.toMatchObject({ code: 'ERR_MALFORMED_DATA', message: expect.stringContaining('bad.inter:3') });
  const ok = await loadInteractions(p, { skipMalformed: true });
  expect([ok.interactions.size, ok.skipped]).toEqual([1, 2]);
  await expect(loadInteractions(path.join(dir, 'missing.inter'))).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringContaining('no such file'),
  });
  await expect(loadInteractions(p, { format: 'xml' as 'csv' })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  const noCols = file('nocols.csv', 'a,b\n1,2\n');
  await expect(loadInteractions(noCols, { header: true })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringContaining('user_id'),
  });
});

test('a frozen vocabulary refuses new ids', () => {
  const v = new Vocabulary(['a', 'b']).freeze();
  expect(v.add('b')).toBe(1);
  expect(() => v.add('c')).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_DATA' }));
  expect(v.row('c')).toBeUndefined();
  expect(v.id(0)).toBe('a');
});

describe('splitByUser', () => {
  const users: number[] = [];
  const items: number[] = [];
  for (let u = 0; u < 30; u++)
    for (let k = 0; k < 5 + u; k++) {
      users.push(u);
      items.push((u * 7 + k) % 50);
    }
  const data = new Interactions({ users, items, numUsers: 30, numItems: 50 });

  test('each user is cut by ratio (later parts get floor(ratio·n)), parts are disjoint and cover the data', () => {
    const [a, b, c] = splitByUser(data, [0.8, 0.1, 0.1], 7);
    expect(a.size + b.size + c.size).toBe(data.size);
    for (let u = 0; u < 30; u++) {
      const n = 5 + u;
      const count = (x: Interactions) => Array.from(x.users).filter((v) => v === u).length;
      expect([count(a), count(b), count(c)]).toEqual([n - 2 * Math.floor(0.1 * n), Math.floor(0.1 * n), Math.floor(0.1 * n)]);
    }
    const key = (x: Interactions) => Array.from(x.users, (u, i) => `${u}:${x.items[i]}`);
    const all = [...key(a), ...key(b), ...key(c)].sort();
    expect(all).toEqual(key(data).sort());
  });

  test('the same seed gives the same split, another seed another', () => {
    const one = splitByUser(data, [0.5, 0.5], 1);
    const two = splitByUser(data, [0.5, 0.5], 1);
    const other = splitByUser(data, [0.5, 0.5], 2);
    expect(two[1].items).toEqual(one[1].items);
    expect(other[1].items).not.toEqual(one[1].items);
  });

  test('bad ratios are rejected', () => {
    expect(() => splitByUser(data, [0.5, 0.4])).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('ratios') }),
    );
    expect(() => splitByUser(data, [1])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  test('concat merges parts over the same user and item spaces', () => {
    const [a, b] = splitByUser(data, [0.5, 0.5], 3);
    const both = Interactions.concat([a, b]);
    expect(both.size).toBe(data.size);
    expect([both.numUsers, both.numItems]).toEqual([30, 50]);
  });
});

// Vocabularies: JSON round trip (as a model file stores them), join by shared ids, link through an
// explicit id-pair table (in memory and from a file), typed errors naming the argument.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Vocabulary, loadLinks } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-vocab-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('toJSON / fromJSON keep rows and the frozen flag', () => {
  const v = new Vocabulary(['b', 'a', 'ü', '']);
  const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
  expect(back.toArray()).toEqual(['b', 'a', 'ü', '']);
  expect(back.isFrozen).toBe(false);
  const frozen = Vocabulary.fromJSON(JSON.stringify(new Vocabulary(['x']).freeze()));
  expect(frozen.isFrozen).toBe(true);
  expect(() => frozen.add('y')).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_DATA' }));
  expect(() => Vocabulary.fromJSON({ ids: ['a', 'a'] })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('json.ids[1]') }),
  );
  expect(() => Vocabulary.fromJSON({ ids: ['a', 1 as never] })).toThrow(
    expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('json.ids[1]') }),
  );
  expect(() => Vocabulary.fromJSON('{')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  expect(() => Vocabulary.fromJSON({} as never)).toThrow(expect.objectContaining({ message: expect.stringContaining('json.ids') }));
  expect(() => new Vocabulary(['a']).id(3)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
});

test("join pairs the rows of shared ids in the first vocabulary's order", () => {
  const source = new Vocabulary(['u1', 'u2', 'u3', 'u4']);
  const target = new Vocabulary(['u9', 'u3', 'u1']);
  const j = Vocabulary.join(source, target);
  expect([Array.from(j.a), Array.from(j.b), j.count]).toEqual([[0, 2], [2, 1], 2]);
  expect(() => Vocabulary.join(source, {} as never)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(' b ') }),
  );
});

test('link maps through an id-pair table; unknown ids skipped and counted, or rejected', async () => {
  const books = new Vocabulary(['b1', 'b2']);
  const movies = new Vocabulary(['m1', 'm2', 'm3']);
  const pairs: [string, string][] = [
    ['b2', 'm3'],
    ['b1', 'mX'],
    ['b1', 'm1'],
  ];
  const l = Vocabulary.link(books, movies, pairs);
  expect([Array.from(l.a), Array.from(l.b), l.count, l.skipped]).toEqual([[1, 0], [2, 0], 2, 1]);
  expect(() => Vocabulary.link(books, movies, pairs, { unknown: 'error' })).toThrow(
    expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('pairs[1][1]') }),
  );
  expect(() => Vocabulary.link(books, movies, [['b1']] as never)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('pairs[0]') }),
  );
  const p = path.join(dir, 'books_movies.link');
  fs.writeFileSync(p, 'book_id:token\tmovie_id:token\nb2\tm3\nb1\tm1\n');
  const loaded = await loadLinks(p);
  expect(loaded.pairs).toEqual([
    ['b2', 'm3'],
    ['b1', 'm1'],
  ]);
  expect(Vocabulary.link(books, movies, loaded).count).toBe(2);
  const csv = path.join(dir, 'links.csv');
  fs.writeFileSync(csv, 'movie,book\nm2,b2\nm1\n');
  await expect(loadLinks(csv, { header: true, a: 'book', b: 'movie' })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/links\.csv:3: expected at least 2 columns/),
  });
  const lenient = await loadLinks(csv, { header: true, a: 'book', b: 'movie', skipMalformed: true });
  expect([lenient.pairs, lenient.skipped]).toEqual([[['b2', 'm2']], 1]);
});

// Side features: RecBole typed headers (token, token_seq, float, float_seq), TSV/CSV headers,
// alignment to the entity vocabulary, unknown and missing ids, NaN handling, combined bags and
// dense blocks in TwoTower's shapes, programmatic building and growth.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { SideFeatures, TwoTower, Vocabulary, loadFeatures, type CategoricalFeature, type DenseFeature, type MultiFeature } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-features-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bagOf = (f: MultiFeature, e: number) => Array.from(f.indices.subarray(f.offsets[e], f.offsets[e + 1]), (t) => f.vocabulary.id(t));

const ITEMS =
  'item_id:token\ttitle:token_seq\tyear:token\tclass:token_seq\tprice:float\temb:float_seq\n' +
  "10\tToy Story\t1995\tAnimation Children's Comedy\t3.5\t1 2\n" +
  '30\tHeat\t1995\tAction  Crime\t\t3 4\n' +
  '99\tNot In Vocabulary\t2000\tDrama\t1\t0 0\n' +
  '20\tUnknown\t\t\tnan\t\n';

test('RecBole .item with typed header: rows aligned to the vocabulary, missing and unknown counted', async () => {
  const items = new Vocabulary(['20', '10', '30', '40']);
  const p = file('x.item', ITEMS);
  await expect(loadFeatures(p, { entities: items })).rejects.toMatchObject({
    code: 'ERR_MALFORMED_DATA',
    message: expect.stringMatching(/x\.item:3: field price: empty or NaN value/),
  });
  const { features, missing, unknown, skipped, filled } = await loadFeatures(p, { entities: items, fillMissing: true });
  expect({ missing, unknown, skipped, filled }).toEqual({ missing: 1, unknown: 1, skipped: 0, filled: 3 });
  expect(features.fields).toEqual(['title', 'year', 'class', 'price', 'emb']);
  expect(features.size).toBe(4);
  const cls = features.field('class') as MultiFeature;
  expect(cls.kind).toBe('multi');
  expect([0, 1, 2, 3].map((e) => bagOf(cls, e))).toEqual([[], ['Animation', "Children's", 'Comedy'], ['Action', 'Crime'], []]);
  const year = features.field('year') as CategoricalFeature;
  expect(Array.from(year.codes, (c) => (c < 0 ? null : year.vocabulary.id(c)))).toEqual([null, '1995', '1995', null]);
  const price = features.field('price') as DenseFeature;
  expect([price.dim, Array.from(price.values), Array.from(price.present)]).toEqual([1, [0, 3.5, 0, 0], [1, 1, 1, 0]]);
  const emb = features.field('emb') as DenseFeature;
  expect([emb.dim, Array.from(emb.values), Array.from(emb.present)]).toEqual([2, [0, 0, 1, 2, 3, 4, 0, 0], [0, 1, 1, 0]]);
  expect(items.size).toBe(4); // 'skip' leaves the vocabulary alone
});

test('unknownIds add/error, fields selection and types, duplicates and bad headers', async () => {
  const p = file('y.item', ITEMS);
  const items = new Vocabulary(['10']);
  const added = await loadFeatures(p, { entities: items, unknownIds: 'add', fields: ['class'] });
  expect(items.toArray()).toEqual(['10', '30', '99', '20']);
  expect(added.features.fields).toEqual(['class']);
  expect(added.missing).toBe(0);
  await expect(loadFeatures(p, { entities: new Vocabulary(['10']), unknownIds: 'error', fields: ['class'] })).rejects.toMatchObject({
    message: expect.stringMatching(/y\.item:3: id "30" is not in options.entities/),
  });
  // Overriding a type: the year as a float.
  const typed = await loadFeatures(p, { entities: new Vocabulary(['10', '30']), fields: { year: 'float' } });
  expect(Array.from((typed.features.field('year') as DenseFeature).values)).toEqual([1995, 1995]);
  const dup = file('dup.user', 'user_id:token\tage:float\nu\t1\nv\t2\nu\t3\n');
  await expect(loadFeatures(dup, { entities: new Vocabulary(['u', 'v']) })).rejects.toMatchObject({
    message: expect.stringMatching(/dup\.user:4: duplicate id "u" \(first on line 2\)/),
  });
  const lenient = await loadFeatures(dup, { entities: new Vocabulary(['u', 'v']), skipMalformed: true });
  expect(lenient.skipped).toBe(1);
  const untyped = file('untyped.item', 'item_id\tgenre\n1\ta\n');
  await expect(loadFeatures(untyped, { entities: new Vocabulary() })).rejects.toMatchObject({
    message: expect.stringMatching(/untyped\.item:1: column "item_id" has no RecBole type/),
  });
  const seq = file('seq.item', 'item_id:token\tv:float_seq\n1\t1 2\n2\t1 2 3\n');
  await expect(loadFeatures(seq, { entities: new Vocabulary(['1', '2']) })).rejects.toMatchObject({
    message: expect.stringMatching(/seq\.item:3: field v: 3 values, expected 2/),
  });
  await expect(loadFeatures(p, { entities: new Vocabulary(), fields: ['nope'] })).rejects.toMatchObject({
    message: expect.stringContaining('no column "nope"'),
  });
  await expect(loadFeatures(p, { entities: [] as never })).rejects.toMatchObject({
    code: 'ERR_INVALID_ARG_TYPE',
    message: expect.stringContaining('options.entities'),
  });
  await expect(loadFeatures(p, { entities: new Vocabulary(), unknownIds: 'drop' as 'skip' })).rejects.toMatchObject({
    code: 'ERR_OUT_OF_RANGE',
  });
});

test('CSV with a header: untyped columns are tokens, id by name, a custom sequence separator', async () => {
  const p = file('movies.csv', 'genres,movieId,title\nAction|Drama,1,Heat\n,2,Up\n');
  const movies = new Vocabulary(['2', '1']);
  const { features } = await loadFeatures(p, {
    entities: movies,
    id: 'movieId',
    fields: { genres: 'token_seq', title: 'token' },
    separator: '|',
  });
  const genres = features.field('genres') as MultiFeature;
  expect([bagOf(genres, 0), bagOf(genres, 1)]).toEqual([[], ['Action', 'Drama']]);
  expect(features.kind('title')).toBe('categorical');
});

describe('combined bags and dense blocks (TwoTower shapes)', () => {
  const users = new Vocabulary(['a', 'b', 'c']);
  const features = SideFeatures.fromArrays(users, {
    gender: { kind: 'categorical', values: ['F', null, 'M'] },
    tags: { kind: 'multi', values: [['x', 'y'], ['y'], null] },
    age: { kind: 'dense', dim: 1, values: [20, 30, 40] },
    vec: { kind: 'dense', dim: 2, values: new Float32Array([1, 2, 3, 4]) }, // only 2 of 3 rows given
  });

  test('bags(): field-by-field id space, one bag per entity', () => {
    const b = features.bags(['gender', 'tags']);
    expect(b.vocabulary).toBe(4); // F, M | x, y
    expect(b.fields).toEqual([
      { name: 'gender', offset: 0, size: 2 },
      { name: 'tags', offset: 2, size: 2 },
    ]);
    expect(Array.from(b.bags.offsets)).toEqual([0, 3, 4, 5]);
    expect(Array.from(b.bags.indices)).toEqual([0, 2, 3, 3, 1]);
  });

  test('bags() with a persistent space keeps rows when a field gains tokens', () => {
    const space = new Vocabulary();
    const before = features.bags(['gender', 'tags'], { space });
    expect(space.toArray()).toEqual(['gender:F', 'gender:M', 'tags:x', 'tags:y']);
    const grown = SideFeatures.fromArrays(new Vocabulary(['a', 'b', 'c']), {
      gender: { kind: 'categorical', values: ['F', null, 'M'] },
      tags: { kind: 'multi', values: [['x', 'y'], ['y'], null] },
    });
    grown.setRow('d', { gender: 'X', tags: ['x'] });
    const after = grown.bags(['gender', 'tags'], { space });
    expect(after.vocabulary).toBe(5);
    expect(Array.from(after.bags.indices.subarray(0, 5))).toEqual(Array.from(before.bags.indices));
    expect(Array.from(after.bags.indices.subarray(5))).toEqual([4, 2]);
  });

  test('dense(): fields side by side, missing rows are zeros', () => {
    const d = features.dense(['age', 'vec']);
    expect(d.dim).toBe(3);
    expect(Array.from(d.values)).toEqual([20, 1, 2, 30, 3, 4, 40, 0, 0]);
    expect(Array.from((features.field('vec') as DenseFeature).present)).toEqual([1, 1, 0]);
  });

  test('errors name the argument', () => {
    expect(() => features.bags(['age'])).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('names[0]') }),
    );
    expect(() => features.dense(['tags'])).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => features.bags(['gender', 'gender'])).toThrow(expect.objectContaining({ message: expect.stringContaining('names[1]') }));
    expect(() => features.field('nope')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => features.setRow(0, { age: [NaN] })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('values.age[0]') }),
    );
    expect(() => features.setRow(0, { vec: [1] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => features.setRow(9, {})).toThrow(expect.objectContaining({ message: expect.stringContaining('entity') }));
    expect(() => SideFeatures.fromArrays(users, { g: { kind: 'categorical', values: ['a', 'b', 'c', 'd'] } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() =>
      SideFeatures.fromArrays(users, { g: { kind: 'multi', vocabulary: new Vocabulary(['t']), offsets: [0, 1], indices: [1] } }),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('fields.g.indices[0]') }));
  });
});

test('growing: new entities read as missing until setRow fills them; encoded inputs', () => {
  const items = new Vocabulary(['i0', 'i1']);
  const genres = new Vocabulary(['comedy', 'drama']);
  const f = SideFeatures.fromArrays(items, {
    genre: { kind: 'multi', vocabulary: genres, offsets: new Int32Array([0, 2, 3]), indices: new Int32Array([0, 1, 1]) },
    main: { kind: 'categorical', vocabulary: genres, codes: [1, -1] },
  });
  items.add('i2'); // e.g. a new item arrived with new interactions
  expect(f.size).toBe(3);
  expect(bagOf(f.field('genre') as MultiFeature, 2)).toEqual([]);
  expect((f.field('main') as CategoricalFeature).codes[2]).toBe(-1);
  f.setRow('i2', { genre: ['horror', 'comedy'], main: 'horror' });
  f.setRow('i3', { genre: ['drama'] });
  const g = f.field('genre') as MultiFeature;
  expect([0, 1, 2, 3].map((e) => bagOf(g, e))).toEqual([['comedy', 'drama'], ['drama'], ['horror', 'comedy'], ['drama']]);
  expect(genres.toArray()).toEqual(['comedy', 'drama', 'horror']); // the given vocabulary grew
  const b = f.bags(['genre']);
  expect(b.bags.offsets.length).toBe(5);
  f.addField('score', 'dense', { dim: 1 });
  f.setRow(3, { score: 0.5 });
  expect(Array.from(f.dense(['score']).values)).toEqual([0, 0, 0, 0.5]);
  f.setRow(0, { genre: null });
  expect(bagOf(f.field('genre') as MultiFeature, 0)).toEqual([]);
});

test('bags() and dense() plug into a TwoTower item tower as they are', () => {
  const items = new Vocabulary(['a', 'b', 'c']);
  const f = SideFeatures.fromArrays(items, {
    genre: { kind: 'multi', values: [['x'], ['x', 'y'], []] },
    year: { kind: 'categorical', values: ['1990', null, '2000'] },
    emb: { kind: 'dense', dim: 2, values: [1, 0, 0, 1, 1, 1] },
  });
  const model = new TwoTower({
    users: 2,
    items: items.size,
    dim: 4,
    item: { features: f.bags(['genre', 'year']), dense: f.dense(['emb']) },
  });
  expect(model.parameters().map((p) => p.name)).toEqual(
    expect.arrayContaining(['item.features.embedding', 'item.dense.projection.weight']),
  );
});

test('a dense value beyond the float32 range is a malformed line, not an internal error (found by fuzzing)', async () => {
  const os = await import('node:os');
  const fsp = await import('node:fs');
  const pathm = await import('node:path');
  const { loadFeatures, Vocabulary } = await import('../../lib');
  const dir = fsp.mkdtempSync(pathm.join(os.tmpdir(), 'recbridge-f32-'));
  const file = pathm.join(dir, 'a.item');
  fsp.writeFileSync(file, 'item_id:token\tprice:float\temb:float_seq\n1\t1e30\t1 2\n2\t1e39\t1 2\n');
  try {
    await loadFeatures(file, { entities: new Vocabulary(['1', '2']) });
    throw new Error('expected an error');
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_MALFORMED_DATA');
    expect((err as Error).message).toMatch(/a\.item:3: .*float32 range/);
  } finally {
    fsp.rmSync(dir, { recursive: true, force: true });
  }
});

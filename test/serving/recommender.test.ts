// Recommender semantics: strategies and fallbacks, exclusions, allow-lists and the global block
// list, batches, similar items, quantized tables, model files, snapshot swaps and typed errors.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { EmbeddingTable, ItemKnn, PopularityModel, Recommender, foldIn, saveModel, topK } from '../../lib';
import { fixture } from './fixtures';

const f = fixture();
const rec = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen });
const itemRow = (id: string) => Number(id.slice('item-'.length));
const ids = (rows: ArrayLike<number>) => Array.from(rows, (r) => `item-${r}`);

function expectError(fn: () => unknown, name: string, code: string, argument?: string): void {
  try {
    fn();
  } catch (err) {
    const e = err as { name: string; code: string; argument?: string };
    expect(e.name).toBe(name);
    expect(e.code).toBe(code);
    if (argument !== undefined) expect(e.argument).toBe(argument);
    return;
  }
  throw new Error('expected an error');
}

describe('known users', () => {
  test('strategy model: the user row against the item table, seen items excluded by default', () => {
    for (const u of [0, 7, 39]) {
      const r = rec.recommend(`user-${u}`, 10);
      const expected = topK(f.model.encodeItems(), f.model.userQuery(u), 10, { exclude: f.seen.itemsOf(u) });
      expect(r.strategy).toBe('model');
      expect(r.items).toEqual(ids(expected.indices));
      expect(Array.from(r.scores)).toEqual(Array.from(expected.scores));
      expect(r.version).toBe(1);
      for (const s of f.seen.itemsOf(u)) expect(r.items).not.toContain(`item-${s}`);
    }
  });

  test('excludeSeen false, exclude ids (unknown ids ignored), allow-list', () => {
    const all = rec.recommend('user-3', 300, { excludeSeen: false });
    expect(all.items.length).toBe(300);
    const ex = rec.recommend('user-3', 5, { excludeSeen: false, exclude: [all.items[0], all.items[2], 'no-such-item'] });
    expect(ex.items).toEqual([all.items[1], ...all.items.slice(3, 7)]);
    const allow = ['item-5', 'item-6', 'item-7', 'item-250', 'ghost'];
    const only = rec.recommend('user-3', 10, { excludeSeen: false, allow });
    expect([...only.items].sort()).toEqual(['item-250', 'item-5', 'item-6', 'item-7']);
    expect(only.items).toEqual(all.items.filter((i) => allow.includes(i)));
    const both = rec.recommend('user-3', 10, { excludeSeen: false, allow, exclude: ['item-6'] });
    expect(both.items).toEqual(only.items.filter((i) => i !== 'item-6'));
  });

  test('items with a bias column: queries get a trailing 1', () => {
    const g = fixture({ itemBias: true, seed: 5 });
    const r = Recommender.fromModel(g.model, { users: g.users, items: g.items });
    const expected = topK(g.model.encodeItems(), g.model.userQuery(4), 8);
    expect(r.recommend('user-4', 8).items).toEqual(ids(expected.indices));
    const v = r.recommend({ vector: g.model.userEmbedding.table.row(4) }, 8);
    expect(v.strategy).toBe('vector');
    expect(v.items).toEqual(ids(expected.indices));
  });
});

describe('unknown users fall back in the documented order', () => {
  const counts = f.seen.itemCounts();
  const byPopularity = (exclude: Set<number>) =>
    Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => !exclude.has(i))
      .sort((a, b) => counts[b] - counts[a] || a - b);

  test('no history: popularity (from seen), with the same exclusions and allow-list', () => {
    const r = rec.recommend('stranger', 10);
    expect(r.strategy).toBe('popularity');
    expect(r.items).toEqual(ids(byPopularity(new Set()).slice(0, 10)));
    expect(Array.from(r.scores)).toEqual(
      byPopularity(new Set())
        .slice(0, 10)
        .map((i) => counts[i]),
    );
    const ex = rec.recommend('stranger', 10, { exclude: r.items.slice(0, 3) });
    expect(ex.items).toEqual(ids(byPopularity(new Set(r.items.slice(0, 3).map(itemRow))).slice(0, 10)));
  });

  test('explicit popularity beats the seen counts', () => {
    const pop = new Float32Array(300);
    pop[42] = 5;
    pop[17] = 9;
    const r = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen, popularity: pop });
    expect(r.recommend('stranger', 2).items).toEqual(['item-17', 'item-42']);
    const pm = PopularityModel.fit(f.seen);
    expect(Recommender.fromModel(f.model, { popularity: pm }).recommend('stranger', 3).strategy).toBe('popularity');
  });

  test('an unknown id with options.history, or { history }: fold-in, the history excluded', () => {
    const history = ['item-3', 'item-10', 'item-77', 'not-an-item'];
    const r = rec.recommend('stranger', 10, { history });
    expect(r.strategy).toBe('fold-in');
    const v = foldIn(
      f.model.itemEmbedding.table,
      { offsets: Int32Array.of(0, 3), indices: Int32Array.of(3, 10, 77) },
      { unobservedWeight: 0 },
    );
    expect(r.items).toEqual(ids(topK(f.model.encodeItems(), v, 10, { exclude: [3, 10, 77] }).indices));
    const h = rec.recommend({ history }, 10);
    expect(h.strategy).toBe('fold-in');
    expect(h.items).toEqual(r.items);
    expect(rec.recommend({ history }, 10, { excludeSeen: false }).items.length).toBe(10);
  });

  test('a history with no known item: popularity (its ids still excluded)', () => {
    expect(rec.recommend({ history: ['nope'] }, 5).strategy).toBe('popularity');
    expect(rec.recommend({ history: [] }, 5).strategy).toBe('popularity');
  });

  test('{ vector }: strategy vector', () => {
    const v = new Float32Array(8).fill(0.5);
    const r = rec.recommend({ vector: v }, 6);
    expect(r.strategy).toBe('vector');
    expect(r.items).toEqual(ids(topK(f.model.encodeItems(), v, 6).indices));
  });

  test("fallback 'error' makes an unknown id a RangeError naming user", () => {
    const strict = Recommender.fromModel(f.model, { users: f.users, items: f.items, fallback: 'error' });
    expectError(() => strict.recommend('stranger', 5), 'RangeError', 'ERR_OUT_OF_RANGE', 'user');
    expect(strict.recommend('stranger', 5, { history: ['item-1'] }).strategy).toBe('fold-in');
  });

  test('without vocabularies, ids are decimal rows', () => {
    const plain = Recommender.fromModel(f.model);
    expect(plain.recommend('4', 5).strategy).toBe('model');
    expect(plain.recommend('40', 5).strategy).toBe('popularity');
    expect(plain.recommend('04', 5).strategy).toBe('popularity');
    expect(plain.recommend('4', 5).items).toEqual(Array.from(topK(f.model.encodeItems(), f.model.userQuery(4), 5).indices, String));
  });
});

test('the global block list applies to every strategy and survives swaps; unblock lifts it', async () => {
  const r = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen });
  const before = r.recommend('user-1', 5);
  const pop = r.recommend('stranger', 5);
  r.block([before.items[0], pop.items[0], 'unknown-item']);
  expect(r.recommend('user-1', 5).items).toEqual([...before.items.slice(1), r.recommend('user-1', 5).items[4]]);
  expect(r.recommend('user-1', 5).items).not.toContain(before.items[0]);
  expect(r.recommend('stranger', 5).items).not.toContain(pop.items[0]);
  expect(r.recommend({ history: ['item-2'] }, 50).items).not.toContain(before.items[0]);
  expect(r.similarItems('item-2', 50).items).not.toContain(before.items[0]);
  await r.swap(f.model);
  expect(r.recommend('user-1', 5).items).not.toContain(before.items[0]);
  r.unblock([before.items[0], pop.items[0]]);
  expect(r.recommend('user-1', 5).items).toEqual(before.items);
  expect(r.blocked).toEqual(['unknown-item']);
});

test('recommendBatch equals recommend for every kind of user', async () => {
  const users = ['user-0', 'stranger', { history: ['item-1', 'item-2'] }, { vector: new Float32Array(8).fill(1) }, 'user-9'];
  const batch = await rec.recommendBatch(users, 7, { exclude: ['item-0'] });
  users.forEach((u, i) => {
    const one = rec.recommend(u, 7, { exclude: ['item-0'] });
    expect(batch[i].strategy).toBe(one.strategy);
    expect(batch[i].items).toEqual(one.items);
    for (let j = 0; j < one.scores.length; j++) expect(batch[i].scores[j]).toBeCloseTo(one.scores[j], 4);
  });
});

test('similarItems: cosine over item vectors, never the item itself; or the kNN graph', async () => {
  const t = f.model.itemEmbedding.table;
  const d = t.dim;
  const norm = (i: number) => Math.hypot(...t.row(i));
  const cos = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += t.data[a * d + c] * t.data[b * d + c];
    return s / (norm(a) * norm(b));
  };
  const r = rec.similarItems('item-11', 5);
  const expected = Array.from({ length: 300 }, (_, i) => i)
    .filter((i) => i !== 11)
    .sort((a, b) => cos(11, b) - cos(11, a))
    .slice(0, 5);
  expect(r.items).toEqual(ids(expected));
  expect(r.scores[0]).toBeCloseTo(cos(11, expected[0]), 5);
  const allowed = rec.similarItems('item-11', 3, { allow: ['item-11', 'item-1', 'item-2'] });
  expect([...allowed.items].sort()).toEqual(['item-1', 'item-2']);
  const knn = await ItemKnn.fit(f.seen, { neighbours: 20 });
  const withKnn = Recommender.fromModel(f.model, { items: f.items, knn });
  const s = withKnn.similarItems('item-0', 4);
  expect(s.items).toEqual(ids(knn.similarItems(0, 4).indices));
  expectError(() => rec.similarItems('nope', 3), 'RangeError', 'ERR_OUT_OF_RANGE', 'item');
});

test('quantized tables: rerank over every item gives the float32 result; recall is high without it', () => {
  for (const quantize of ['bf16', 'int8'] as const) {
    const q = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen, quantize, rerank: 300 });
    expect(q.quantization).toBe(quantize);
    for (const u of ['user-0', 'user-5', 'user-20']) {
      const exact = rec.recommend(u, 10);
      const got = q.recommend(u, 10);
      expect(got.items).toEqual(exact.items);
      expect(Array.from(got.scores)).toEqual(Array.from(exact.scores));
    }
    const raw = Recommender.fromModel(f.model, { users: f.users, items: f.items, quantize, rerank: 0 });
    const r = raw.recommend('user-0', 10, {
      excludeSeen: false,
      exclude: ['item-1'],
      allow: ids(Array.from({ length: 150 }, (_, i) => i)),
    });
    expect(r.items.length).toBe(10);
    expect(r.items).not.toContain('item-1');
    expect(r.indices.every((i) => i < 150)).toBe(true);
  }
});

test('fromFile: vocabularies come from the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-serving-'));
  try {
    const file = path.join(dir, 'model.rbm');
    await saveModel(file, f.model, { vocabularies: { users: f.users, items: f.items }, optimizerState: false });
    const r = await Recommender.fromFile(file, { seen: f.seen });
    expect(r.recommend('user-6', 10).items).toEqual(rec.recommend('user-6', 10).items);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fromModel with tables (users optional)', () => {
  const items = EmbeddingTable.create(50, 4, { init: 'normal', seed: 2 });
  const r = Recommender.fromModel({ items });
  expect(r.recommend('0', 3).strategy).toBe('popularity');
  expect(r.recommend({ vector: [1, 0, 0, 0] }, 3).items).toEqual(Array.from(topK(items, [1, 0, 0, 0], 3).indices, String));
});

describe('swap', () => {
  test('new requests read the new snapshot at once; swap resolves when an in-flight batch on the old one ends', async () => {
    const a = fixture({ seed: 1 });
    const b = fixture({ seed: 2 });
    const r = Recommender.fromModel(a.model, { users: a.users, items: a.items });
    const onA = r.recommend('user-2', 10).items;
    const onB = Recommender.fromModel(b.model, { users: b.users, items: b.items }).recommend('user-2', 10).items;
    expect(onA).not.toEqual(onB);
    const batch = r.recommendBatch(
      Array.from({ length: 64 }, () => 'user-2'),
      10,
    );
    let swapped = false;
    const swap = r.swap(b.model).then((v) => {
      swapped = true;
      return v;
    });
    const now = r.recommend('user-2', 10);
    expect(now.version).toBe(2);
    expect(now.items).toEqual(onB);
    const results = await batch;
    for (const x of results) {
      expect(x.version).toBe(1);
      expect(x.items).toEqual(onA);
    }
    expect(await swap).toBe(2);
    expect(swapped).toBe(true);
  });

  test('interleaved swaps and batches: every result is entirely one model', async () => {
    const models = [fixture({ seed: 11 }), fixture({ seed: 12 })];
    const expected = models.map((m) => Recommender.fromModel(m.model, { users: m.users, items: m.items }).recommend('user-1', 10).items);
    const r = Recommender.fromModel(models[0].model, { users: models[0].users, items: models[0].items });
    const pending: Promise<{ version: number; items: string[] }[]>[] = [];
    const swaps: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(r.recommendBatch(['user-1', 'user-1'], 10));
      swaps.push(r.swap(models[(i + 1) % 2].model));
      const one = r.recommend('user-1', 10);
      expect(one.items).toEqual(expected[(one.version - 1) % 2]);
    }
    for (const res of await Promise.all(pending)) for (const x of res) expect(x.items).toEqual(expected[(x.version - 1) % 2]);
    await Promise.all(swaps);
    expect(r.inFlight).toBe(0);
  });
});

test('bad input gets typed errors naming the argument', () => {
  expectError(() => rec.recommend('user-1', 0), 'RangeError', 'ERR_OUT_OF_RANGE', 'k');
  expectError(() => rec.recommend(42 as never, 3), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'user');
  expectError(() => rec.recommend({ vector: new Float32Array(3) }, 3), 'RangeError', 'ERR_OUT_OF_RANGE', 'user.vector');
  expectError(() => rec.recommend({ vector: [NaN, 0, 0, 0, 0, 0, 0, 0] }, 3), 'RangeError', 'ERR_OUT_OF_RANGE');
  expectError(() => rec.recommend({ history: 'item-1' as never }, 3), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'user.history');
  expectError(() => rec.recommend('user-1', 3, { exclude: [1] as never }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options.exclude[0]');
  expectError(
    () => rec.recommend('user-1', 3, { excludeSeen: 'yes' as never }),
    'TypeError',
    'ERR_INVALID_ARG_TYPE',
    'options.excludeSeen',
  );
  expectError(() => Recommender.fromModel({} as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'source');
  expectError(() => Recommender.fromModel(f.model, { quantize: 'fp8' as never }), 'RangeError', 'ERR_OUT_OF_RANGE', 'options.quantize');
  expectError(() => Recommender.fromModel(f.model, { fallback: 'guess' as never }), 'RangeError', 'ERR_OUT_OF_RANGE', 'options.fallback');
  expectError(() => Recommender.fromModel(f.model, { rerank: -1 }), 'RangeError', 'ERR_OUT_OF_RANGE', 'options.rerank');
  expectError(() => rec.block('item-1' as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'ids');
});

describe('the features strategy', () => {
  // An encoder that maps a feature vector onto a known user's vector: the result must equal that user's.
  const dim = f.model.dim;
  const encoder = { encode: (x: Float32Array) => f.model.userQuery(x[0]).slice(0, dim) };
  const withFeatures = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen, userFeatures: encoder });

  test('{ features } and unknown ids with options.features are encoded and scored like a vector', () => {
    const viaVector = withFeatures.recommend({ vector: f.model.userQuery(7).slice(0, dim) }, 10);
    const viaFeatures = withFeatures.recommend({ features: [7] }, 10);
    expect(viaFeatures.strategy).toBe('features');
    expect(viaFeatures.items).toEqual(viaVector.items);
    const unknown = withFeatures.recommend('somebody-new', 10, { features: Float32Array.of(7) });
    expect(unknown.strategy).toBe('features');
    expect(unknown.items).toEqual(viaVector.items);
    // History wins over features for an unknown id; a known id ignores both.
    expect(withFeatures.recommend('somebody-new', 10, { history: ['item-1'], features: [7] }).strategy).toBe('fold-in');
    expect(withFeatures.recommend('user-3', 10, { features: [7] }).strategy).toBe('model');
  });

  test('without an encoder, or with a bad one, the errors are typed', () => {
    expectError(() => rec.recommend({ features: [1] }, 10), 'RangeError', 'ERR_OUT_OF_RANGE', 'user.features');
    expectError(
      () => Recommender.fromModel(f.model, { userFeatures: {} as never }),
      'TypeError',
      'ERR_INVALID_ARG_TYPE',
      'options.userFeatures',
    );
    const bad = Recommender.fromModel(f.model, { users: f.users, items: f.items, userFeatures: { encode: () => new Float32Array(1) } });
    expectError(() => bad.recommend({ features: [1] }, 10), 'RangeError', 'ERR_OUT_OF_RANGE', 'options.userFeatures.encode()');
  });
});

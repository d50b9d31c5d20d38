// RecommenderPool: workers answer exactly like the main thread from one shared copy of the tables,
// dispatch spreads the load, swaps under concurrent requests never mix two models, and errors come
// back typed. Workers run the built package (dist/), like test/workers.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Recommender, RecommenderPool } from '../../lib';
import { fixture, lcgTable } from './fixtures';

const script = path.resolve(__dirname, '../../dist/serving/pool-worker.js');

test('the worker script is built (npm run build)', () => {
  expect(fs.existsSync(script)).toBe(true);
});

describe('a pool of workers', () => {
  const f = fixture({ users: 60, items: 2000, dim: 16 });
  const rec = Recommender.fromModel(f.model, { users: f.users, items: f.items, seen: f.seen, quantize: 'int8', rerank: 50 });
  let pool: RecommenderPool;

  beforeAll(async () => {
    pool = await RecommenderPool.create(rec, { workers: 3, dispatch: 'round-robin' });
  });
  afterAll(async () => {
    await pool.close();
  });

  test('workers return exactly what the main thread returns, for every kind of user', async () => {
    const users = [
      'user-0',
      'user-17',
      'stranger',
      { history: ['item-3', 'item-9'] },
      { vector: Array.from({ length: 16 }, (_, i) => i / 16) },
    ];
    for (const options of [undefined, { exclude: ['item-1', 'item-2'], allow: Array.from({ length: 500 }, (_, i) => `item-${i * 3}`) }]) {
      const answers = await Promise.all(users.flatMap((u) => [0, 1, 2].map(() => pool.recommend(u, 10, options))));
      answers.forEach((a, j) => {
        const local = rec.recommend(users[Math.floor(j / 3)], 10, options);
        expect(a.items).toEqual(local.items);
        expect(Array.from(a.scores)).toEqual(Array.from(local.scores));
        expect(a.strategy).toBe(local.strategy);
      });
    }
    const batch = await pool.recommendBatch(['user-1', 'stranger'], 5);
    expect(batch.map((b) => b.items)).toEqual((await rec.recommendBatch(['user-1', 'stranger'], 5)).map((b) => b.items));
    expect((await pool.similarItems('item-4', 5)).items).toEqual(rec.similarItems('item-4', 5).items);
  });

  test('round-robin spreads requests evenly', async () => {
    const before = pool.stats().map((s) => s.handled);
    await Promise.all(Array.from({ length: 30 }, () => pool.recommend('user-1', 5)));
    expect(pool.stats().map((s, i) => s.handled - before[i])).toEqual([10, 10, 10]);
  });

  test('block lists reach every worker', async () => {
    const top = (await pool.recommend('user-5', 3)).items[0];
    await pool.block([top]);
    for (const a of await Promise.all([0, 1, 2].map(() => pool.recommend('user-5', 3)))) expect(a.items).not.toContain(top);
    await pool.unblock([top]);
    expect((await pool.recommend('user-5', 3)).items[0]).toBe(top);
  });

  test('errors come back typed (name, code, argument)', async () => {
    const err = await pool.recommend('user-1', 0).catch((e) => e);
    expect(err.name).toBe('RangeError');
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    expect(err.argument).toBe('k');
    const bad = await pool.recommend(5 as never, 3).catch((e) => e);
    expect(bad.code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

test('swap under a stream of concurrent requests: every answer is entirely one model, and none is old after swap resolves', async () => {
  const a = fixture({ seed: 21, items: 3000, dim: 16 });
  const b = fixture({ seed: 22, items: 3000, dim: 16 });
  const opts = { users: a.users, items: a.items, seen: a.seen };
  const users = ['user-1', 'user-2', 'user-3'];
  const expected = [a, b].map((m) => {
    const r = Recommender.fromModel(m.model, opts);
    return users.map((u) => r.recommend(u, 10).items.join());
  });
  expect(expected[0]).not.toEqual(expected[1]);
  const rec = Recommender.fromModel(a.model, opts);
  const pool = await RecommenderPool.create(rec, { workers: 2, dispatch: 'least-busy' });
  try {
    const results: Promise<{ version: number; items: string[]; user: number }>[] = [];
    let swaps = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 40; i++) {
        const u = i % 3;
        results.push(pool.recommend(users[u], 10).then((r) => ({ version: r.version, items: r.items, user: u })));
      }
      const version = await pool.swap(round % 2 === 0 ? b.model : a.model);
      swaps++;
      expect(version).toBe(swaps + 1);
      // After swap resolves, every worker answers from the new model.
      for (const r of await Promise.all([0, 1, 2, 3].map(() => pool.recommend('user-1', 10)))) expect(r.version).toBe(version);
    }
    const all = await Promise.all(results);
    const versions = new Set(all.map((r) => r.version));
    expect(versions.size).toBeGreaterThan(1);
    for (const r of all) expect(r.items.join()).toBe(expected[(r.version - 1) % 2][r.user]);
  } finally {
    await pool.close();
  }
});

test('N workers share one copy of the tables: resident memory grows far less than the table per worker', async () => {
  const rows = 500_000;
  const dim = 64; // 128 MB of float32 items
  const items = lcgTable(rows, dim, 1);
  const rec = Recommender.fromModel({ items });
  const rss = async (n: number) => {
    const pool = await RecommenderPool.create(rec, { workers: n });
    try {
      await Promise.all(Array.from({ length: 4 * n }, (_, i) => pool.recommend({ vector: items.row(i) }, 10)));
      return process.memoryUsage().rss;
    } finally {
      await pool.close();
    }
  };
  const one = await rss(1);
  const four = await rss(4);
  const perWorker = (four - one) / 3;
  expect(perWorker).toBeLessThan((rows * dim * 4) / 4);
});

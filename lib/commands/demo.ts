/**
 * The scoring demo: a synthetic catalogue with latent genres, users who prefer a few genres, and
 * exact top-K with seen items excluded, single and batched, checked against brute force and timed.
 * (The transfer demo replaces this as the main job once transfer learning lands.)
 */
import { capabilities } from '../core/config';
import { ItemSet } from '../core/item-set';
import { normalGenerator, uniformGenerator } from '../core/random';
import { topK, topKBatch } from '../core/scoring';
import { EmbeddingTable } from '../core/table';

export interface DemoOptions {
  items?: number;
  dim?: number;
  users?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoReport {
  isa: string;
  items: number;
  dim: number;
  singleMedianUs: number;
  batchQueriesPerSecond: number;
  genrePrecisionAt10: number;
  randomPrecisionAt10: number;
  bruteForceAgrees: boolean;
}

const GENRES = 24;

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const items = options.items ?? 100_000;
  const dim = options.dim ?? 64;
  const users = options.users ?? 2_048;
  const seed = options.seed ?? 1;
  const log = options.log ?? ((line: string) => console.log(line));
  const normal = normalGenerator(seed);
  const uniform = uniformGenerator(seed + 1);

  // Genre centroids; each item is its genre's centroid plus noise.
  const centroids = Array.from({ length: GENRES }, () => Float32Array.from({ length: dim }, () => normal()));
  const itemGenre = new Int32Array(items);
  const table = EmbeddingTable.create(items, dim);
  for (let i = 0; i < items; i++) {
    const g = Math.floor(uniform() * GENRES);
    itemGenre[i] = g;
    const centroid = centroids[g]!; // uniform() is in [0, 1), so g < GENRES
    for (let k = 0; k < dim; k++) table.data[i * dim + k] = centroid[k]! + 0.9 * normal(); // centroids have dim entries
  }
  // Each user likes two genres; their query vector is a weighted mix of those centroids.
  const liked: [number, number][] = [];
  const queries = new Float32Array(users * dim);
  const seen: Int32Array[] = [];
  for (let u = 0; u < users; u++) {
    const a = Math.floor(uniform() * GENRES);
    const b = (a + 1 + Math.floor(uniform() * (GENRES - 1))) % GENRES;
    liked.push([a, b]);
    // a, b < GENRES by construction, and every centroid has dim entries.
    const ca = centroids[a]!;
    const cb = centroids[b]!;
    for (let k = 0; k < dim; k++) queries[u * dim + k] = 0.6 * ca[k]! + 0.4 * cb[k]! + 0.3 * normal();
    seen.push(Int32Array.from({ length: 20 }, () => Math.floor(uniform() * items)));
  }
  const c = capabilities();
  log(`recbridge scoring demo — ${items.toLocaleString()} items × ${dim} dims, ${users.toLocaleString()} users, ${GENRES} genres`);
  log(`kernels: ${c.isa} (detected ${c.detectedIsa}), threads: ${c.threads}`);

  // One user, explained. User 0 exists past topK: with no users u0 is empty and topK rejects it.
  const u0 = queries.subarray(0, dim);
  const r0 = topK(table, u0, 10, { exclude: seen[0] });
  const [a0, b0] = liked[0]!;
  log(`\nuser 0 likes genres ${a0} and ${b0}; top 10 (20 seen items excluded):`);
  r0.indices.forEach((item, j) => {
    // scores has one entry per index.
    log(`  #${j + 1}  item ${String(item).padStart(6)}  genre ${String(itemGenre[item]).padStart(2)}  score ${r0.scores[j]!.toFixed(3)}`);
  });

  // Exactness: compare a few users against a brute-force scan in JavaScript.
  let agrees = true;
  const checked = Math.min(users, 5);
  for (const [u, exclude] of seen.slice(0, checked).entries()) {
    const q = queries.subarray(u * dim, (u + 1) * dim);
    const excluded = new ItemSet(exclude);
    const best: { i: number; s: number }[] = [];
    for (let i = 0; i < items; i++) {
      if (excluded.has(i)) continue;
      let s = 0;
      for (let k = 0; k < dim; k++) s += q[k]! * table.data[i * dim + k]!; // k < dim: row i of q and of the table
      best.push({ i, s });
    }
    best.sort((x, y) => y.s - x.s || x.i - y.i);
    const got = topK(table, q, 10, { exclude: excluded });
    if (best.slice(0, 10).some((b, j) => b.i !== got.indices[j])) agrees = false;
  }
  log(`\nexact top-10 equals a brute-force JavaScript scan for ${checked} user${checked === 1 ? '' : 's'}: ${agrees ? 'yes' : 'NO'}`);

  // Latency of single queries (synchronous, in the request path).
  const times: number[] = [];
  for (let u = 0; u < Math.min(users, 300); u++) {
    const t0 = process.hrtime.bigint();
    topK(table, queries.subarray(u * dim, (u + 1) * dim), 10, { exclude: seen[u] });
    times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  // times has min(users, 300) ≥ 1 entries (user 0 exists, see above); both indices are below that.
  const median = times[times.length >> 1]!;
  const p99 = times[Math.floor(times.length * 0.99)]!;
  log(
    `single query: median ${median.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs (${((items * dim * 4) / median / 1e3).toFixed(1)} GB/s scanned)`,
  );

  // A batch for every user, off the event loop.
  const t0 = process.hrtime.bigint();
  const batch = await topKBatch(table, queries, 10, { exclude: seen });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let inGenre = 0;
  for (const [u, [a, b]] of liked.entries()) {
    for (const i of batch.query(u).indices) if (itemGenre[i] === a || itemGenre[i] === b) inGenre++;
  }
  const precision = inGenre / (users * 10);
  log(
    `batch of ${users} users: ${(seconds * 1e3).toFixed(0)} ms (${Math.round(users / seconds).toLocaleString()} queries/s, ${((2 * users * items * dim) / seconds / 1e9).toFixed(1)} GFLOP/s)`,
  );
  log(
    `recommended items from a user's liked genres: ${(100 * precision).toFixed(1)}% (random would be ${((100 * 2) / GENRES).toFixed(1)}%)`,
  );
  return {
    isa: c.isa,
    items,
    dim,
    singleMedianUs: median,
    batchQueriesPerSecond: users / seconds,
    genrePrecisionAt10: precision,
    randomPrecisionAt10: 2 / GENRES,
    bruteForceAgrees: agrees,
  };
}

/**
 * The sampled protocol of many cross-domain papers: each test (user, item) pair is ranked against
 * `negatives` items drawn for it, instead of against the whole catalogue.
 *
 * - Negatives: drawn uniformly without replacement from the items the user has neither in
 *   `exclude` (training interactions) nor in the test set (a known positive is never a negative;
 *   this includes the test item itself). A user with fewer eligible items gets all of them, and the
 *   pair is counted in `shortPairs`.
 * - Determinism: each pair's draw is seeded by (seed, user, item) only, so it does not depend on
 *   chunking, threads or which other pairs are evaluated.
 * - Ties count against the positive: rank = 1 + #(negatives scoring ≥ the positive). A model
 *   that scores everything alike ranks last, never first.
 * - Metrics, averaged over pairs: hit@K (rank ≤ K), ndcg@K (1/log2(rank+1) when rank ≤ K),
 *   mrr@K (1/rank when rank ≤ K) and mrr (1/rank, uncut).
 *
 * Scores come from the native scoreItems kernel on each pair's candidate rows.
 */
import { invoke } from '../core/callback';
import { AbortError, RecbridgeError } from '../core/errors';
import { uniformGenerator } from '../core/random';
import { scoreItems } from '../core/scoring';
import { contains } from './user-metrics';
import { Interactions } from '../data/interactions';
import { expectBoolean, expectInteger, expectOptions, expectSignal, rangeError, typeError } from '../core/validate';
import { resolveCutoffs } from './cutoffs';
import type { EvaluationProgress, RankingModel } from './ranking';
import { mixSeed } from './seed-mix';

export interface SampledOptions {
  /** Negatives per test pair. Default 999. */
  negatives?: number;
  /** Seed of the negative draws. Default 0. */
  seed?: number;
  /** Each user's known interactions, never drawn as negatives (their training items). Default: none. */
  exclude?: Interactions;
  /** The cut-off of the top-level fields. Default 10, or ks[0] when ks is given. */
  k?: number;
  /** Several cut-offs at once. */
  ks?: number[];
  /** Return each pair's rank (perPair). Default false. */
  perPair?: boolean;
  /** Pairs scored between two yields to the event loop (progress and abort granularity). Default 4096. */
  chunkSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: EvaluationProgress) => unknown;
}

export interface SampledCutoffMetrics {
  hit: number;
  ndcg: number;
  mrr: number;
}

export interface SampledMetrics extends SampledCutoffMetrics {
  /** Test pairs ranked, and the distinct users they belong to. */
  pairs: number;
  users: number;
  /** Pairs with fewer eligible items than `negatives` (ranked against all eligible items). */
  shortPairs: number;
  negatives: number;
  k: number;
  /** mrr without a cut-off (1/rank averaged over pairs). The top-level mrr is mrr@k. */
  mrrFull: number;
  byK: Record<number, SampledCutoffMetrics>;
  /** Present when options.perPair was set: pair j is (users[j], items[j]) at rank ranks[j]. */
  perPair?: { users: Int32Array; items: Int32Array; ranks: Int32Array };
}

/**
 * Draws up to `count` distinct items from [0, items) minus the sorted `banned` list, uniformly,
 * from `rand`. Dense picks use a partial Fisher-Yates over the eligible list; sparse ones reject.
 */
export function drawNegatives(items: number, banned: Int32Array, count: number, rand: () => number): Int32Array {
  const eligible = items - banned.length;
  if (eligible <= 0) return new Int32Array(0);
  if (count >= eligible / 4) {
    const pool = new Int32Array(eligible);
    for (let i = 0, b = 0, at = 0; i < items; i++) {
      if (b < banned.length && banned[b] === i) b++;
      else pool[at++] = i;
    }
    const n = Math.min(count, eligible);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(rand() * (eligible - i));
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
    return pool.slice(0, n);
  }
  const out = new Int32Array(count);
  const taken = new Set<number>();
  for (let n = 0; n < count; ) {
    const x = Math.floor(rand() * items);
    if (taken.has(x) || contains(banned, x)) continue;
    taken.add(x);
    out[n++] = x;
  }
  return out;
}

/** Sorted union of two sorted distinct lists. */
function union(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let i = 0,
    j = 0,
    n = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out[n++] = a[i++];
    else if (i >= a.length || b[j] < a[i]) out[n++] = b[j++];
    else {
      out[n++] = a[i++];
      j++;
    }
  }
  return out.subarray(0, n);
}

export async function evaluateSampled(model: RankingModel, test: Interactions, options?: SampledOptions): Promise<SampledMetrics> {
  if (!model || typeof model !== 'object' || typeof model.encodeItems !== 'function' || typeof model.userQuery !== 'function') {
    throw typeError('model', 'RankingModel { users, items, encodeItems(), userQuery(u) }', model);
  }
  const table = model.encodeItems();
  return evaluateSampledScores(
    {
      users: model.users,
      items: model.items,
      score: (u, candidates, out) => scoreItems(table, model.userQuery(u), { items: candidates, out, threads: 1 }),
    },
    test,
    options,
  );
}

/**
 * Anything that can score a user's candidate items: the sampled protocol for models that are not
 * one dot product (neighbourhood models, hybrids). score() fills and returns `out` (or a view of
 * the same length as `candidates`).
 */
export interface CandidateScorer {
  readonly users: number;
  readonly items: number;
  score(user: number, candidates: Int32Array, out: Float32Array): Float32Array;
}

/** evaluateSampled for any CandidateScorer: the same negatives for the same seed, user and item. */
export async function evaluateSampledScores(model: CandidateScorer, test: Interactions, options?: SampledOptions): Promise<SampledMetrics> {
  if (!model || typeof model !== 'object' || typeof model.score !== 'function')
    throw typeError('model', 'CandidateScorer { users, items, score() }', model);
  if (!(test instanceof Interactions)) throw typeError('test', 'Interactions', test);
  const o = expectOptions('options', options);
  const negatives = o.negatives === undefined ? 999 : expectInteger('options.negatives', o.negatives, 1, 1_000_000);
  const seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1);
  const cut = resolveCutoffs(o.k, o.ks);
  const perPair = o.perPair === undefined ? false : expectBoolean('options.perPair', o.perPair);
  const chunk = o.chunkSize === undefined ? 4096 : expectInteger('options.chunkSize', o.chunkSize, 1, 1 << 24);
  const signal = expectSignal('options.signal', o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'function', o.onProgress);
  if (test.numItems > model.items || test.numUsers > model.users) {
    throw typeError('test', `interactions within the model (${model.users} users, ${model.items} items)`, test);
  }
  if (o.exclude !== undefined && !(o.exclude instanceof Interactions)) throw typeError('options.exclude', 'Interactions', o.exclude);
  if (o.exclude && (o.exclude.numItems > model.items || o.exclude.numUsers > model.users)) {
    throw rangeError('options.exclude', `interactions within the model (${model.users} users, ${model.items} items)`, o.exclude);
  }

  const truth = test.byUser();
  const seen = o.exclude?.byUser() ?? null;
  const total = truth.indices.length;
  if (total === 0) throw new RecbridgeError('ERR_NATIVE', 'The test set is empty: nothing to evaluate');
  const hits = new Float64Array(cut.ks.length);
  const ndcgs = new Float64Array(cut.ks.length);
  const mrrs = new Float64Array(cut.ks.length);
  let mrrFull = 0;
  let shortPairs = 0;
  let users = 0;
  const out = perPair ? { users: new Int32Array(total), items: new Int32Array(total), ranks: new Int32Array(total) } : null;
  const candidates = new Int32Array(negatives + 1);
  const scores = new Float32Array(negatives + 1);

  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  let done = 0;
  let sinceYield = 0;
  for (let u = 0; u < test.numUsers; u++) {
    const positives = truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]);
    if (positives.length === 0) continue;
    users++;
    const known = seen && u < seen.offsets.length - 1 ? seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1]) : new Int32Array(0);
    const banned = union(known, positives);
    for (const item of positives) {
      const drawn = drawNegatives(model.items, banned, negatives, uniformGenerator(mixSeed(seed, u, item)));
      if (drawn.length < negatives) shortPairs++;
      candidates[0] = item;
      candidates.set(drawn, 1);
      const n = drawn.length + 1;
      const s = model.score(u, candidates.subarray(0, n), scores.subarray(0, n));
      let rank = 1;
      for (let j = 1; j < n; j++) if (s[j] >= s[0]) rank++;
      mrrFull += 1 / rank;
      cut.ks.forEach((K, c) => {
        if (rank > K) return;
        hits[c]++;
        ndcgs[c] += 1 / Math.log2(rank + 1);
        mrrs[c] += 1 / rank;
      });
      if (out) {
        out.users[done] = u;
        out.items[done] = item;
        out.ranks[done] = rank;
      }
      done++;
      if (++sinceYield >= chunk) {
        sinceYield = 0;
        await invoke(o.onProgress, { done, total });
        // Yield so the event loop (timers, abort signals, other requests) keeps running.
        await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      }
    }
  }
  await invoke(o.onProgress, { done, total });
  const byK: Record<number, SampledCutoffMetrics> = {};
  cut.ks.forEach((K, c) => {
    byK[K] = { hit: hits[c] / done, ndcg: ndcgs[c] / done, mrr: mrrs[c] / done };
  });
  const result: SampledMetrics = { pairs: done, users, shortPairs, negatives, k: cut.k, ...byK[cut.k], mrrFull: mrrFull / done, byK };
  if (out) result.perPair = out;
  return result;
}

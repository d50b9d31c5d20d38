/**
 * Full-ranking evaluation of any model that can produce a dense score vector per user (closed-form
 * models such as EASE and cross-domain ridge, whose scores are not one dot product with an item
 * table of modest width). Same protocol, metrics and result shape as evaluateRanking: masked items
 * never rank, ties break by the lower item index, users without a test item are skipped.
 */
import { AbortError, RecbridgeError } from '../core/errors';
import type { Interactions } from '../data/interactions';
import { expectBoolean, expectOptions, expectSignal, rangeError, typeError } from '../core/validate';
import { GroupAccumulator } from './accumulator';
import { resolveCutoffs } from './cutoffs';
import { perUserArrays, storeUser, type RankingMetrics } from './ranking';
import { METRIC_COUNT, userMetrics } from './user-metrics';

export interface ScoreRowsOptions {
  /** Cut-off of the top-level fields. Default 10, or ks[0]. */
  k?: number;
  /** Several cut-offs at once (byK). */
  ks?: number[];
  /** Items to mask per user (their training items). Default: none. */
  exclude?: Interactions;
  /** Per-item training counts for arp. Default: exclude's item counts. */
  popularity?: ArrayLike<number>;
  /** Also return each evaluated user's metrics. Default false. */
  perUser?: boolean;
  /** Cancels between users: the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * The best `k` items of one score vector, best first, skipping masked items (ties: lower index
 * first). `masked` lists item indices in any order.
 */
export function topOfScores(scores: Float32Array, k: number, masked: ArrayLike<number> | null): Int32Array {
  const best = new Int32Array(k);
  const bestScore = new Float64Array(k);
  let count = 0;
  const saved = masked ? new Float32Array(masked.length) : null;
  if (masked && saved) {
    for (let j = 0; j < masked.length; j++) {
      saved[j] = scores[masked[j]];
      scores[masked[j]] = Number.NaN;
    }
  }
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) continue; // masked (or NaN: never ranked)
    if (count === k && !(s > bestScore[k - 1])) continue;
    // Insert after every entry with a score ≥ s, so an equal score keeps the lower index ahead.
    let at = count === k ? k - 1 : count++;
    while (at > 0 && bestScore[at - 1] < s) {
      bestScore[at] = bestScore[at - 1];
      best[at] = best[at - 1];
      at--;
    }
    bestScore[at] = s;
    best[at] = i;
  }
  if (masked && saved) for (let j = 0; j < masked.length; j++) scores[masked[j]] = saved[j];
  return best.subarray(0, count);
}

/**
 * Recall, precision, NDCG, hit, MRR and MAP @K of `score(u)` (a full score vector over `items`
 * items, which the evaluation may read but leaves as it was) for every user of `test` with a test
 * item, or only `users`.
 */
export async function evaluateScoreRows(
  score: (u: number) => Float32Array,
  items: number,
  test: Interactions,
  options?: ScoreRowsOptions & { users?: ArrayLike<number> },
): Promise<RankingMetrics> {
  if (typeof score !== 'function') throw typeError('score', 'function (user) => Float32Array', score);
  const o = expectOptions('options', options);
  const cut = resolveCutoffs(o.k, o.ks);
  if (test.numItems > items) throw rangeError('test', `interactions over at most ${items} items`, test);
  const perUser = o.perUser === undefined ? false : expectBoolean('options.perUser', o.perUser);
  const signal = expectSignal('options.signal', o.signal);
  const popularity = o.popularity ?? o.exclude?.itemCounts() ?? null;
  const truth = test.byUser();
  const seen = o.exclude?.byUser() ?? null;
  const scope = o.users ? Array.from(o.users) : Array.from({ length: test.numUsers }, (_, u) => u);
  const users = Int32Array.from(scope.filter((u) => u < test.numUsers && truth.offsets[u + 1] > truth.offsets[u]));
  if (users.length === 0) throw new RecbridgeError('ERR_NATIVE', 'No user in scope has a test item: nothing to evaluate');
  const acc = new GroupAccumulator(cut.ks, items);
  const per = perUser ? perUserArrays(users, cut.ks, false) : null;
  const values = new Float64Array(cut.ks.length * METRIC_COUNT);
  for (let j = 0; j < users.length; j++) {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const u = users[j];
    const s = score(u);
    if (s.length !== items) throw rangeError(`score(${u})`, `a Float32Array of ${items} scores`, s);
    const masked = seen && u < seen.offsets.length - 1 ? seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1]) : null;
    const ranked = topOfScores(s, cut.max, masked);
    userMetrics(ranked, truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]), cut.ks, popularity, values);
    acc.add(values, ranked, 0);
    if (per) storeUser(per, j, values, cut.ks, 0);
    // Let timers and other requests run on long evaluations.
    if ((j & 1023) === 1023) await new Promise((r) => setImmediate(r));
  }
  const { byK } = acc.result(popularity !== null);
  return {
    users: acc.users,
    skipped: scope.length - users.length,
    k: cut.k,
    ...byK[cut.k],
    byK,
    ...(per ? { perUser: per } : {}),
  };
}

/**
 * One user's ranking metrics at several cut-offs, from one ranked list (best first) and the user's
 * relevant items (sorted, distinct). One pass over the list serves every cut-off.
 *
 * Definitions (binary relevance, rank r counted from 1, list truncated at K):
 * - recall@K    = hits@K / |relevant|
 * - precision@K = hits@K / K (K, not the list length: a short list is not rewarded)
 * - hit@K       = 1 if hits@K > 0
 * - ndcg@K      = Σ_{hit at r} 1/log2(r+1) ÷ Σ_{r=1..min(|relevant|, K)} 1/log2(r+1)
 * - mrr@K       = 1 / (rank of the first hit), 0 without a hit in the top K
 * - map@K       = Σ_{hit at r} precision@r ÷ min(|relevant|, K)   (AP@K, averaged over users)
 * - arp@K       = mean training popularity of the listed items (0 for an empty list)
 */

/** The per-user metrics, in the order of the accumulator's slots. */
export const USER_METRICS = ['recall', 'precision', 'ndcg', 'hit', 'mrr', 'map', 'arp'] as const;
export type UserMetricName = (typeof USER_METRICS)[number];
export const METRIC_COUNT = USER_METRICS.length;

const idcgCache: number[] = [0];

/** Σ_{r=1..n} 1/log2(r+1), the ideal DCG of n relevant items. */
export function idealDcg(n: number): number {
  while (idcgCache.length <= n) {
    const r = idcgCache.length;
    idcgCache.push(idcgCache[r - 1] + 1 / Math.log2(r + 1));
  }
  return idcgCache[n];
}

/** Whether x is in the ascending array (binary search). */
export function contains(sorted: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === x;
}

/**
 * Writes ks.length × METRIC_COUNT values into out (cut-off major). `ranked` may be shorter than K
 * (fewer eligible items); `relevant` must be non-empty; `popularity` may be null (arp = 0).
 */
export function userMetrics(
  ranked: ArrayLike<number>,
  relevant: Int32Array,
  ks: readonly number[],
  popularity: ArrayLike<number> | null,
  out: Float64Array,
): void {
  const n = relevant.length;
  let hits = 0;
  let dcg = 0;
  let first = 0;
  let apSum = 0;
  let popSum = 0;
  let r = 0;
  for (let c = 0; c < ks.length; c++) {
    const K = ks[c];
    const end = Math.min(K, ranked.length);
    for (; r < end; r++) {
      const item = ranked[r];
      if (popularity) popSum += item < popularity.length ? popularity[item] : 0;
      if (!contains(relevant, item)) continue;
      hits++;
      dcg += 1 / Math.log2(r + 2);
      apSum += hits / (r + 1);
      if (!first) first = r + 1;
    }
    const at = c * METRIC_COUNT;
    out[at] = hits / n;
    out[at + 1] = hits / K;
    out[at + 2] = dcg / idealDcg(Math.min(n, K));
    out[at + 3] = hits > 0 ? 1 : 0;
    out[at + 4] = first ? 1 / first : 0;
    out[at + 5] = apSum / Math.min(n, K);
    out[at + 6] = end > 0 ? popSum / end : 0;
  }
}

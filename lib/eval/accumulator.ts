/**
 * Running sums of per-user metrics for one group of users (everyone, or one slice), plus the best
 * rank at which each catalogue item was recommended, so item coverage at every cut-off comes out
 * of one pass.
 */
import { METRIC_COUNT, USER_METRICS } from './user-metrics';

/** Metrics at one cut-off, averaged over the evaluated users (coverage: over the catalogue). */
export interface CutoffMetrics {
  recall: number;
  precision: number;
  ndcg: number;
  hit: number;
  mrr: number;
  /** Mean AP@K, AP@K = Σ precision@r·rel_r / min(|test|, K). */
  map: number;
  /** Fraction of catalogue items that appear in at least one user's top K. */
  coverage: number;
  /**
   * Average recommendation popularity: per user the mean training count of the listed items,
   * averaged over users. Present when popularity counts were available.
   */
  arp?: number;
}

export class GroupAccumulator {
  users = 0;
  private readonly sums: Float64Array;
  private aucSum = 0;
  /** Best (0-based) rank at which each item was listed; `max` when never. */
  private readonly bestRank: Int32Array;

  constructor(
    private readonly ks: readonly number[],
    items: number,
  ) {
    this.sums = new Float64Array(ks.length * METRIC_COUNT);
    this.bestRank = new Int32Array(items).fill(ks[ks.length - 1]);
  }

  add(values: Float64Array, ranked: ArrayLike<number>, auc: number): void {
    this.users++;
    for (let i = 0; i < this.sums.length; i++) this.sums[i] += values[i];
    this.aucSum += auc;
    const best = this.bestRank;
    for (let r = 0; r < ranked.length; r++) if (best[ranked[r]] > r) best[ranked[r]] = r;
  }

  result(withArp: boolean): { byK: Record<number, CutoffMetrics>; auc: number } {
    const n = Math.max(this.users, 1);
    const items = this.bestRank.length;
    // listedBefore[r]: items whose best rank is r; a prefix sum gives coverage at each K.
    const listed = new Float64Array(this.ks[this.ks.length - 1] + 1);
    for (let i = 0; i < items; i++) listed[this.bestRank[i]]++;
    const byK: Record<number, CutoffMetrics> = {};
    let covered = 0;
    let r = 0;
    this.ks.forEach((K, c) => {
      for (; r < K; r++) covered += listed[r];
      const m: Record<string, number> = {};
      USER_METRICS.forEach((name, j) => {
        m[name] = this.sums[c * METRIC_COUNT + j] / n;
      });
      const out: CutoffMetrics = {
        recall: m.recall,
        precision: m.precision,
        ndcg: m.ndcg,
        hit: m.hit,
        mrr: m.mrr,
        map: m.map,
        coverage: items ? covered / items : 0,
      };
      if (withArp) out.arp = m.arp;
      byK[K] = out;
    });
    return { byK, auc: this.aucSum / n };
  }
}

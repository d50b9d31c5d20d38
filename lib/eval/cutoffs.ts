/**
 * The cut-offs of one evaluation: `ks` (several at once) and `k` (the one the top-level fields
 * report), merged into one ascending list so the top-K kernel runs once, at the largest.
 */
import { expectPositiveInteger, rangeError, typeError } from '../core/validate';

export interface Cutoffs {
  /** Ascending, distinct. */
  ks: number[];
  /** The cut-off of the top-level fields. */
  k: number;
  max: number;
}

export function resolveCutoffs(k: unknown, ks: unknown, fallback = 10): Cutoffs {
  let list: number[] = [];
  if (ks !== undefined) {
    if (!Array.isArray(ks) || ks.length === 0) throw typeError('options.ks', 'non-empty array of positive integers', ks);
    list = ks.map((x, i) => expectPositiveInteger(`options.ks[${i}]`, x));
  }
  const primary = k !== undefined ? expectPositiveInteger('options.k', k) : list.length ? list[0] : fallback;
  const all = [...new Set([...list, primary])].sort((a, b) => a - b);
  if (all[all.length - 1] > 1_000_000) throw rangeError('options.ks', 'cut-offs of at most 1000000', all[all.length - 1]);
  return { ks: all, k: primary, max: all[all.length - 1] };
}

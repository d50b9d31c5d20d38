/**
 * Negative samplers for matrix factorization. Popularity sampling draws item i with probability
 * ∝ count_i^α through an alias table (Walker/Vose): O(1) per draw in the native loop.
 */
import { sharedFloat32, sharedInt32 } from '../core/shared-memory';

export interface AliasTable {
  /** Probability of keeping column k (else take alias[k]). */
  prob: Float32Array;
  alias: Int32Array;
}

/** Builds an alias table for weights (non-negative, not all zero). */
export function aliasTable(weights: ArrayLike<number>): AliasTable {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  // Shared memory: the native sampler reads these in place during async epochs.
  const prob = sharedFloat32(n);
  const alias = sharedInt32(n);
  const scaled = new Float64Array(n);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) {
    scaled[i] = (weights[i] * n) / total;
    (scaled[i] < 1 ? small : large).push(i);
    alias[i] = i;
  }
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1; // rounding leftovers
  return { prob, alias };
}

/** Weights count^α per item; items never seen get weight 0 unless every weight would be 0. */
export function popularityWeights(counts: Int32Array, alpha: number): Float64Array {
  const w = new Float64Array(counts.length);
  let any = false;
  for (let i = 0; i < counts.length; i++) {
    w[i] = counts[i] > 0 ? counts[i] ** alpha : 0;
    any ||= w[i] > 0;
  }
  if (!any) w.fill(1);
  return w;
}

/**
 * Option bags and argument handling shared by the neighbourhood models: similarity choice, history
 * resolution (unknown items, weights, recency) and batch histories.
 */
import type { WeightedCsr } from '../core/csr';
import { types } from 'node:util';

import { resolveThreads } from '../core/config';
import { resolveIndexList, type IndexList } from '../core/item-set';
import { KnnWeighting } from '../core/native-constants';
import { Interactions } from '../data/interactions';
import {
  expectBoolean,
  expectInteger,
  expectNotDetached,
  expectOptions,
  expectSignal,
  lengthError,
  rangeError,
  typeError,
} from '../core/validate';

export type SimilarityName = 'cosine' | 'tfidf' | 'bm25';

/** How an item-item similarity is built (ItemKnn.fit, CrossDomainItemKnn.fit). */
export interface SimilarityOptions {
  /**
   * Default 'cosine'. With w(u, i) the weight of user u's interaction with item i and x its value
   * (1 unless useValues):
   * - 'cosine': w = x; sim(i, j) = Σ_u w(u,i)·w(u,j) / (‖w(·,i)‖·‖w(·,j)‖).
   * - 'tfidf':  w = √x · idf(u); sim = Σ_u w(u,i)·w(u,j).
   * - 'bm25':   w = x·(k1+1) / (k1·(1 − b + b·len(i)/avg len) + x) · idf(u); sim = Σ_u w(u,i)·w(u,j).
   * idf(u) = ln(items) − ln(1 + items of u): users who touched many items count less. len(i) is
   * item i's total value (its popularity). All three are symmetric.
   */
  similarity?: SimilarityName;
  /** Neighbours kept per item (exact top-N, ties to the lower item index). Default 100. */
  neighbours?: number;
  /**
   * Significance shrinkage ≥ 0: sim is multiplied by c / (c + shrink), c = the number of users the
   * two items share, so pairs seen together by few users count less. Default 0 (none).
   */
  shrink?: number;
  /** BM25 parameters (similarity 'bm25' only). Defaults k1 1.2, b 0.75. */
  bm25?: { k1?: number; b?: number };
  /**
   * Use the interactions' values (summed over duplicate user-item pairs; they must be > 0) instead
   * of 1 per distinct user-item pair. Default false.
   */
  useValues?: boolean;
  /** Native threads (the caller's libuv thread included). Default: configure().threads. Results never depend on it. */
  threads?: number;
  /** Cancels the build: the promise rejects with an AbortError (code 'ABORT_ERR'). */
  signal?: AbortSignal;
}

export interface ResolvedSimilarity {
  weighting: KnnWeighting;
  similarity: SimilarityName;
  neighbours: number;
  shrink: number;
  k1: number;
  b: number;
  useValues: boolean;
  threads: number;
  signal: AbortSignal | undefined;
}

const WEIGHTINGS: Record<SimilarityName, KnnWeighting> = {
  cosine: KnnWeighting.cosine,
  tfidf: KnnWeighting['tf-idf'],
  bm25: KnnWeighting.bm25,
};

export function finiteNumber(argument: string, value: unknown, min: number, max = Number.MAX_VALUE): number {
  if (typeof value !== 'number') throw typeError(argument, `number in [${min}, ${max}]`, value);
  if (!Number.isFinite(value) || value < min || value > max) throw rangeError(argument, `finite number in [${min}, ${max}]`, value);
  return value;
}

export function resolveSimilarity(o: Partial<SimilarityOptions>): ResolvedSimilarity {
  const similarity = o.similarity ?? 'cosine';
  if (typeof similarity !== 'string' || !(similarity in WEIGHTINGS))
    throw typeError('options.similarity', "'cosine', 'tfidf' or 'bm25'", similarity);
  const bm25 = expectOptions('options.bm25', o.bm25);
  return {
    similarity,
    weighting: WEIGHTINGS[similarity],
    neighbours: o.neighbours === undefined ? 100 : expectInteger('options.neighbours', o.neighbours, 1, 2 ** 31 - 1),
    shrink: o.shrink === undefined ? 0 : finiteNumber('options.shrink', o.shrink, 0, 1e9),
    k1: bm25.k1 === undefined ? 1.2 : finiteNumber('options.bm25.k1', bm25.k1, 0, 1e9),
    b: bm25.b === undefined ? 0.75 : finiteNumber('options.bm25.b', bm25.b, 0, 1),
    useValues: o.useValues === undefined ? false : expectBoolean('options.useValues', o.useValues),
    threads: resolveThreads('options.threads', o.threads),
    signal: expectSignal('options.signal', o.signal),
  };
}

/** How a history's neighbours become scores (recommend, recommendBatch, scoreItems). */
export interface AggregationOptions {
  /**
   * 'sum' (default): score(j) = Σ_i w_i · sim(i, j) over the history items i.
   * 'mean': score(j) = Σ_i w_i · sim(i, j) / (Σ_{i linked to j} w_i + shrink): a weighted mean of the
   * similarities that vouch for j, shrunk toward 0 when few history items do.
   */
  aggregate?: 'sum' | 'mean';
  /** For aggregate 'mean': the shrinkage term (≥ 0). Default 0. */
  shrink?: number;
  /** Per-history-item weights (finite, ≥ 0), aligned with the history. Default: all 1. */
  weights?: Float32Array | ReadonlyArray<number>;
  /**
   * Recency decay in (0, 1]: the history is taken oldest first and item t of n is weighted by
   * recencyDecay^(n−1−t) (times its weight). Default 1 (no decay).
   */
  recencyDecay?: number;
  /**
   * History items the model does not know (outside [0, items), e.g. -1 for an id a vocabulary did
   * not know): 'skip' (default; they are counted in the result's `skipped`) or 'error' (a RangeError,
   * code ERR_OUT_OF_RANGE, naming the entry).
   */
  unknownItems?: 'skip' | 'error';
}

export interface ResolvedAggregation {
  mean: boolean;
  shrink: number;
  decay: number;
  strict: boolean;
}

export function resolveAggregation(o: Partial<AggregationOptions>): ResolvedAggregation {
  const aggregate = o.aggregate ?? 'sum';
  if (aggregate !== 'sum' && aggregate !== 'mean') throw typeError('options.aggregate', "'sum' or 'mean'", aggregate);
  const unknown = o.unknownItems ?? 'skip';
  if (unknown !== 'skip' && unknown !== 'error') throw typeError('options.unknownItems', "'skip' or 'error'", unknown);
  const decay = o.recencyDecay === undefined ? 1 : finiteNumber('options.recencyDecay', o.recencyDecay, 0, 1);
  if (decay === 0) throw rangeError('options.recencyDecay', 'number in (0, 1]', decay);
  return {
    mean: aggregate === 'mean',
    shrink: o.shrink === undefined ? 0 : finiteNumber('options.shrink', o.shrink, 0, 1e9),
    decay,
    strict: unknown === 'error',
  };
}

/**
 * A history as the addon reads it. With strict, every entry must lie in [0, rows); otherwise
 * out-of-range integers stay (the kernel skips and counts them). Non-integers are always an error.
 */
export function resolveHistory(argument: string, value: unknown, rows: number, strict: boolean): Int32Array {
  let out: Int32Array;
  if (types.isInt32Array(value)) {
    expectNotDetached(argument, value);
    out = value;
  } else if (Array.isArray(value) || types.isUint32Array(value)) {
    const src = value as ArrayLike<unknown>;
    out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const x = src[i];
      if (typeof x !== 'number' || !Number.isInteger(x)) throw typeError(`${argument}[${i}]`, 'integer item index', x);
      // Beyond int32 is unknown for sure: -1 keeps it unknown instead of wrapping onto a real item.
      out[i] = x >= 0 && x < 2 ** 31 ? x : -1;
      if (strict && !(x >= 0 && x < rows)) throw rangeError(`${argument}[${i}]`, `a known item in [0, ${rows})`, x);
    }
    return out;
  } else {
    throw typeError(argument, 'Int32Array or array of item indices', value);
  }
  if (strict) {
    for (let i = 0; i < out.length; i++) {
      if (out[i] < 0 || out[i] >= rows) throw rangeError(`${argument}[${i}]`, `a known item in [0, ${rows})`, out[i]);
    }
  }
  return out;
}

/** Per-entry weights (explicit weights × recency), or null when every weight is 1. */
export function historyWeights(
  argument: string,
  weights: unknown,
  n: number,
  decay: number,
  out?: Float32Array,
  at = 0,
): Float32Array | null {
  if (weights === undefined && decay === 1) return null;
  const w = out ?? new Float32Array(n);
  if (weights !== undefined) {
    if (!types.isFloat32Array(weights) && !Array.isArray(weights)) throw typeError(argument, 'Float32Array or array of numbers', weights);
    const src = weights as ArrayLike<unknown>;
    if (src.length !== n) throw lengthError(argument, `one weight per history item (${n})`, weights);
    for (let i = 0; i < n; i++) {
      const x = src[i];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw rangeError(`${argument}[${i}]`, 'finite number ≥ 0', x);
      w[at + i] = x;
    }
  } else {
    w.fill(1, at, at + n);
  }
  if (decay !== 1) for (let i = 0; i < n; i++) w[at + i] *= decay ** (n - 1 - i);
  return w;
}

/** HistoryInput of many queries: CSR (optionally with weights), an array of lists, or Interactions (one per user row). */
export type HistoryInput = Interactions | ReadonlyArray<Int32Array | ReadonlyArray<number>> | WeightedCsr;

export interface ResolvedHistories {
  offsets: Int32Array;
  indices: Int32Array;
  weights: Float32Array | null;
}

export function resolveHistories(argument: string, value: unknown, rows: number, agg: ResolvedAggregation): ResolvedHistories {
  let offsets: Int32Array;
  let indices: Int32Array;
  let given: Float32Array | undefined;
  if (value instanceof Interactions) {
    ({ offsets, indices } = value.byUser());
  } else if (Array.isArray(value)) {
    const lists = value.map((h, q) => resolveHistory(`${argument}[${q}]`, h, rows, agg.strict));
    offsets = new Int32Array(lists.length + 1);
    lists.forEach((l, q) => (offsets[q + 1] = offsets[q] + l.length));
    indices = new Int32Array(offsets[lists.length]);
    lists.forEach((l, q) => indices.set(l, offsets[q]));
  } else if (value !== null && typeof value === 'object' && types.isInt32Array((value as { offsets?: unknown }).offsets)) {
    const v = value as { offsets: Int32Array; indices: unknown; weights?: unknown };
    offsets = v.offsets;
    indices = resolveHistory(`${argument}.indices`, v.indices, rows, agg.strict);
    if (v.weights !== undefined) {
      if (!types.isFloat32Array(v.weights)) throw typeError(`${argument}.weights`, 'Float32Array', v.weights);
      given = v.weights;
    }
    checkOffsets(`${argument}.offsets`, offsets, indices.length);
  } else {
    throw typeError(argument, 'Interactions, an array of item lists or { offsets, indices, weights? }', value);
  }
  if (value instanceof Interactions && agg.strict) resolveHistory(`${argument}.items`, indices, rows, true);
  const nq = offsets.length - 1;
  let weights: Float32Array | null = null;
  if (given || agg.decay !== 1) {
    weights = new Float32Array(indices.length);
    for (let q = 0; q < nq; q++) {
      const b = offsets[q];
      const n = offsets[q + 1] - b;
      historyWeights(`${argument}.weights`, given ? given.subarray(b, b + n) : undefined, n, agg.decay, weights, b);
    }
  }
  return { offsets, indices, weights };
}

export function checkOffsets(argument: string, offsets: Int32Array, nnz: number): void {
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== nnz) {
    throw rangeError(argument, `offsets starting at 0 and ending at ${nnz}`, offsets);
  }
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i] < offsets[i - 1])
      throw rangeError(`${argument}[${i}]`, `a value ≥ ${argument}[${i - 1}] (${offsets[i - 1]})`, offsets[i]);
  }
}

/** Per-query exclusions for a batch: CSR, an array of index lists (null for none), or Interactions. */
export type BatchExclusions = Interactions | ReadonlyArray<IndexList | null | undefined> | { offsets: Int32Array; indices: Int32Array };

export function resolveBatchExclusions(
  argument: string,
  value: unknown,
  nq: number,
  cols: number,
): { offsets: Int32Array; indices: Int32Array } | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Interactions) {
    if (value.numItems > cols) throw rangeError(argument, `interactions over at most ${cols} items`, value);
    const { offsets, indices } = value.byUser();
    const out = new Int32Array(nq + 1);
    const users = offsets.length - 1;
    for (let q = 0; q < nq; q++) out[q + 1] = out[q] + (q < users ? offsets[q + 1] - offsets[q] : 0);
    return { offsets: out, indices: indices.subarray(0, out[nq]) };
  }
  if (Array.isArray(value)) {
    if (value.length !== nq) throw lengthError(argument, `one entry per query (${nq})`, value);
    const lists = value.map((l, q) => (l === undefined || l === null ? null : resolveIndexList(`${argument}[${q}]`, l, cols)));
    const offsets = new Int32Array(nq + 1);
    lists.forEach((l, q) => (offsets[q + 1] = offsets[q] + (l?.length ?? 0)));
    const indices = new Int32Array(offsets[nq]);
    lists.forEach((l, q) => l && indices.set(l, offsets[q]));
    return { offsets, indices };
  }
  if (typeof value === 'object' && types.isInt32Array((value as { offsets?: unknown }).offsets)) {
    const v = value as { offsets: Int32Array; indices: unknown };
    const indices = resolveIndexList(`${argument}.indices`, v.indices, cols);
    if (v.offsets.length !== nq + 1) throw lengthError(`${argument}.offsets`, `Int32Array of length ${nq + 1} (queries + 1)`, v.offsets);
    checkOffsets(`${argument}.offsets`, v.offsets, indices.length);
    return { offsets: v.offsets, indices };
  }
  throw typeError(argument, 'Interactions, an array of index lists or { offsets, indices }', value);
}

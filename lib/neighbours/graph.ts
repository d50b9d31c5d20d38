/**
 * The sparse neighbour graph behind every neighbourhood model, and the queries they share. The graph
 * lives in native memory (immutable once built, freed by the garbage collector), so a query neither
 * copies nor re-validates it; any number of queries may run at once, sync or async.
 */
import { types } from 'node:util';

import { AbortError, RecbridgeError } from '../core/errors';
import { resolveThreads } from '../core/config';
import { resolveIndexList, type IndexList } from '../core/item-set';
import { native, type KnnBuildSpec, type KnnGraphHandle } from '../core/native';
import type { Interactions } from '../data/interactions';
import { expectInteger, expectBoolean, expectOptions, expectPositiveInteger, expectSignal, typeError } from '../core/validate';
import {
  historyWeights,
  resolveAggregation,
  resolveBatchExclusions,
  resolveHistories,
  resolveHistory,
  type AggregationOptions,
  type BatchExclusions,
} from './options';

export interface NeighbourList {
  /** Candidate items, best first (ties: lower index first). */
  indices: Int32Array;
  scores: Float32Array;
}

export interface Recommendations extends NeighbourList {
  /** History entries skipped as unknown (unknownItems 'skip'). */
  skipped: number;
}

export interface NeighbourRecommendOptions extends AggregationOptions {
  /** Candidate items never returned (applied inside the kernel). */
  exclude?: IndexList;
}

export interface NeighbourBatchOptions extends Omit<AggregationOptions, 'weights'> {
  /** Per-query candidate exclusions: Interactions (row q = query q), an array of lists, or CSR. */
  exclude?: BatchExclusions;
  /** Native threads. Default: configure().threads. */
  threads?: number;
  signal?: AbortSignal;
}

/** recommendBatch results: query q's are slots [q*k, q*k + counts[q]) (unused: -1 and NaN). */
export class NeighbourBatchResult {
  constructor(
    readonly k: number,
    readonly indices: Int32Array,
    readonly scores: Float32Array,
    readonly counts: Int32Array,
    /** Unknown history entries skipped per query. */
    readonly skipped: Int32Array,
  ) {}

  get queries(): number {
    return this.counts.length;
  }

  /** Query q's results (views, no copy). */
  query(q: number): Recommendations {
    expectInteger('q', q, 0, this.counts.length - 1);
    const start = q * this.k;
    const end = start + this.counts[q];
    return { indices: this.indices.subarray(start, end), scores: this.scores.subarray(start, end), skipped: this.skipped[q] };
  }
}

/** The neighbour lists in portable form (for model files): row r's are indices[offsets[r] … offsets[r+1]). */
export interface NeighbourArrays {
  rows: number;
  cols: number;
  offsets: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
}

export async function buildGraph(spec: Omit<KnnBuildSpec, 'cancel'>, signal: AbortSignal | undefined): Promise<KnnGraphHandle> {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const token = signal ? native.createCancelToken() : null;
  const onAbort = () => token && native.cancel(token);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await native.knnBuild({ ...spec, cancel: token });
    if (!r.completed || !r.graph) throw new AbortError(undefined, { cause: signal?.reason });
    return r.graph;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** User x item CSR with items strictly increasing per user (values summed over duplicates, or null). */
export function userItemCsr(
  data: Interactions,
  useValues: boolean,
): { offsets: Int32Array; indices: Int32Array; values: Float32Array | null } {
  if (!useValues) {
    const { offsets, indices } = data.byUser();
    return { offsets, indices, values: null };
  }
  if (!data.values) throw typeError('options.useValues', 'interactions with values (or useValues false)', data);
  const order = Int32Array.from({ length: data.size }, (_, i) => i).sort(
    (a, b) => data.users[a] - data.users[b] || data.items[a] - data.items[b],
  );
  const offsets = new Int32Array(data.numUsers + 1);
  const indices = new Int32Array(data.size);
  const values = new Float32Array(data.size);
  let n = 0;
  for (let t = 0; t < order.length; t++) {
    const p = order[t];
    const v = data.values[p];
    if (!(v > 0)) throw new RecbridgeError('ERR_MALFORMED_DATA', `Interaction ${p} has value ${v}; similarity weights need values > 0`);
    const u = data.users[p];
    if (n > 0 && t > 0 && data.users[order[t - 1]] === u && indices[n - 1] === data.items[p]) values[n - 1] += v;
    else {
      indices[n] = data.items[p];
      values[n] = v;
      n++;
    }
    offsets[u + 1] = n;
  }
  for (let u = 0; u < data.numUsers; u++) if (offsets[u + 1] < offsets[u]) offsets[u + 1] = offsets[u];
  return { offsets, indices: indices.slice(0, n), values: values.slice(0, n) };
}

/**
 * A built neighbour graph: rows are the items a history is made of, columns the items recommended
 * (the same catalogue for ItemKnn; source and target catalogues for CrossDomainItemKnn).
 */
export abstract class NeighbourModel {
  protected constructor(
    protected readonly graph: KnnGraphHandle,
    /** Items a history may contain. */
    readonly historyItems: number,
    /** Items that can be recommended. */
    readonly candidateItems: number,
    /** Whether history and candidates are one catalogue (then the history is excluded by default). */
    private readonly sameCatalogue: boolean,
  ) {}

  /** Neighbours stored in total. */
  get storedNeighbours(): number {
    return native.knnShape(this.graph)[2];
  }

  /** The neighbour lists as plain arrays (a copy, each row best first), e.g. for saving. */
  toArrays(options?: { threads?: number }): NeighbourArrays {
    const threads = resolveThreads('options.threads', expectOptions('options', options).threads);
    return native.knnExport(this.graph, threads);
  }

  protected neighboursOf(argument: string, item: number, k: number, options?: { exclude?: IndexList }): NeighbourList {
    expectInteger(argument, item, 0, this.historyItems - 1);
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const exclude = o.exclude === undefined ? null : resolveIndexList('options.exclude', o.exclude, this.candidateItems);
    const cap = Math.min(k, this.candidateItems);
    const indices = new Int32Array(cap);
    const scores = new Float32Array(cap);
    const n = native.knnRow({ graph: this.graph, row: item, k, exclude, outIndices: indices, outScores: scores });
    return n === cap ? { indices, scores } : { indices: indices.subarray(0, n), scores: scores.subarray(0, n) };
  }

  protected recommendFrom(
    history: unknown,
    k: number,
    options: (NeighbourRecommendOptions & { excludeHistory?: boolean }) | undefined,
  ): Recommendations {
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const agg = resolveAggregation(o);
    const h = resolveHistory('history', history, this.historyItems, agg.strict);
    const weights = historyWeights('options.weights', o.weights, h.length, agg.decay);
    const exclude = o.exclude === undefined ? null : resolveIndexList('options.exclude', o.exclude, this.candidateItems);
    const excludeHistory = this.excludeHistory(o.excludeHistory);
    const cap = Math.min(k, this.candidateItems);
    const indices = new Int32Array(cap);
    const scores = new Float32Array(cap);
    const [n, skipped] = native.knnRecommend({
      graph: this.graph,
      history: h,
      weights,
      exclude,
      k,
      mean: agg.mean,
      shrink: agg.shrink,
      excludeHistory,
      outIndices: indices,
      outScores: scores,
    });
    return n === cap ? { indices, scores, skipped } : { indices: indices.subarray(0, n), scores: scores.subarray(0, n), skipped };
  }

  protected scoresFrom(
    history: unknown,
    options: (AggregationOptions & { out?: Float32Array }) | undefined,
  ): { scores: Float32Array; skipped: number } {
    const o = expectOptions('options', options);
    const agg = resolveAggregation(o);
    const h = resolveHistory('history', history, this.historyItems, agg.strict);
    const weights = historyWeights('options.weights', o.weights, h.length, agg.decay);
    let out: Float32Array;
    if (o.out !== undefined) {
      if (!types.isFloat32Array(o.out) || o.out.length < this.candidateItems)
        throw typeError('options.out', `Float32Array of length at least ${this.candidateItems}`, o.out);
      out = o.out;
    } else out = new Float32Array(this.candidateItems);
    const skipped = native.knnScores({ graph: this.graph, history: h, weights, mean: agg.mean, shrink: agg.shrink, out });
    return { scores: out.length === this.candidateItems ? out : out.subarray(0, this.candidateItems), skipped };
  }

  protected async recommendBatchFrom(
    histories: unknown,
    k: number,
    options: (NeighbourBatchOptions & { excludeHistory?: boolean }) | undefined,
  ): Promise<NeighbourBatchResult> {
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const agg = resolveAggregation(o);
    const h = resolveHistories('histories', histories, this.historyItems, agg);
    const nq = h.offsets.length - 1;
    const exclude = resolveBatchExclusions('options.exclude', o.exclude, nq, this.candidateItems);
    const excludeHistory = this.excludeHistory(o.excludeHistory);
    const threads = resolveThreads('options.threads', o.threads);
    const signal = expectSignal('options.signal', o.signal);
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const kk = Math.min(k, this.candidateItems);
    const token = signal ? native.createCancelToken() : null;
    const onAbort = () => token && native.cancel(token);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await native.knnRecommendBatch({
        graph: this.graph,
        historyOffsets: h.offsets,
        historyIndices: h.indices,
        historyWeights: h.weights,
        excludeOffsets: exclude?.offsets ?? null,
        excludeIndices: exclude?.indices ?? null,
        k: kk,
        mean: agg.mean,
        shrink: agg.shrink,
        excludeHistory,
        threads,
        cancel: token,
      });
      if (!r.completed) throw new AbortError(undefined, { cause: signal?.reason });
      return new NeighbourBatchResult(kk, r.indices, r.scores, r.counts, r.skipped);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private excludeHistory(value: unknown): boolean {
    if (!this.sameCatalogue) {
      if (value !== undefined && value !== false)
        throw typeError('options.excludeHistory', 'false or undefined (history and candidates are different catalogues)', value);
      return false;
    }
    return value === undefined ? true : expectBoolean('options.excludeHistory', value);
  }
}

/**
 * Scoring and exact top-K over an EmbeddingTable: scoreItems, topK (synchronous: a single query takes
 * microseconds and a thread hop would dominate), topKBatch (asynchronous, off the event loop).
 */
import { types } from 'node:util';

import { AbortError } from './errors';
import { resolveThreads } from './config';
import { ItemSet, resolveIndexList, type IndexList } from './item-set';
import { native } from './native';
import { EmbeddingTable } from './table';
import {
  expectFinite,
  expectFloat32Array,
  expectOptions,
  expectPositiveInteger,
  expectSignal,
  lengthError,
  rangeError,
  toFloat32Array,
  typeError,
} from './validate';

export interface ScoreOptions {
  /** Score only these rows (output position j is row items[j]). Default: every row. */
  items?: IndexList;
  /** Write into this array (length ≥ the number of scores) instead of allocating. */
  out?: Float32Array;
  /** Threads for this call (the caller included). Default: configure().threads. Tables under 2^18 multiply-adds stay single-threaded. */
  threads?: number;
}

export interface TopKOptions {
  /** Rows never returned for this query (e.g. items the user has seen). Applied inside the kernel. */
  exclude?: IndexList;
  /** Rows never returned for any query (a global block list). Reuse an ItemSet for large lists. */
  block?: IndexList;
  /** Only these rows are candidates (an allow-list); exclusions still apply within it. */
  allow?: IndexList;
  /**
   * Threads for this call (the caller included). Default: configure().threads. A maximum, not a
   * demand: a table under 2^18 multiply-adds (rows × dim) is scanned on the calling thread alone,
   * since handing half of it to another core costs more than it saves.
   */
  threads?: number;
}

export interface TopKResult {
  /** Row indices, best first; length min(k, eligible rows). */
  indices: Int32Array;
  /** Their scores (dot products), same order. */
  scores: Float32Array;
}

export interface TopKBatchOptions {
  /**
   * Per-query exclusions: an array with one entry per query (an index list, or null/undefined for
   * none), or CSR form `{ offsets, indices }` where query i excludes indices[offsets[i] … offsets[i+1]).
   */
  exclude?: ReadonlyArray<IndexList | null | undefined> | { offsets: Int32Array; indices: Int32Array };
  /** Rows never returned for any query. */
  block?: IndexList;
  /** Only these rows are candidates, for every query. */
  allow?: IndexList;
  /** Threads for this call (the caller's libuv thread included). Default: configure().threads. Work is split by groups of queries (32 per group with AVX-512). */
  threads?: number;
  /** Cancels the call: the promise rejects with an AbortError (code 'ABORT_ERR'). */
  signal?: AbortSignal;
}

/** Results of topKBatch: query q's results are slots [q*k, q*k + counts[q]). */
export class TopKBatchResult {
  constructor(
    /** Row stride: min(k, candidate rows). */
    readonly k: number,
    /** Row indices, nq × k; unused slots (when fewer than k rows are eligible) hold -1. */
    readonly indices: Int32Array,
    /** Scores, nq × k; unused slots hold NaN. */
    readonly scores: Float32Array,
    /** Results per query. */
    readonly counts: Int32Array,
  ) {}

  get queries(): number {
    return this.counts.length;
  }

  /** Query q's results as views (no copy). */
  query(q: number): TopKResult {
    if (!Number.isInteger(q) || q < 0 || q >= this.counts.length) throw rangeError('q', `integer in [0, ${this.counts.length})`, q);
    const start = q * this.k;
    const end = start + this.counts[q];
    return { indices: this.indices.subarray(start, end), scores: this.scores.subarray(start, end) };
  }
}

function expectTable(table: unknown): EmbeddingTable {
  if (!(table instanceof EmbeddingTable)) throw typeError('table', 'EmbeddingTable', table);
  table.checkAttached();
  return table;
}

function optionalList(argument: string, value: unknown, rows: number): Int32Array | null {
  return value === undefined || value === null ? null : resolveIndexList(argument, value, rows);
}

/** Dot products of one query with every row (or with options.items). */
export function scoreItems(table: EmbeddingTable, query: Float32Array | ReadonlyArray<number>, options?: ScoreOptions): Float32Array {
  const t = expectTable(table);
  const q = toFloat32Array('query', privateQuery(query), t.dim, true);
  const o = expectOptions('options', options);
  const items = optionalList('options.items', o.items, t.rows);
  const n = items ? items.length : t.rows;
  const threads = resolveThreads('options.threads', o.threads);
  let out: Float32Array;
  if (o.out !== undefined) {
    out = expectFloat32Array('options.out', o.out);
    if (out.length < n) throw lengthError('options.out', `Float32Array of length at least ${n}`, out);
  } else {
    out = new Float32Array(n);
  }
  native.scoreItems({ table: t.data, dim: t.dim, query: q, items, out, threads });
  return out.length === n ? out : out.subarray(0, n);
}

/**
 * The k best rows for one query by dot product, exact: sorted by score descending, ties broken by
 * the lower row index. Returns min(k, eligible) rows; k larger than the table is fine.
 */
/**
 * A query on shared memory can be written by another thread at any moment, also between the check
 * that it is finite and the scan: the call works on its own copy. (Other queries cannot change
 * during a call, and the copy of a 64-float query costs nanoseconds.)
 */
function privateQuery<T>(query: T): T {
  return types.isFloat32Array(query) && types.isSharedArrayBuffer(query.buffer) ? (query.slice() as T) : query;
}

export function topK(table: EmbeddingTable, query: Float32Array | ReadonlyArray<number>, k: number, options?: TopKOptions): TopKResult {
  const t = expectTable(table);
  const q = toFloat32Array('query', privateQuery(query), t.dim, true);
  expectPositiveInteger('k', k);
  const o = expectOptions('options', options);
  const exclude = optionalList('options.exclude', o.exclude, t.rows);
  const block = optionalList('options.block', o.block, t.rows);
  const allow = optionalList('options.allow', o.allow, t.rows);
  const threads = resolveThreads('options.threads', o.threads);
  const cap = Math.min(k, allow ? allow.length : t.rows);
  const indices = new Int32Array(cap);
  const scores = new Float32Array(cap);
  const n = native.topK({ table: t.data, dim: t.dim, query: q, k, exclude, block, allow, threads, outIndices: indices, outScores: scores });
  return n === cap ? { indices, scores } : { indices: indices.subarray(0, n), scores: scores.subarray(0, n) };
}

function batchExclusions(
  value: TopKBatchOptions['exclude'],
  nq: number,
  rows: number,
): { offsets: Int32Array; indices: Int32Array } | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) {
    if (value.length !== nq) throw lengthError('options.exclude', `an array with one entry per query (${nq})`, value);
    const lists: (Int32Array | null)[] = new Array(nq);
    let total = 0;
    for (let i = 0; i < nq; i++) {
      lists[i] = optionalList(`options.exclude[${i}]`, value[i], rows);
      total += lists[i]?.length ?? 0;
    }
    const offsets = new Int32Array(nq + 1);
    const indices = new Int32Array(total);
    for (let i = 0, at = 0; i < nq; i++) {
      const l = lists[i];
      if (l) {
        indices.set(l, at);
        at += l.length;
      }
      offsets[i + 1] = at;
    }
    return { offsets, indices };
  }
  if (typeof value !== 'object') throw typeError('options.exclude', 'array of index lists or { offsets, indices }', value);
  const { offsets, indices } = value as { offsets: unknown; indices: unknown };
  if (!types.isInt32Array(offsets)) throw typeError('options.exclude.offsets', 'Int32Array', offsets);
  if (offsets.length !== nq + 1) throw lengthError('options.exclude.offsets', `Int32Array of length ${nq + 1} (queries + 1)`, offsets);
  const checked = resolveIndexList('options.exclude.indices', indices, rows);
  if (offsets[0] !== 0 || offsets[nq] !== checked.length) {
    throw rangeError('options.exclude.offsets', `offsets starting at 0 and ending at ${checked.length}`, offsets);
  }
  for (let i = 0; i < nq; i++) {
    if (offsets[i + 1] < offsets[i])
      throw rangeError(`options.exclude.offsets[${i + 1}]`, `a value ≥ offsets[${i}] (${offsets[i]})`, offsets[i + 1]);
  }
  return { offsets, indices: checked };
}

/**
 * topK for many queries at once, off the event loop: blocked for cache reuse (a register-tiled
 * micro-kernel) and spread over the native thread pool. `queries` is row-major nq × dim (a
 * Float32Array, or an array of rows). Results equal topK's up to float rounding of the scores.
 */
export async function topKBatch(
  table: EmbeddingTable,
  queries: Float32Array | ReadonlyArray<ArrayLike<number>>,
  k: number,
  options?: TopKBatchOptions,
): Promise<TopKBatchResult> {
  const t = expectTable(table);
  let q: Float32Array;
  if (Array.isArray(queries)) {
    q = new Float32Array(queries.length * t.dim);
    for (let i = 0; i < queries.length; i++) q.set(toFloat32Array(`queries[${i}]`, Array.from(queries[i] ?? []), t.dim), i * t.dim);
  } else {
    q = toFloat32Array('queries', privateQuery(queries));
    if (q.length % t.dim !== 0) throw lengthError('queries', `a length that is a multiple of dim (${t.dim})`, q);
  }
  expectFinite('queries', q);
  const nq = q.length / t.dim;
  expectPositiveInteger('k', k);
  const o = expectOptions('options', options);
  const signal = expectSignal('options.signal', o.signal);
  const excl = batchExclusions(o.exclude, nq, t.rows);
  const block = optionalList('options.block', o.block, t.rows);
  const allow = optionalList('options.allow', o.allow, t.rows);
  const threads = resolveThreads('options.threads', o.threads);
  // Result rows are min(k, candidates) wide, so a huge k never allocates more than the table holds.
  const candidates = allow ? (o.allow instanceof ItemSet ? allow.length : new Set(allow).size) : t.rows;
  const stride = Math.min(k, candidates);
  const slots = nq * stride;
  if (slots > 2 ** 31 - 1) throw rangeError('k', `at most ${Math.floor((2 ** 31 - 1) / Math.max(nq, 1))} for ${nq} queries`, k);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  if (stride === 0 || nq === 0) return new TopKBatchResult(stride, new Int32Array(0), new Float32Array(0), new Int32Array(nq));

  const token = signal ? native.createCancelToken() : null;
  const onAbort = () => native.cancel(token!);
  signal?.addEventListener('abort', onAbort, { once: true });
  let result: Awaited<ReturnType<typeof native.topKBatch>>;
  try {
    result = await native.topKBatch({
      table: t.data,
      dim: t.dim,
      queries: q,
      k: stride,
      excludeOffsets: excl?.offsets ?? null,
      excludeIndices: excl?.indices ?? null,
      block,
      allow,
      threads,
      cancel: token,
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (!result.completed) throw new AbortError(undefined, { cause: signal?.reason });
  return new TopKBatchResult(stride, result.indices, result.scores, result.counts);
}

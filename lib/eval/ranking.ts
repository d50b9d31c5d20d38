/**
 * Full-ranking evaluation: every candidate item is scored, the user's training items are masked
 * inside the top-K kernel, and metrics are averaged over users with at least one test item (users
 * without one are skipped and counted). Users go through the native top-K kernel in chunks, so a
 * million users run on the thread pool in bounded memory, with progress and cancellation.
 *
 * Ties: the kernel orders equal scores by the lower item index, so a model that scores many items
 * alike gets the same (deterministic) list every run.
 */
import { invoke } from '../core/callback';
import { AbortError, RecbridgeError } from '../core/errors';
import type { EmbeddingTable } from '../core/table';
import { topKBatch } from '../core/scoring';
import { Interactions } from '../data/interactions';
import { expectBoolean, expectInteger, expectOptions, expectSignal, rangeError, toIndexArray, typeError } from '../core/validate';
import { GroupAccumulator, type CutoffMetrics } from './accumulator';
import { rankingAuc } from './auc';
import { resolveCutoffs } from './cutoffs';
import { METRIC_COUNT, USER_METRICS, userMetrics, type UserMetricName } from './user-metrics';

export type { CutoffMetrics } from './accumulator';
export type { UserMetricName } from './user-metrics';

/**
 * What full-ranking evaluation needs from a model: the item table to score and each user's query
 * vector. MatrixFactorization is one; encoded two-tower towers are another (evaluateTwoTower);
 * PopularityModel and RandomModel are baselines.
 */
export interface RankingModel {
  readonly users: number;
  readonly items: number;
  encodeItems(): EmbeddingTable;
  userQuery(u: number): Float32Array;
}

export interface EvaluationProgress {
  /** Users (or test pairs, for evaluateSampled) done so far, and the total. */
  done: number;
  total: number;
}

export interface RankingOptions {
  /** The cut-off of the top-level fields. Default 10, or ks[0] when ks is given. */
  k?: number;
  /** Several cut-offs at once (reported in byK); the kernel runs once at the largest. */
  ks?: number[];
  /** Items to mask per user (their training items; at test time training + validation). Default: none. */
  exclude?: Interactions;
  /**
   * Per-item popularity for arp (item i's training count at index i; missing entries count 0).
   * Default: exclude's item counts; without either, arp is omitted.
   */
  popularity?: ArrayLike<number>;
  /** Also compute AUC (ranks every item for every user: far slower). Default false. */
  auc?: boolean;
  /** Also return each evaluated user's metrics (perUser), for slices and significance tests. Default false. */
  perUser?: boolean;
  /** Evaluate only these user rows. Default: every user of the model. */
  users?: Int32Array | ReadonlyArray<number>;
  /** Users per native top-K call: bounds memory (queries + results per chunk). Default 16384. */
  chunkSize?: number;
  /** Native threads per call. Default: configure().threads. */
  threads?: number;
  /** Cancels the evaluation: the promise rejects with an AbortError (code 'ABORT_ERR'). */
  signal?: AbortSignal;
  /** Called after each chunk. */
  onProgress?: (progress: EvaluationProgress) => unknown;
}

/** Each evaluated user's metrics: position j of every array is user users[j]. */
export interface PerUserMetrics {
  users: Int32Array;
  byK: Record<number, Record<UserMetricName, Float32Array>>;
  auc?: Float32Array;
}

export interface RankingMetrics extends CutoffMetrics {
  /** Users evaluated (with at least one test item). */
  users: number;
  /** Users in scope without a test item (not evaluated). */
  skipped: number;
  /** The cut-off of the top-level metric fields. */
  k: number;
  /** Every cut-off's metrics. */
  byK: Record<number, CutoffMetrics>;
  /** Present when options.auc was set. */
  auc?: number;
  /** Present when options.perUser was set. */
  perUser?: PerUserMetrics;
}

export interface SliceOptions extends RankingOptions {
  /** Named groups of user rows (they may overlap); each gets its own metrics and counts. */
  slices: Record<string, Int32Array | ReadonlyArray<number>>;
}

export interface SliceMetrics {
  /** Every user in scope. */
  all: RankingMetrics;
  /** Per slice: the metrics of its users (users / skipped count only them). */
  slices: Record<string, RankingMetrics>;
}

const DEFAULT_CHUNK = 16_384;
/** Result slots per native call when ranking every item (AUC): 2^22 slots ≈ 32 MB. */
const FULL_RANKING_SLOTS = 2 ** 22;

/** Full-ranking metrics of `model` on `test` at one or several cut-offs. */
export async function evaluateRanking(model: RankingModel, test: Interactions, options?: RankingOptions): Promise<RankingMetrics> {
  return (await run(model, test, options, undefined)).all;
}

/**
 * evaluateRanking per group of users in one pass (each user is ranked once, whichever slices it is
 * in): `all` covers every user in scope, `slices[name]` that slice's users.
 */
export async function evaluateSlices(model: RankingModel, test: Interactions, options: SliceOptions): Promise<SliceMetrics> {
  const o = expectOptions('options', options);
  if (o.slices === null || typeof o.slices !== 'object' || Array.isArray(o.slices))
    throw typeError('options.slices', 'object mapping slice names to user rows', o.slices);
  return run(model, test, options, o.slices);
}

function checkModel(model: RankingModel): void {
  if (
    !model ||
    typeof model !== 'object' ||
    typeof model.encodeItems !== 'function' ||
    typeof model.userQuery !== 'function' ||
    !Number.isInteger(model.users) ||
    !Number.isInteger(model.items)
  ) {
    throw typeError('model', 'RankingModel { users, items, encodeItems(), userQuery(u) }', model);
  }
}

/** Distinct, sorted user rows below `bound`. */
function userRows(argument: string, value: unknown, bound: number): Int32Array {
  const rows = Int32Array.from(toIndexArray(argument, value, bound)).sort();
  let n = 0;
  for (let i = 0; i < rows.length; i++) if (i === 0 || rows[i] !== rows[i - 1]) rows[n++] = rows[i];
  return rows.slice(0, n);
}

async function run(
  model: RankingModel,
  test: Interactions,
  options: RankingOptions | undefined,
  sliceSpec: Record<string, unknown> | undefined,
): Promise<SliceMetrics> {
  checkModel(model);
  if (!(test instanceof Interactions)) throw typeError('test', 'Interactions', test);
  const o = expectOptions('options', options);
  const cut = resolveCutoffs(o.k, o.ks);
  if (test.numItems > model.items || test.numUsers > model.users) {
    throw typeError('test', `interactions within the model (${model.users} users, ${model.items} items)`, test);
  }
  if (o.exclude !== undefined && !(o.exclude instanceof Interactions)) throw typeError('options.exclude', 'Interactions', o.exclude);
  if (o.exclude && (o.exclude.numItems > model.items || o.exclude.numUsers > model.users)) {
    throw rangeError('options.exclude', `interactions within the model (${model.users} users, ${model.items} items)`, o.exclude);
  }
  const withAuc = o.auc === undefined ? false : expectBoolean('options.auc', o.auc);
  const perUser = o.perUser === undefined ? false : expectBoolean('options.perUser', o.perUser);
  const chunkSize = o.chunkSize === undefined ? DEFAULT_CHUNK : expectInteger('options.chunkSize', o.chunkSize, 1, 1 << 20);
  const signal = expectSignal('options.signal', o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'function', o.onProgress);
  const popularity = resolvePopularity(o.popularity, o.exclude);
  const scope = o.users === undefined ? null : userRows('options.users', o.users, model.users);
  const sliceNames = sliceSpec ? Object.keys(sliceSpec) : [];
  const sliceRows = sliceNames.map((name) => userRows(`options.slices[${JSON.stringify(name)}]`, sliceSpec![name], model.users));

  const truth = test.byUser();
  const hasTest = (u: number) => u < test.numUsers && truth.offsets[u + 1] > truth.offsets[u];
  const scopeLength = scope ? scope.length : model.users;
  const evaluated: number[] = [];
  for (let i = 0; i < scopeLength; i++) {
    const u = scope ? scope[i] : i;
    if (hasTest(u)) evaluated.push(u);
  }
  const users = Int32Array.from(evaluated);
  if (users.length === 0) throw new RecbridgeError('ERR_NATIVE', 'No user in scope has a test item: nothing to evaluate');

  // Slice membership, and who is in scope but has nothing to evaluate.
  const inScopeFlag = scope ? new Uint8Array(model.users) : null;
  if (scope && inScopeFlag) for (const u of scope) inScopeFlag[u] = 1;
  const members = sliceRows.map((rows) => {
    const flag = new Uint8Array(model.users);
    for (const u of rows) if (!inScopeFlag || inScopeFlag[u]) flag[u] = 1;
    return flag;
  });
  const sliceSkipped = sliceRows.map((rows, s) => rows.reduce((n, u) => n + (members[s][u] && !hasTest(u) ? 1 : 0), 0));

  const all = new GroupAccumulator(cut.ks, model.items);
  const groups = sliceRows.map(() => new GroupAccumulator(cut.ks, model.items));
  const per = perUser ? perUserArrays(users, cut.ks, withAuc) : null;

  const table = model.encodeItems();
  const dim = table.dim;
  const k = withAuc ? table.rows : cut.max;
  const chunk = withAuc ? Math.max(1, Math.min(chunkSize, Math.floor(FULL_RANKING_SLOTS / Math.max(table.rows, 1)))) : chunkSize;
  const seen = o.exclude?.byUser() ?? null;
  const values = new Float64Array(cut.ks.length * METRIC_COUNT);

  for (let start = 0; start < users.length; start += chunk) {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const part = users.subarray(start, Math.min(start + chunk, users.length));
    const queries = new Float32Array(part.length * dim);
    for (let i = 0; i < part.length; i++) {
      const q = model.userQuery(part[i]);
      if (q.length !== dim) throw rangeError(`model.userQuery(${part[i]})`, `a vector of length ${dim} (the item table's dim)`, q);
      queries.set(q, i * dim);
    }
    const top = await topKBatch(table, queries, k, { exclude: seen ? exclusions(seen, part) : undefined, threads: o.threads, signal });
    for (let i = 0; i < part.length; i++) {
      const u = part[i];
      const relevant = truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]);
      const { indices, scores } = top.query(i);
      const ranked = indices.length > cut.max ? indices.subarray(0, cut.max) : indices;
      userMetrics(ranked, relevant, cut.ks, popularity, values);
      const auc = withAuc ? rankingAuc(indices, scores, relevant) : 0;
      all.add(values, ranked, auc);
      for (let s = 0; s < groups.length; s++) if (members[s][u]) groups[s].add(values, ranked, auc);
      if (per) storeUser(per, start + i, values, cut.ks, auc);
    }
    await invoke(o.onProgress, { done: start + part.length, total: users.length });
  }

  const finish = (acc: GroupAccumulator, skipped: number): RankingMetrics => {
    const { byK, auc } = acc.result(popularity !== null);
    const out: RankingMetrics = { users: acc.users, skipped, k: cut.k, ...byK[cut.k], byK };
    if (withAuc) out.auc = auc;
    return out;
  };
  const result: SliceMetrics = { all: finish(all, scopeLength - users.length), slices: {} };
  if (per) result.all.perUser = per;
  sliceNames.forEach((name, s) => {
    result.slices[name] = finish(groups[s], sliceSkipped[s]);
  });
  return result;
}

function resolvePopularity(value: unknown, exclude: Interactions | undefined): ArrayLike<number> | null {
  if (value === undefined) return exclude ? exclude.itemCounts() : null;
  if (!ArrayBuffer.isView(value) && !Array.isArray(value))
    throw typeError('options.popularity', 'array or typed array of item counts', value);
  const list = value as ArrayLike<unknown>;
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw rangeError(`options.popularity[${i}]`, 'finite number', x);
    out[i] = x;
  }
  return out;
}

/** The masked items of a chunk's users, in the CSR form topKBatch takes. */
function exclusions(seen: { offsets: Int32Array; indices: Int32Array }, part: Int32Array): { offsets: Int32Array; indices: Int32Array } {
  const users = seen.offsets.length - 1;
  const offsets = new Int32Array(part.length + 1);
  for (let i = 0; i < part.length; i++) {
    const u = part[i];
    offsets[i + 1] = offsets[i] + (u < users ? seen.offsets[u + 1] - seen.offsets[u] : 0);
  }
  const indices = new Int32Array(offsets[part.length]);
  for (let i = 0; i < part.length; i++) {
    const u = part[i];
    if (u < users) indices.set(seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1]), offsets[i]);
  }
  return { offsets, indices };
}

/** Empty per-user arrays for `users` (shared with the neighbourhood evaluators). */
export function perUserArrays(users: Int32Array, ks: readonly number[], withAuc: boolean): PerUserMetrics {
  const byK: PerUserMetrics['byK'] = {};
  for (const K of ks) {
    byK[K] = Object.fromEntries(USER_METRICS.map((m) => [m, new Float32Array(users.length)])) as Record<UserMetricName, Float32Array>;
  }
  const out: PerUserMetrics = { users: users.slice(), byK };
  if (withAuc) out.auc = new Float32Array(users.length);
  return out;
}

/** Stores one user's values (userMetrics' layout) at position j. */
export function storeUser(per: PerUserMetrics, j: number, values: Float64Array, ks: readonly number[], auc: number): void {
  ks.forEach((K, c) => {
    const arrays = per.byK[K];
    USER_METRICS.forEach((m, i) => {
      arrays[m][j] = values[c * METRIC_COUNT + i];
    });
  });
  if (per.auc) per.auc[j] = auc;
}

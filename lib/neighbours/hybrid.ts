/**
 * Hybrid recommendations: a neighbourhood model's scores blended with an embedding model's,
 *
 *   score(j) = weight · N(knn scores)(j) + (1 − weight) · N(embedding scores)(j)
 *
 * where N normalises each user's score vector so the two scales are comparable ('minmax': onto
 * [0, 1] over the catalogue; 'max': divided by the largest |score|; 'none'). The weight is chosen on
 * validation users with tuneBlendWeight (a grid search over the metric of your choice), then used
 * as is on test users. Top-K is exact, ties go to the lower item index, and masked items are
 * excluded inside the top-K kernel.
 */
import { types } from 'node:util';

import { RecbridgeError } from '../core/errors';
import { GroupAccumulator, type CutoffMetrics } from '../eval/accumulator';
import { perUserArrays, storeUser, type PerUserMetrics, type RankingModel } from '../eval/ranking';
import { METRIC_COUNT, USER_METRICS, userMetrics } from '../eval/user-metrics';
import { resolveIndexList, type IndexList } from '../core/item-set';
import { scoreItems, topK } from '../core/scoring';
import { EmbeddingTable } from '../core/table';
import { Interactions } from '../data/interactions';
import {
  expectBoolean,
  expectFloat32Array,
  expectInteger,
  expectOptions,
  expectPositiveInteger,
  lengthError,
  rangeError,
  toIndexArray,
  typeError,
} from '../core/validate';
import type { NeighbourList } from './graph';
import { CrossDomainItemKnn, ItemKnn } from './item-knn';
import { finiteNumber, type AggregationOptions } from './options';

export type BlendNormalization = 'minmax' | 'max' | 'none';

export interface BlendOptions {
  /** Default 'minmax'. */
  normalize?: BlendNormalization;
  /** Write here instead of allocating (length ≥ the score vectors'). */
  out?: Float32Array;
}

function resolveNormalization(value: unknown): BlendNormalization {
  if (value === undefined) return 'minmax';
  if (value !== 'minmax' && value !== 'max' && value !== 'none') throw typeError('options.normalize', "'minmax', 'max' or 'none'", value);
  return value;
}

/** Normalises scores in place (see the module note). A constant vector becomes all zeros. */
export function normalizeScores(scores: Float32Array, mode: BlendNormalization = 'minmax'): Float32Array {
  const m = resolveNormalization(mode);
  if (m === 'none' || scores.length === 0) return scores;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (m === 'max') {
    const s = Math.max(Math.abs(lo), Math.abs(hi));
    if (s > 0 && Number.isFinite(s)) for (let i = 0; i < scores.length; i++) scores[i] /= s;
    else scores.fill(0);
  } else {
    const span = hi - lo;
    if (span > 0 && Number.isFinite(span)) for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] - lo) / span;
    else scores.fill(0);
  }
  return scores;
}

/** weight · N(neighbour) + (1 − weight) · N(embedding), element-wise. The inputs are not modified. */
export function blendScores(neighbour: Float32Array, embedding: Float32Array, weight: number, options?: BlendOptions): Float32Array {
  expectFloat32Array('neighbour', neighbour);
  expectFloat32Array('embedding', embedding, neighbour.length);
  finiteNumber('weight', weight, 0, 1);
  const o = expectOptions('options', options);
  const mode = resolveNormalization(o.normalize);
  const n = normalizeScores(Float32Array.from(neighbour), mode);
  const e = normalizeScores(Float32Array.from(embedding), mode);
  let out: Float32Array;
  if (o.out !== undefined) {
    out = expectFloat32Array('options.out', o.out);
    if (out.length < n.length) throw lengthError('options.out', `Float32Array of length at least ${n.length}`, out);
  } else out = new Float32Array(n.length);
  for (let i = 0; i < n.length; i++) out[i] = weight * n[i] + (1 - weight) * e[i];
  return out;
}

export interface HybridInit {
  neighbours: ItemKnn | CrossDomainItemKnn;
  /** Scores items by dot product of userQuery(u) with encodeItems() rows; items must match the neighbour model's candidates. */
  embedding: RankingModel;
  /** Weight of the neighbourhood scores in [0, 1]. Default 0.5 (pick it with tuneBlendWeight). */
  weight?: number;
  normalize?: BlendNormalization;
}

export interface HybridRecommendOptions extends AggregationOptions {
  /** Items never returned. */
  exclude?: IndexList;
  /** ItemKnn only: never return the history's items. Default true. */
  excludeHistory?: boolean;
}

/** A neighbourhood model and an embedding model blended per user (see the module note). */
export class HybridRecommender {
  readonly neighbours: ItemKnn | CrossDomainItemKnn;
  readonly embedding: RankingModel;
  readonly weight: number;
  readonly normalize: BlendNormalization;

  constructor(init: HybridInit) {
    const o = expectOptions('init', init);
    checkPair(o.neighbours, o.embedding);
    this.neighbours = o.neighbours!;
    this.embedding = o.embedding!;
    this.weight = o.weight === undefined ? 0.5 : finiteNumber('init.weight', o.weight, 0, 1);
    this.normalize = resolveNormalization(o.normalize);
  }

  /** Blended scores of every item for embedding user row `user` with neighbourhood history `history`. */
  scores(user: number, history: Int32Array | ReadonlyArray<number>, options?: AggregationOptions): Float32Array {
    const { knn, emb } = componentScores(this.neighbours, this.embedding, user, history, options, this.normalize);
    for (let i = 0; i < knn.length; i++) knn[i] = this.weight * knn[i] + (1 - this.weight) * emb[i];
    return knn;
  }

  /** Top-k items by blended score. */
  recommend(user: number, history: Int32Array | ReadonlyArray<number>, k: number, options?: HybridRecommendOptions): NeighbourList {
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const scores = this.scores(user, history, o);
    return topOf(scores, k, maskFor(this.neighbours, history, o.exclude, o.excludeHistory));
  }
}

export interface TuneBlendOptions extends AggregationOptions {
  neighbours: ItemKnn | CrossDomainItemKnn;
  embedding: RankingModel;
  /** Validation interactions (rows = embedding user rows; items = candidate items). */
  validation: Interactions;
  /** Each user's neighbourhood history (same rows). Default for ItemKnn: exclude. */
  history?: Interactions;
  /** Items to mask per user (training items). */
  exclude?: Interactions;
  /** Users to tune on. Default: every user with a validation item. */
  users?: Int32Array | ReadonlyArray<number>;
  /** Weights to try. Default 0, 0.1, …, 1. */
  grid?: ReadonlyArray<number>;
  k?: number;
  /** Metric to maximise. Default 'ndcg'. */
  metric?: 'recall' | 'precision' | 'ndcg' | 'hit' | 'mrr' | 'map';
  normalize?: BlendNormalization;
  /** Also return each user's metrics at k for every weight (grid[g].perUser). Default false. */
  perUser?: boolean;
}

export interface TuneBlendResult {
  /** The best weight (the lowest one among equals). */
  weight: number;
  /** Its metric value. */
  value: number;
  /** Every weight tried, with its metrics at k. */
  grid: { weight: number; metrics: CutoffMetrics; perUser?: PerUserMetrics }[];
  users: number;
}

/**
 * Picks the blend weight on validation users: each user's two score vectors are computed once,
 * then every weight of the grid is ranked and scored. Also evaluates a fixed weight (grid: [w]).
 */
export async function tuneBlendWeight(options: TuneBlendOptions): Promise<TuneBlendResult> {
  const o = expectOptions('options', options);
  checkPair(o.neighbours, o.embedding);
  const knnModel = o.neighbours!;
  const emb = o.embedding!;
  if (!(o.validation instanceof Interactions)) throw typeError('options.validation', 'Interactions', o.validation);
  if (o.exclude !== undefined && !(o.exclude instanceof Interactions)) throw typeError('options.exclude', 'Interactions', o.exclude);
  if (o.history !== undefined && !(o.history instanceof Interactions)) throw typeError('options.history', 'Interactions', o.history);
  const history = o.history ?? (knnModel instanceof ItemKnn ? o.exclude : undefined);
  if (!history) throw typeError('options.history', 'Interactions (each user’s neighbourhood history)', o.history);
  const grid =
    o.grid === undefined
      ? Array.from({ length: 11 }, (_, i) => i / 10)
      : Array.from(o.grid, (w, i) => finiteNumber(`options.grid[${i}]`, w, 0, 1));
  if (grid.length === 0) throw rangeError('options.grid', 'a non-empty list of weights', o.grid);
  const k = o.k === undefined ? 10 : expectPositiveInteger('options.k', o.k);
  const metric = o.metric ?? 'ndcg';
  const metricIndex = USER_METRICS.indexOf(metric as (typeof USER_METRICS)[number]);
  if (metricIndex < 0 || (metric as string) === 'arp')
    throw typeError('options.metric', "'recall', 'precision', 'ndcg', 'hit', 'mrr' or 'map'", metric);
  const normalize = resolveNormalization(o.normalize);
  const truth = o.validation.byUser();
  const hist = history.byUser();
  const seen = o.exclude?.byUser();
  const scope = o.users === undefined ? null : toIndexArray('options.users', o.users, o.validation.numUsers);
  const users = (scope ? Array.from(new Set(scope)) : Array.from({ length: o.validation.numUsers }, (_, u) => u)).filter(
    (u) => truth.offsets[u + 1] > truth.offsets[u] && u < emb.users,
  );
  if (users.length === 0) throw new RecbridgeError('ERR_NATIVE', 'No validation user has an item: nothing to tune on');
  const items = knnModel.candidateItems;
  const accs = grid.map(() => new GroupAccumulator([k], items));
  const perUser = o.perUser === undefined ? false : expectBoolean('options.perUser', o.perUser);
  const per = perUser ? grid.map(() => perUserArrays(Int32Array.from(users), [k], false)) : null;
  const values = new Float64Array(METRIC_COUNT);
  const blended = new Float32Array(items);
  const seg = (csr: { offsets: Int32Array; indices: Int32Array }, u: number) =>
    u < csr.offsets.length - 1 ? csr.indices.subarray(csr.offsets[u], csr.offsets[u + 1]) : csr.indices.subarray(0, 0);
  for (let n = 0; n < users.length; n++) {
    const u = users[n];
    const h = seg(hist, u);
    const { knn, emb: e } = componentScores(knnModel, emb, u, h, o, normalize);
    const mask = maskFor(knnModel, h, seen ? seg(seen, u) : undefined, undefined);
    const relevant = seg(truth, u);
    grid.forEach((w, g) => {
      for (let i = 0; i < items; i++) blended[i] = w * knn[i] + (1 - w) * e[i];
      const ranked = topOf(blended, k, mask).indices;
      userMetrics(ranked, relevant, [k], null, values);
      accs[g].add(values, ranked, 0);
      if (per) storeUser(per[g], n, values, [k], 0);
    });
    // Yield now and then: tuning many users is long, and this keeps the event loop responsive.
    if (n % 256 === 255) await new Promise((r) => setImmediate(r));
  }
  const results = grid.map((weight, g) => ({ weight, metrics: accs[g].result(false).byK[k], ...(per ? { perUser: per[g] } : {}) }));
  let best = 0;
  results.forEach((r, g) => {
    if (r.metrics[metric as keyof CutoffMetrics]! > results[best].metrics[metric as keyof CutoffMetrics]!) best = g;
  });
  return { weight: results[best].weight, value: results[best].metrics[metric as keyof CutoffMetrics]!, grid: results, users: users.length };
}

function checkPair(neighbours: unknown, embedding: unknown): void {
  if (!(neighbours instanceof ItemKnn) && !(neighbours instanceof CrossDomainItemKnn))
    throw typeError('neighbours', 'ItemKnn or CrossDomainItemKnn', neighbours);
  const e = embedding as RankingModel;
  if (!e || typeof e.encodeItems !== 'function' || typeof e.userQuery !== 'function')
    throw typeError('embedding', 'RankingModel { encodeItems(), userQuery(u) }', embedding);
  if (e.items !== neighbours.candidateItems) {
    throw rangeError('embedding.items', `the neighbour model's candidate items (${neighbours.candidateItems})`, e.items);
  }
}

function componentScores(
  neighbours: ItemKnn | CrossDomainItemKnn,
  embedding: RankingModel,
  user: number,
  history: Int32Array | ReadonlyArray<number>,
  options: AggregationOptions | undefined,
  normalize: BlendNormalization,
): { knn: Float32Array; emb: Float32Array } {
  expectInteger('user', user, 0, embedding.users - 1);
  const agg: AggregationOptions = {
    aggregate: options?.aggregate,
    shrink: options?.shrink,
    weights: options?.weights,
    recencyDecay: options?.recencyDecay,
    unknownItems: options?.unknownItems,
  };
  const knn = normalizeScores(neighbours.scoreItems(history, agg).scores, normalize);
  const emb = normalizeScores(scoreItems(embedding.encodeItems(), embedding.userQuery(user)), normalize);
  return { knn, emb };
}

function maskFor(
  neighbours: ItemKnn | CrossDomainItemKnn,
  history: unknown,
  exclude: IndexList | undefined,
  excludeHistory: unknown,
): Int32Array | null {
  const parts: Int32Array[] = [];
  if (exclude !== undefined) parts.push(resolveIndexList('options.exclude', exclude, neighbours.candidateItems));
  if (neighbours instanceof ItemKnn && excludeHistory !== false) {
    const h = types.isInt32Array(history) ? history : Int32Array.from(history as ArrayLike<number>);
    parts.push(h.filter((i) => i >= 0 && i < neighbours.items));
  }
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  const out = new Int32Array(parts[0].length + parts[1].length);
  out.set(parts[0]);
  out.set(parts[1], parts[0].length);
  return out;
}

// Exact top-k of a dense score vector through the native kernel (a 1-dim table and query [1]), so
// ties and exclusions behave exactly as everywhere else.
function topOf(scores: Float32Array, k: number, exclude: Int32Array | null): NeighbourList {
  const table = new EmbeddingTable(scores, 1);
  return topK(table, ONE, k, { exclude: exclude ?? undefined, threads: 1 });
}

const ONE = new Float32Array([1]);

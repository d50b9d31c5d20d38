/**
 * Item-item neighbourhood models, within one catalogue (ItemKnn) and across two (CrossDomainItemKnn).
 * Training-free: a build is one native pass of sparse co-occurrence counting over user histories.
 */
import { types } from 'node:util';

import { resolveThreads } from '../core/config';
import { ArgumentRangeError } from '../core/errors';
import type { IndexList } from '../core/item-set';
import { native } from '../core/native';
import { Interactions } from '../data/interactions';
import { expectInteger, expectOptions, rangeError, toIndexArray, typeError } from '../core/validate';
import {
  NeighbourModel,
  buildGraph,
  userItemCsr,
  type NeighbourArrays,
  type NeighbourBatchOptions,
  type NeighbourBatchResult,
  type NeighbourList,
  type NeighbourRecommendOptions,
  type Recommendations,
} from './graph';
import { resolveSimilarity, type AggregationOptions, type HistoryInput, type SimilarityName, type SimilarityOptions } from './options';

export interface ItemKnnRecommendOptions extends NeighbourRecommendOptions {
  /** Never return the history's own items (like implicit's filter_already_liked_items). Default true. */
  excludeHistory?: boolean;
}

export interface ItemKnnBatchOptions extends NeighbourBatchOptions {
  /** Never return a query's own history items. Default true. */
  excludeHistory?: boolean;
}

/** What a model was built with (kept for reports and model files). */
export interface NeighbourConfig {
  similarity: SimilarityName;
  neighbours: number;
  shrink: number;
  k1: number;
  b: number;
  useValues: boolean;
}

function configOf(r: ReturnType<typeof resolveSimilarity>): NeighbourConfig {
  return { similarity: r.similarity, neighbours: r.neighbours, shrink: r.shrink, k1: r.k1, b: r.b, useValues: r.useValues };
}

/**
 * "People who liked X also liked Y": the top-N most similar items of every item, and
 * recommendations for a user from their history (scores = Σ over history items of neighbour
 * similarities). Immutable once built; safe to query concurrently.
 */
export class ItemKnn extends NeighbourModel {
  private constructor(
    graph: ReturnType<typeof native.knnFromArrays>,
    /** Catalogue size. */
    readonly items: number,
    readonly config: NeighbourConfig | null,
  ) {
    super(graph, items, items, true);
  }

  /** Builds the model from interactions (users x items). */
  static async fit(interactions: Interactions, options?: SimilarityOptions): Promise<ItemKnn> {
    if (!(interactions instanceof Interactions)) throw typeError('interactions', 'Interactions', interactions);
    const r = resolveSimilarity(expectOptions('options', options));
    const csr = userItemCsr(interactions, r.useValues);
    const graph = await buildGraph(
      {
        users: interactions.numUsers,
        items: interactions.numItems,
        ...csr,
        weighting: r.weighting,
        k1: r.k1,
        b: r.b,
        shrink: r.shrink,
        neighbours: r.neighbours,
        queryBegin: 0,
        queryEnd: interactions.numItems,
        candidateBegin: 0,
        candidateEnd: interactions.numItems,
        threads: r.threads,
      },
      r.signal,
    );
    return new ItemKnn(graph, interactions.numItems, configOf(r));
  }

  /** A model from neighbour lists saved earlier (toArrays) or made elsewhere (rows in any order). */
  static fromArrays(arrays: NeighbourArrays, options?: { config?: NeighbourConfig; threads?: number }): ItemKnn {
    const o = expectOptions('options', options);
    const a = expectArrays(arrays);
    if (a.rows !== a.cols) throw rangeError('arrays.cols', `the number of rows (${a.rows}) for a single-catalogue model`, a.cols);
    const threads = resolveThreads('options.threads', o.threads);
    return new ItemKnn(native.knnFromArrays({ ...a, threads }), a.rows, o.config ?? null);
  }

  /** The k items most similar to item (best first), from its stored neighbours (at most `neighbours`). */
  similarItems(item: number, k: number, options?: { exclude?: IndexList }): NeighbourList {
    return this.neighboursOf('item', item, k, options);
  }

  /**
   * Top-k items for a history (item indices, oldest first when recencyDecay is used). Only items
   * that neighbour some history item are returned, so the result may be shorter than k.
   * Synchronous: about a microsecond per (history item × neighbour).
   */
  recommend(history: Int32Array | ReadonlyArray<number>, k: number, options?: ItemKnnRecommendOptions): Recommendations {
    return this.recommendFrom(history, k, options);
  }

  /** recommend for many histories at once, off the event loop and on the thread pool. */
  recommendBatch(histories: HistoryInput, k: number, options?: ItemKnnBatchOptions): Promise<NeighbourBatchResult> {
    return this.recommendBatchFrom(histories, k, options);
  }

  /**
   * The aggregated score of every item for a history (0 where no history item links to it), e.g.
   * for blending with an embedding model. History items are not masked here.
   */
  scoreItems(
    history: Int32Array | ReadonlyArray<number>,
    options?: AggregationOptions & { out?: Float32Array },
  ): { scores: Float32Array; skipped: number } {
    return this.scoresFrom(history, options);
  }
}

export interface CrossDomainFitOptions extends SimilarityOptions {
  /** Source-domain interactions (its users and items). */
  source: Interactions;
  /** Target-domain interactions. */
  target: Interactions;
  /**
   * The overlapping users: pair p links source user row source[p] to target user row target[p]
   * (shared ids, or a link table). Each row may appear at most once. Only these users' interactions
   * build the neighbours.
   */
  userPairs: { source: Int32Array | ReadonlyArray<number>; target: Int32Array | ReadonlyArray<number> };
}

/**
 * Neighbours of source items among target items, learned from the users who interacted in both
 * domains. A cold target user's recommendations come from their source history alone.
 *
 * The similarity is the chosen measure computed on the joint matrix of the overlapping users over
 * source items then target items, restricted to (source, target) pairs: idf counts a user's items in
 * both domains, BM25 lengths count only overlapping users.
 */
export class CrossDomainItemKnn extends NeighbourModel {
  private constructor(
    graph: ReturnType<typeof native.knnFromArrays>,
    readonly sourceItems: number,
    readonly targetItems: number,
    /** Overlapping users the neighbours were built from. */
    readonly overlap: number,
    readonly config: NeighbourConfig | null,
  ) {
    super(graph, sourceItems, targetItems, false);
  }

  static async fit(options: CrossDomainFitOptions): Promise<CrossDomainItemKnn> {
    const o = expectOptions('options', options);
    if (!(o.source instanceof Interactions)) throw typeError('options.source', 'Interactions', o.source);
    if (!(o.target instanceof Interactions)) throw typeError('options.target', 'Interactions', o.target);
    const pairs = expectOptions('options.userPairs', o.userPairs);
    if (pairs.source === undefined || pairs.target === undefined)
      throw typeError('options.userPairs', '{ source, target } user rows', o.userPairs);
    const src = toIndexArray('options.userPairs.source', pairs.source, o.source.numUsers);
    const tgt = toIndexArray('options.userPairs.target', pairs.target, o.target.numUsers);
    if (src.length !== tgt.length)
      throw rangeError('options.userPairs.target', `the same length as userPairs.source (${src.length})`, pairs.target);
    checkOneToOne('options.userPairs.source', src, o.source.numUsers);
    checkOneToOne('options.userPairs.target', tgt, o.target.numUsers);
    const r = resolveSimilarity(o);
    const ns = o.source.numItems;
    const nt = o.target.numItems;
    if (ns + nt > 2 ** 31 - 1) throw rangeError('options.target', 'source + target items below 2^31', nt);
    const s = userItemCsr(o.source, r.useValues);
    const t = userItemCsr(o.target, r.useValues);
    // Joint rows: pair p's source items, then its target items shifted past the source catalogue.
    const offsets = new Int32Array(src.length + 1);
    for (let p = 0; p < src.length; p++) {
      offsets[p + 1] = offsets[p] + (s.offsets[src[p] + 1] - s.offsets[src[p]]) + (t.offsets[tgt[p] + 1] - t.offsets[tgt[p]]);
    }
    const indices = new Int32Array(offsets[src.length]);
    const values = r.useValues ? new Float32Array(indices.length) : null;
    for (let p = 0; p < src.length; p++) {
      let at = offsets[p];
      for (let e = s.offsets[src[p]]; e < s.offsets[src[p] + 1]; e++, at++) {
        indices[at] = s.indices[e];
        if (values) values[at] = s.values![e];
      }
      for (let e = t.offsets[tgt[p]]; e < t.offsets[tgt[p] + 1]; e++, at++) {
        indices[at] = ns + t.indices[e];
        if (values) values[at] = t.values![e];
      }
    }
    const graph = await buildGraph(
      {
        users: src.length,
        items: ns + nt,
        offsets,
        indices,
        values,
        weighting: r.weighting,
        k1: r.k1,
        b: r.b,
        shrink: r.shrink,
        neighbours: r.neighbours,
        queryBegin: 0,
        queryEnd: ns,
        candidateBegin: ns,
        candidateEnd: ns + nt,
        threads: r.threads,
      },
      r.signal,
    );
    return new CrossDomainItemKnn(graph, ns, nt, src.length, configOf(r));
  }

  /** A model from saved neighbour lists (rows: source items, columns: target items). */
  static fromArrays(
    arrays: NeighbourArrays,
    options?: { config?: NeighbourConfig; overlap?: number; threads?: number },
  ): CrossDomainItemKnn {
    const o = expectOptions('options', options);
    const a = expectArrays(arrays);
    const threads = resolveThreads('options.threads', o.threads);
    const overlap = o.overlap === undefined ? 0 : expectInteger('options.overlap', o.overlap, 0);
    return new CrossDomainItemKnn(native.knnFromArrays({ ...a, threads }), a.rows, a.cols, overlap, o.config ?? null);
  }

  /**
   * Each target user's source history, for recommend/evaluateItemKnn: an Interactions whose row t
   * holds the source items of the source user paired with target user t (empty for unpaired users).
   */
  static sourceHistories(
    source: Interactions,
    userPairs: { source: Int32Array | ReadonlyArray<number>; target: Int32Array | ReadonlyArray<number> },
    targetUsers: number,
  ): Interactions {
    if (!(source instanceof Interactions)) throw typeError('source', 'Interactions', source);
    const pairs = expectOptions('userPairs', userPairs);
    expectInteger('targetUsers', targetUsers, 0, 2 ** 31 - 1);
    const src = toIndexArray('userPairs.source', pairs.source, source.numUsers);
    const tgt = toIndexArray('userPairs.target', pairs.target, targetUsers);
    if (src.length !== tgt.length)
      throw rangeError('userPairs.target', `the same length as userPairs.source (${src.length})`, pairs.target);
    checkOneToOne('userPairs.target', tgt, targetUsers);
    const csr = source.byUser();
    let n = 0;
    for (let p = 0; p < src.length; p++) n += csr.offsets[src[p] + 1] - csr.offsets[src[p]];
    const users = new Int32Array(n);
    const items = new Int32Array(n);
    for (let p = 0, at = 0; p < src.length; p++) {
      for (let e = csr.offsets[src[p]]; e < csr.offsets[src[p] + 1]; e++, at++) {
        users[at] = tgt[p];
        items[at] = csr.indices[e];
      }
    }
    return new Interactions({ users, items, numUsers: targetUsers, numItems: source.numItems });
  }

  /** The k target items most similar to a source item. */
  targetNeighbours(sourceItem: number, k: number, options?: { exclude?: IndexList }): NeighbourList {
    return this.neighboursOf('sourceItem', sourceItem, k, options);
  }

  /**
   * Top-k target items for a user known only by their source history (source item indices, oldest
   * first when recencyDecay is used). `exclude` lists target items.
   */
  recommend(sourceHistory: Int32Array | ReadonlyArray<number>, k: number, options?: NeighbourRecommendOptions): Recommendations {
    return this.recommendFrom(sourceHistory, k, options);
  }

  /** recommend for many cold users at once (source histories; exclusions in target items). */
  recommendBatch(sourceHistories: HistoryInput, k: number, options?: NeighbourBatchOptions): Promise<NeighbourBatchResult> {
    return this.recommendBatchFrom(sourceHistories, k, options);
  }

  /** Every target item's aggregated score for a source history. */
  scoreItems(
    sourceHistory: Int32Array | ReadonlyArray<number>,
    options?: AggregationOptions & { out?: Float32Array },
  ): { scores: Float32Array; skipped: number } {
    return this.scoresFrom(sourceHistory, options);
  }
}

function checkOneToOne(argument: string, rows: Int32Array, bound: number): void {
  const seen = new Uint8Array(bound);
  for (let p = 0; p < rows.length; p++) {
    if (seen[rows[p]]) {
      throw new ArgumentRangeError(
        `Expected each user at most once in ${argument} but ${argument}[${p}] (${rows[p]}) repeats an earlier entry`,
        `${argument}[${p}]`,
        'ERR_INVALID_ARG_VALUE',
      );
    }
    seen[rows[p]] = 1;
  }
}

function expectArrays(value: unknown): NeighbourArrays {
  const a = expectOptions('arrays', value as NeighbourArrays);
  const rows = expectInteger('arrays.rows', a.rows, 0, 2 ** 31 - 1);
  const cols = expectInteger('arrays.cols', a.cols, 0, 2 ** 31 - 1);
  if (!types.isInt32Array(a.offsets)) throw typeError('arrays.offsets', 'Int32Array', a.offsets);
  if (!types.isInt32Array(a.indices)) throw typeError('arrays.indices', 'Int32Array', a.indices);
  if (!types.isFloat32Array(a.scores)) throw typeError('arrays.scores', 'Float32Array', a.scores);
  return { rows, cols, offsets: a.offsets, indices: a.indices, scores: a.scores };
}

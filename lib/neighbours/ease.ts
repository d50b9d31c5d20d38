/**
 * EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): an item-item
 * weight matrix in closed form. With G = XᵀX over binary user rows and P = (G + λI)⁻¹,
 * B = I − P·diag(1/diag(P)), i.e. B[i][j] = −P[i][j] / P[j][j] and B[j][j] = 0; a user's score for
 * item j is Σ over their items i of B[i][j]. One SPD inverse of the vocabulary size (native,
 * blocked Cholesky), no training loop, no hyper-parameter besides λ.
 */
import { resolveThreads } from '../core/config';
import type { Csr } from '../core/csr';
import { RecbridgeError } from '../core/errors';
import { crossProduct, spdInverse } from '../core/spd';
import { EmbeddingTable } from '../core/table';
import { expectInteger, expectOptions, rangeError, toIndexArray, typeError } from '../core/validate';
import { Interactions } from '../data/interactions';
import type { RankingModel } from '../eval/ranking';

export interface EaseOptions {
  /** Ridge λ added to the Gram diagonal (units: interactions, as the Gram counts co-occurrences). Default 500. */
  lambda?: number;
  /**
   * Largest vocabulary: only the `maxItems` most popular items (ties: lower index) get weights;
   * the rest are never recommended by the weights (they score 0) and are ignored in histories.
   * Memory and time grow as maxItems² and maxItems³ (10,000 items: 400 MB, seconds to a minute).
   * Default 10000.
   */
  maxItems?: number;
  /** Native threads. Default: configure().threads. */
  threads?: number;
}

export const EASE_DEFAULTS = { lambda: 500, maxItems: 10_000 } as const;

/** Each row's distinct entries mapped through `position` (−1: dropped), sorted. */
export function mappedRows(csr: Csr, rows: ArrayLike<number> | null, position: Int32Array): Csr {
  const n = rows ? rows.length : csr.offsets.length - 1;
  const offsets = new Int32Array(n + 1);
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    const row = rows ? rows[r] : r;
    const set = new Set<number>();
    for (let p = csr.offsets[row]; p < csr.offsets[row + 1]; p++) {
      const q = position[csr.indices[p]];
      if (q >= 0) set.add(q);
    }
    for (const q of Array.from(set).sort((a, b) => a - b)) out.push(q);
    offsets[r + 1] = out.length;
  }
  return { offsets, indices: Int32Array.from(out) };
}

/** The `limit` most frequent items (ties: lower index) in index order, and item → position (−1: not kept). */
export function popularVocabulary(counts: ArrayLike<number>, limit: number): { items: Int32Array; position: Int32Array } {
  const n = counts.length;
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => counts[i] > 0);
  if (order.length > limit) {
    order.sort((a, b) => counts[b] - counts[a] || a - b);
    order.length = limit;
    order.sort((a, b) => a - b);
  }
  const position = new Int32Array(n).fill(-1);
  order.forEach((item, p) => {
    position[item] = p;
  });
  return { items: Int32Array.from(order), position };
}

/**
 * An EASE model over one catalogue. A RankingModel (evaluateRanking, toMatrixFactorization): the
 * item table is the weight matrix's columns (items × vocabulary floats, built on first use) and a
 * user's query is their training history as a 0/1 vector over the vocabulary.
 */
export class Ease implements RankingModel {
  private table: EmbeddingTable | null = null;

  private constructor(
    /** Users of the training interactions. */
    readonly users: number,
    /** Catalogue size. */
    readonly items: number,
    /** The vocabulary: catalogue indices of the items with weights, ascending. */
    readonly vocabulary: Int32Array,
    /** Catalogue index → vocabulary position (−1 outside it). */
    private readonly position: Int32Array,
    /** B, vocabulary × vocabulary, row-major: weights[p * v + q] links history item p to candidate q. */
    readonly weights: Float32Array,
    private readonly histories: Csr,
    readonly lambda: number,
  ) {}

  /** Fits EASE on interactions (users × items, every row a positive; repeats count once). */
  static async fit(interactions: Interactions, options?: EaseOptions): Promise<Ease> {
    if (!(interactions instanceof Interactions)) throw typeError('interactions', 'Interactions', interactions);
    const o = expectOptions('options', options);
    const lambda = o.lambda === undefined ? EASE_DEFAULTS.lambda : o.lambda;
    if (typeof lambda !== 'number' || !(lambda > 0) || !Number.isFinite(lambda))
      throw rangeError('options.lambda', 'finite number > 0', lambda);
    const maxItems = o.maxItems === undefined ? EASE_DEFAULTS.maxItems : expectInteger('options.maxItems', o.maxItems, 1, 46_340);
    const threads = resolveThreads('options.threads', o.threads);
    const { items: vocabulary, position } = popularVocabulary(interactions.itemCounts(), maxItems);
    const v = vocabulary.length;
    if (v === 0) throw new RecbridgeError('ERR_INVALID_ARG_VALUE', 'interactions holds no item: EASE has nothing to learn');
    const histories = mappedRows(interactions.byUser(), null, position);
    const gram = await crossProduct({ csr: histories, cols: v }, undefined, { threads });
    for (let i = 0; i < v; i++) gram[i * v + i] += lambda;
    const p = await spdInverse(gram, v, { threads });
    const diag = new Float64Array(v);
    for (let j = 0; j < v; j++) diag[j] = p[j * v + j];
    for (let i = 0; i < v; i++) {
      const row = i * v;
      for (let j = 0; j < v; j++) p[row + j] = i === j ? 0 : -p[row + j] / diag[j];
    }
    return new Ease(interactions.numUsers, interactions.numItems, vocabulary, position, p, histories, lambda);
  }

  /**
   * Scores of every catalogue item for a history (catalogue indices in [0, items); entries outside
   * the vocabulary are ignored, repeats count once). Items outside the vocabulary score 0.
   */
  scoreHistory(history: Int32Array | ReadonlyArray<number>, out?: Float32Array): Float32Array {
    const h = toIndexArray('history', history, this.items);
    const result = out ?? new Float32Array(this.items);
    if (result.length !== this.items) throw rangeError('out', `a Float32Array of ${this.items} scores`, result);
    result.fill(0);
    const v = this.vocabulary.length;
    const acc = new Float32Array(v);
    const used = new Set<number>();
    for (const item of h) {
      const p = this.position[item];
      if (p < 0 || used.has(p)) continue;
      used.add(p);
      const row = this.weights.subarray(p * v, (p + 1) * v);
      for (let q = 0; q < v; q++) acc[q] += row[q];
    }
    for (let q = 0; q < v; q++) result[this.vocabulary[q]] = acc[q];
    return result;
  }

  /** Scores of every item for training user u (their fitted history). */
  scoreUser(u: number, out?: Float32Array): Float32Array {
    expectInteger('u', u, 0, this.users - 1);
    const h = this.histories;
    const v = this.vocabulary.length;
    const result = out ?? new Float32Array(this.items);
    result.fill(0);
    const acc = new Float32Array(v);
    for (let k = h.offsets[u]; k < h.offsets[u + 1]; k++) {
      const p = h.indices[k];
      for (let q = 0; q < v; q++) acc[q] += this.weights[p * v + q];
    }
    for (let q = 0; q < v; q++) result[this.vocabulary[q]] = acc[q];
    return result;
  }

  encodeItems(): EmbeddingTable {
    if (!this.table) {
      const v = this.vocabulary.length;
      const table = EmbeddingTable.create(this.items, v);
      for (let q = 0; q < v; q++) {
        const row = this.vocabulary[q] * v;
        for (let p = 0; p < v; p++) table.data[row + p] = this.weights[p * v + q];
      }
      this.table = table;
    }
    return this.table;
  }

  userQuery(u: number): Float32Array {
    const q = new Float32Array(this.vocabulary.length);
    if (u < 0 || u >= this.users) return q;
    for (let k = this.histories.offsets[u]; k < this.histories.offsets[u + 1]; k++) q[this.histories.indices[k]] = 1;
    return q;
  }
}

/**
 * Fold-in: vectors for users (or items) the model never trained on, from a handful of interactions,
 * against the frozen vectors of the other side. Two ways:
 * - 'least-squares' (default): the closed-form solve of implicit ALS for one row — observed items
 *   weigh 1 + confidence with target 1, every item weighs `unobservedWeight` with target 0, plus
 *   ridge λ — or, with explicit values, plain ridge on the observed items (which recovers a user
 *   built from a known vector exactly when λ → 0);
 * - 'sgd': a few BPR steps of the new row against uniformly sampled negatives.
 * Works for any dot-product model: pass the table the new rows will be scored against.
 */
import type { Csr } from '../core/csr';
import { EmbeddingTable } from '../core/table';
import { uniformGenerator } from '../core/random';
import { MatrixFactorization } from '../models/matrix-factorization';
import { expectInteger, expectOptions, rangeError, typeError } from '../core/validate';
import { addGram, cholesky, choleskySolve } from './linalg';

export interface FoldInOptions {
  method?: 'least-squares' | 'sgd';
  /** Ridge penalty λ on the new vector. Default 0.1. */
  regularization?: number;
  /** least-squares, implicit: extra weight of observed items (iALS's α). Default 10. */
  confidence?: number;
  /** least-squares, implicit: weight of every item as a zero (iALS's w₀). Default 0.1. */
  unobservedWeight?: number;
  /** Explicit targets per history entry (same layout as the histories): ridge on them instead. */
  values?: Float32Array;
  /** sgd: passes over the history (default 30), learning rate (default 0.05), seed (default 0). */
  steps?: number;
  lr?: number;
  seed?: number;
}

/** Vectors (rows × against.dim) for new rows with the given histories, scored against `against`. */
export function foldIn(against: EmbeddingTable, histories: Csr, options?: FoldInOptions): Float32Array {
  if (!(against instanceof EmbeddingTable)) throw typeError('against', 'EmbeddingTable', against);
  const h = checkHistories(histories, against.rows);
  const o = expectOptions('options', options);
  const method = o.method ?? 'least-squares';
  if (method !== 'least-squares' && method !== 'sgd') throw rangeError('options.method', '"least-squares" or "sgd"', method);
  const lambda = nonNegative('options.regularization', o.regularization, 0.1);
  const d = against.dim;
  const n = h.offsets.length - 1;
  const out = new Float32Array(n * d);
  const v = against.data;
  if (o.values !== undefined && (!(o.values instanceof Float32Array) || o.values.length !== h.indices.length)) {
    throw rangeError('options.values', `a Float32Array with one value per history entry (${h.indices.length})`, o.values);
  }
  if (method === 'sgd') {
    if (o.values !== undefined)
      throw rangeError('options.values', 'explicit values only with method "least-squares"', 'values with method "sgd"');
    const steps = o.steps === undefined ? 30 : expectInteger('options.steps', o.steps, 1, 100_000);
    const lr = nonNegative('options.lr', o.lr, 0.05);
    const rand = uniformGenerator(o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1));
    for (let r = 0; r < n; r++) {
      const items = h.indices.subarray(h.offsets[r], h.offsets[r + 1]);
      if (items.length === 0) continue;
      const seen = new Set(items);
      const x = out.subarray(r * d, (r + 1) * d);
      for (let s = 0; s < steps; s++) {
        for (const i of items) {
          let j = Math.floor(rand() * against.rows);
          for (let t = 0; t < 20 && seen.has(j); t++) j = Math.floor(rand() * against.rows);
          if (seen.has(j)) continue;
          let diff = 0;
          for (let c = 0; c < d; c++) diff += x[c] * (v[i * d + c] - v[j * d + c]);
          const g = 1 / (1 + Math.exp(diff)); // σ(−x·(vᵢ − vⱼ))
          for (let c = 0; c < d; c++) x[c] += lr * (g * (v[i * d + c] - v[j * d + c]) - lambda * x[c]);
        }
      }
    }
    return out;
  }
  const explicit = o.values !== undefined;
  const alpha = nonNegative('options.confidence', o.confidence, 10);
  const w0 = nonNegative('options.unobservedWeight', o.unobservedWeight, 0.1);
  // The w₀·VᵀV term is the same for every row: computed once.
  const base = new Float64Array(d * d);
  if (!explicit && w0 > 0) addGram(base, v, d, null, against.rows, w0);
  for (let r = 0; r < n; r++) {
    const begin = h.offsets[r];
    const items = h.indices.subarray(begin, h.offsets[r + 1]);
    if (items.length === 0) continue;
    const a = Float64Array.from(base);
    const b = new Float64Array(d);
    // Observed items: weight c = 1 + α (implicit, of which w₀ is already in the base) or 1 (explicit).
    const extra = explicit ? 1 : 1 + alpha - w0;
    addGram(a, v, d, items, items.length, extra);
    items.forEach((i, k) => {
      const target = explicit ? o.values![begin + k] : 1 + alpha;
      for (let c = 0; c < d; c++) b[c] += target * v[i * d + c];
    });
    for (let c = 0; c < d; c++) a[c * d + c] += lambda > 0 ? lambda : 1e-9;
    choleskySolve(cholesky(a, d), d, b, 1);
    for (let c = 0; c < d; c++) out[r * d + c] = b[c];
  }
  return out;
}

/**
 * Adds users to a matrix-factorization model from their first interactions (item rows), without
 * retraining: the user table grows in place (optimizer state kept) and the new rows hold the folded-in
 * vectors. Returns the first new user row.
 */
export function foldInUsers(model: MatrixFactorization, histories: Csr, options?: FoldInOptions): number {
  checkModel(model);
  const vectors = foldInAgainst(model, histories, options);
  const first = model.growUsers(histories.offsets.length - 1);
  model.userEmbedding.table.data.set(vectors, first * model.dim);
  return first;
}

/** Adds items from the users who interacted with them (user rows); returns the first new item row. */
export function foldInItems(model: MatrixFactorization, histories: Csr, options?: FoldInOptions): number {
  checkModel(model);
  const vectors = foldIn(model.userEmbedding.table, histories, options);
  const first = model.growItems(histories.offsets.length - 1);
  model.itemEmbedding.table.data.set(vectors, first * model.dim);
  return first;
}

// With item biases the score is x·v + b: fold in against the plain item vectors, moving the bias
// into explicit targets is not possible for implicit data, so biases are ignored for the solve.
function foldInAgainst(model: MatrixFactorization, histories: Csr, options?: FoldInOptions): Float32Array {
  return foldIn(model.itemEmbedding.table, histories, options);
}

/** Histories from a list of item-row arrays. */
export function historiesFrom(lists: ReadonlyArray<ArrayLike<number>>): Csr {
  if (!Array.isArray(lists)) throw typeError('lists', 'array of index arrays', lists);
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, r) => (offsets[r + 1] = offsets[r] + l.length));
  const indices = new Int32Array(offsets[lists.length]);
  lists.forEach((l, r) => indices.set(Array.from(l), offsets[r]));
  return { offsets, indices };
}

function checkModel(model: unknown): void {
  if (!(model instanceof MatrixFactorization))
    throw typeError('model', 'MatrixFactorization (for other models, foldIn against model.encodeItems())', model);
}

function checkHistories(h: Csr, rows: number): Csr {
  const o = expectOptions('histories', h);
  if (!(o.offsets instanceof Int32Array) || o.offsets.length < 1 || o.offsets[0] !== 0)
    throw typeError('histories.offsets', 'Int32Array starting at 0', o.offsets);
  if (!(o.indices instanceof Int32Array)) throw typeError('histories.indices', 'Int32Array', o.indices);
  for (let r = 0; r + 1 < o.offsets.length; r++) {
    if (o.offsets[r + 1] < o.offsets[r] || o.offsets[r + 1] > o.indices.length)
      throw rangeError(`histories.offsets[${r + 1}]`, 'non-decreasing offsets within indices', o.offsets[r + 1]);
  }
  if (o.offsets[o.offsets.length - 1] !== o.indices.length)
    throw rangeError('histories.offsets', `a last offset equal to indices.length (${o.indices.length})`, o.offsets[o.offsets.length - 1]);
  for (let k = 0; k < o.indices.length; k++) {
    const i = o.indices[k];
    if (i < 0 || i >= rows) throw rangeError(`histories.indices[${k}]`, `a row in [0, ${rows})`, i);
  }
  return o as Csr;
}

function nonNegative(argument: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw rangeError(argument, 'finite number ≥ 0', value);
  return value;
}

/**
 * Embedding lookups: gather rows by index, and pooled gather (sum / mean / weighted sum over bags of
 * rows), the building block of feature towers (an item = the pooled embeddings of its features).
 */
import { types } from 'node:util';

import { native } from './native';
import { PoolMode as NativePoolMode } from './native-constants';
import { EmbeddingTable } from './table';
import { expectFloat32Array, expectOptions, lengthError, rangeError, toFloat32Array, toIndexArray, typeError } from './validate';

export type PoolMode = 'sum' | 'mean' | 'weighted-sum';

/** Bags in CSR form: bag b is indices[offsets[b] … offsets[b+1]), with optional per-index weights. */
export interface CsrBags {
  offsets: Int32Array | ReadonlyArray<number>;
  indices: Int32Array | ReadonlyArray<number>;
  weights?: Float32Array | ReadonlyArray<number>;
}

/** Bags of row indices: an array of index lists, or CSR form. */
export type Bags = ReadonlyArray<ArrayLike<number>> | CsrBags;

export interface PoolOptions {
  /** 'sum' (default), 'mean' (an empty bag gives zeros) or 'weighted-sum' (needs weights). */
  mode?: PoolMode;
  /** Per-index weights for 'weighted-sum' when bags is an array (CSR bags carry their own). */
  weights?: ReadonlyArray<ArrayLike<number>>;
  /** Write into this array (length ≥ bags × dim) instead of allocating. */
  out?: Float32Array;
}

function expectTable(table: unknown): EmbeddingTable {
  if (!(table instanceof EmbeddingTable)) throw typeError('table', 'EmbeddingTable', table);
  table.checkAttached();
  return table;
}

function outArray(value: unknown, length: number): Float32Array {
  if (value === undefined) return new Float32Array(length);
  const out = expectFloat32Array('options.out', value);
  if (out.length < length) throw lengthError('options.out', `Float32Array of length at least ${length}`, out);
  return out;
}

/** Copies rows indices[0..m) into an m × dim array. */
export function gather(table: EmbeddingTable, indices: Int32Array | ReadonlyArray<number>, options?: { out?: Float32Array }): Float32Array {
  const t = expectTable(table);
  const idx = toIndexArray('indices', indices, t.rows);
  const out = outArray(expectOptions('options', options).out, idx.length * t.dim);
  native.gather({ table: t.data, dim: t.dim, indices: idx, out });
  return out;
}

/** Pools each bag of rows into one vector; returns a bags × dim array. */
export function pool(table: EmbeddingTable, bags: Bags, options?: PoolOptions): Float32Array {
  const t = expectTable(table);
  const o = expectOptions('options', options);
  const mode = o.mode ?? 'sum';
  if (typeof mode !== 'string' || !Object.hasOwn(NativePoolMode, mode))
    throw rangeError('options.mode', '"sum", "mean" or "weighted-sum"', mode);
  let offsets: Int32Array;
  let indices: Int32Array;
  let weights: Float32Array | null = null;
  if (Array.isArray(bags)) {
    offsets = new Int32Array(bags.length + 1);
    let total = 0;
    const lists = bags.map((b, i) => {
      const l = toIndexArray(`bags[${i}]`, b, t.rows);
      total += l.length;
      offsets[i + 1] = total;
      return l;
    });
    indices = new Int32Array(total);
    lists.forEach((l, i) => indices.set(l, offsets[i]));
    if (mode === 'weighted-sum') {
      if (!Array.isArray(o.weights) || o.weights.length !== bags.length) {
        throw typeError('options.weights', `an array of ${bags.length} weight lists (mode is "weighted-sum")`, o.weights);
      }
      weights = new Float32Array(total);
      o.weights.forEach((w, i) =>
        weights!.set(
          toFloat32Array(`options.weights[${i}]`, types.isFloat32Array(w) ? w : Array.from(w), lists[i].length, true),
          offsets[i],
        ),
      );
    }
  } else if (bags !== null && typeof bags === 'object') {
    const csr = bags as CsrBags;
    indices = toIndexArray('bags.indices', csr.indices, t.rows);
    offsets = types.isInt32Array(csr.offsets) ? csr.offsets : toIndexArray('bags.offsets', csr.offsets, 2 ** 31 - 1);
    const nb = offsets.length - 1;
    if (nb < 0 || offsets[0] !== 0 || offsets[nb] !== indices.length) {
      throw rangeError('bags.offsets', `offsets starting at 0 and ending at indices.length (${indices.length})`, csr.offsets);
    }
    for (let b = 0; b < nb; b++) {
      if (offsets[b + 1] < offsets[b])
        throw rangeError(`bags.offsets[${b + 1}]`, `a value ≥ bags.offsets[${b}] (${offsets[b]})`, offsets[b + 1]);
    }
    if (mode === 'weighted-sum') {
      if (csr.weights === undefined) throw typeError('bags.weights', 'Float32Array (mode is "weighted-sum")', undefined);
      weights = toFloat32Array(
        'bags.weights',
        types.isFloat32Array(csr.weights) ? csr.weights : Array.from(csr.weights),
        indices.length,
        true,
      );
    }
  } else {
    throw typeError('bags', 'array of index lists or { offsets, indices, weights? }', bags);
  }
  const nbags = offsets.length - 1;
  const out = outArray(o.out, nbags * t.dim);
  native.pool({ table: t.data, dim: t.dim, offsets, indices, weights, mode: NativePoolMode[mode], out });
  return out;
}

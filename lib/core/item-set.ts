/**
 * A validated, sorted, duplicate-free set of row indices, for exclusion, block and allow lists that
 * are reused across many calls (a global block list, a catalogue subset): the per-call cost is then
 * O(1) in TS and one linear pass in the addon, instead of a validation and a sort every time.
 */
import { types } from 'node:util';

import { rangeError, toIndexArray, typeError } from './validate';

export class ItemSet {
  /** Sorted ascending, unique. Do not modify: the set relies on its order. */
  readonly indices: Int32Array;
  /** Largest index + 1 (0 when empty): the set fits any table with at least this many rows. */
  readonly bound: number;

  /**
   * @param indices row indices (any order, duplicates allowed), each an integer ≥ 0
   */
  constructor(indices: ArrayLike<number>) {
    const checked = toIndexArray('indices', indices, 2 ** 31 - 1);
    const sorted = Int32Array.from(checked).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
    this.indices = sorted.slice(0, n);
    this.bound = n ? this.indices[n - 1] + 1 : 0;
    Object.freeze(this);
  }

  get size(): number {
    return this.indices.length;
  }

  has(index: number): boolean {
    let lo = 0;
    let hi = this.indices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indices[mid] < index) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.indices.length && this.indices[lo] === index;
  }
}

/** The index lists the scoring calls accept: an ItemSet, an Int32Array or an array of integers. */
export type IndexList = ItemSet | Int32Array | ReadonlyArray<number>;

/** Validates an index list against a table of `rows` rows; returns what the addon reads. */
export function resolveIndexList(argument: string, value: unknown, rows: number): Int32Array {
  if (value instanceof ItemSet) {
    if (value.bound > rows) throw rangeError(argument, `indices in [0, ${rows})`, `an ItemSet containing ${value.bound - 1}`);
    return value.indices;
  }
  if (!types.isInt32Array(value) && !Array.isArray(value) && !types.isUint32Array(value)) {
    throw typeError(argument, 'ItemSet, Int32Array or array of integers', value);
  }
  return toIndexArray(argument, value, rows);
}

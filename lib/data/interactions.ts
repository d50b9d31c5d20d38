/**
 * Implicit-feedback interactions as dense row indices: interaction i is (users[i], items[i]).
 * Validated once here, so training and evaluation can trust the indices (the addon still checks
 * each index before use).
 */
import { types } from 'node:util';

import {
  expectInteger,
  expectNotDetached,
  expectOptions,
  lengthError,
  rangeError,
  toFloat32Array,
  toIndexArray,
  typeError,
} from '../core/validate';
import type { Csr } from '../core/csr';
import { sharedCopy, sharedInt32 } from '../core/shared-memory';

export interface InteractionsInit {
  /** User row index of each interaction. */
  users: Int32Array | ReadonlyArray<number>;
  /** Item row index of each interaction. */
  items: Int32Array | ReadonlyArray<number>;
  /** A value per interaction (explicit ratings, for the mse loss). Must be finite. */
  values?: Float32Array | ReadonlyArray<number>;
  /**
   * When each interaction happened (any finite unit, e.g. Unix seconds), for leave-one-out by time
   * and temporal splits. Training ignores it.
   */
  timestamps?: Float64Array | ReadonlyArray<number>;
  /** Number of users (default: largest user index + 1). */
  numUsers?: number;
  /** Number of items (default: largest item index + 1). */
  numItems?: number;
}

export class Interactions {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** Per-interaction values (ratings), or null for implicit feedback. */
  readonly values: Float32Array | null;
  /** Per-interaction times, or null when none were given. Treat as read-only. */
  readonly timestamps: Float64Array | null;
  readonly numUsers: number;
  readonly numItems: number;
  private csr: Csr | null = null;
  private grouped: Csr | null = null;

  constructor(init: InteractionsInit) {
    const o = expectOptions('data', init);
    if (o.users === undefined || o.items === undefined) throw typeError('data', '{ users, items }', init);
    const maxIndex = 2 ** 31 - 1;
    const numUsers = o.numUsers === undefined ? undefined : expectInteger('data.numUsers', o.numUsers, 0, maxIndex);
    const numItems = o.numItems === undefined ? undefined : expectInteger('data.numItems', o.numItems, 0, maxIndex);
    const users = toIndexArray('data.users', o.users, numUsers ?? maxIndex);
    const items = toIndexArray('data.items', o.items, numItems ?? maxIndex);
    if (users.length !== items.length) throw rangeError('data.items', `the same length as data.users (${users.length})`, items);
    // Own copies on shared memory: training reads these in place from native threads, so callers
    // must neither change nor detach them (see shared-memory.ts).
    this.users = sharedCopy(users);
    this.items = sharedCopy(items);
    if (o.values !== undefined) {
      const v = toFloat32Array('data.values', types.isFloat32Array(o.values) ? o.values : Array.from(o.values), users.length, true);
      this.values = sharedCopy(v);
    } else {
      this.values = null;
    }
    this.timestamps = o.timestamps === undefined ? null : toTimestamps(o.timestamps, users.length);
    this.numUsers = numUsers ?? maxPlusOne(this.users);
    this.numItems = numItems ?? maxPlusOne(this.items);
  }

  /** From [user, item] pairs. */
  static fromPairs(pairs: ReadonlyArray<readonly [number, number]>, sizes?: { numUsers?: number; numItems?: number }): Interactions {
    if (!Array.isArray(pairs)) throw typeError('pairs', 'array of [user, item] pairs', pairs);
    return new Interactions({ users: pairs.map((p) => p[0]), items: pairs.map((p) => p[1]), ...sizes });
  }

  /** The interactions at the given positions (same user and item spaces). */
  subset(positions: Int32Array): Interactions {
    const users = new Int32Array(positions.length);
    const items = new Int32Array(positions.length);
    const values = this.values ? new Float32Array(positions.length) : null;
    const timestamps = this.timestamps ? new Float64Array(positions.length) : null;
    positions.forEach((p, k) => {
      users[k] = this.users[p];
      items[k] = this.items[p];
      if (values) values[k] = this.values![p];
      if (timestamps) timestamps[k] = this.timestamps![p];
    });
    return new Interactions({
      users,
      items,
      values: values ?? undefined,
      timestamps: timestamps ?? undefined,
      numUsers: this.numUsers,
      numItems: this.numItems,
    });
  }

  /** All interactions of several sets over the same users and items (e.g. train + validation to mask at test). */
  static concat(parts: readonly Interactions[]): Interactions {
    if (!Array.isArray(parts) || parts.length === 0 || parts.some((p) => !(p instanceof Interactions)))
      throw typeError('parts', 'a non-empty array of Interactions', parts);
    const size = parts.reduce((s, p) => s + p.size, 0);
    const users = new Int32Array(size);
    const items = new Int32Array(size);
    const withValues = parts.every((p) => p.values);
    const values = withValues ? new Float32Array(size) : null;
    // Times survive only when every part has them: a partial column would be meaningless.
    const timestamps = parts.every((p) => p.timestamps) ? new Float64Array(size) : null;
    let at = 0;
    for (const p of parts) {
      users.set(p.users, at);
      items.set(p.items, at);
      if (values) values.set(p.values!, at);
      if (timestamps) timestamps.set(p.timestamps!, at);
      at += p.size;
    }
    return new Interactions({
      users,
      items,
      values: values ?? undefined,
      timestamps: timestamps ?? undefined,
      numUsers: Math.max(...parts.map((p) => p.numUsers)),
      numItems: Math.max(...parts.map((p) => p.numItems)),
    });
  }

  get size(): number {
    return this.users.length;
  }

  /** How often each item occurs (for popularity samplers and logQ corrections). */
  itemCounts(): Int32Array {
    const counts = new Int32Array(this.numItems);
    for (const i of this.items) counts[i]++;
    return counts;
  }

  /** Each user's distinct items, sorted: user u's are indices[offsets[u] … offsets[u+1]). */
  byUser(): Csr {
    if (this.csr) return this.csr;
    const grouped = this.groupedByUser();
    const offsets = new Int32Array(this.numUsers + 1);
    const indices = new Int32Array(this.size);
    let at = 0;
    for (let u = 0; u < this.numUsers; u++) {
      for (let k = grouped.offsets[u]; k < grouped.offsets[u + 1]; k++)
        if (k === grouped.offsets[u] || grouped.indices[k] !== grouped.indices[k - 1]) indices[at++] = grouped.indices[k];
      offsets[u + 1] = at;
    }
    this.csr = { offsets: sharedCopy(offsets), indices: sharedCopy(indices.subarray(0, at)) };
    return this.csr;
  }

  /**
   * Every interaction grouped by user, repeats kept: user u's items, ascending, are
   * indices[offsets[u], offsets[u + 1]) (shared memory, computed once). Training builds its epochs
   * from this when it rejects known positives.
   */
  groupedByUser(): Csr {
    if (this.grouped) return this.grouped;
    const offsets = sharedInt32(this.numUsers + 1);
    for (const u of this.users) offsets[u + 1]++;
    for (let u = 0; u < this.numUsers; u++) offsets[u + 1] += offsets[u];
    const fill = offsets.slice(0, this.numUsers);
    const indices = sharedInt32(this.size);
    for (let i = 0; i < this.size; i++) indices[fill[this.users[i]]++] = this.items[i];
    for (let u = 0; u < this.numUsers; u++) indices.subarray(offsets[u], offsets[u + 1]).sort();
    this.grouped = { offsets, indices };
    return this.grouped;
  }

  /** User u's distinct items, sorted (a view). */
  itemsOf(u: number): Int32Array {
    const { offsets, indices } = this.byUser();
    return indices.subarray(offsets[u], offsets[u + 1]);
  }
}

function toTimestamps(value: unknown, length: number): Float64Array {
  let out: Float64Array;
  if (types.isFloat64Array(value)) {
    expectNotDetached('data.timestamps', value);
    out = new Float64Array(value);
  } else if (Array.isArray(value)) {
    out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'number') throw typeError(`data.timestamps[${i}]`, 'number', value[i]);
      out[i] = value[i];
    }
  } else {
    throw typeError('data.timestamps', 'Float64Array or array of numbers', value);
  }
  if (out.length !== length) throw lengthError('data.timestamps', `length ${length} (one per interaction)`, value);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw rangeError(`data.timestamps[${i}]`, 'finite number', out[i]);
  return out;
}

function maxPlusOne(a: Int32Array): number {
  let m = -1;
  for (const x of a) if (x > m) m = x;
  return m + 1;
}

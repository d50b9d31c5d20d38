/**
 * EmbeddingTable: a rows × dim float32 matrix in a JS-owned Float32Array that the native kernels
 * read in place (no copies). Back it with a SharedArrayBuffer to let worker threads share one copy.
 */
import { allocateBuffer } from './shared-memory';
import { types } from 'node:util';

import { DetachedBufferError } from './errors';
import { native } from './native';
import { normalGenerator } from './random';
import {
  expectBoolean,
  expectFloat32Array,
  expectInteger,
  expectOptions,
  expectPositiveInteger,
  lengthError,
  rangeError,
  typeError,
} from './validate';

/** Largest dim accepted (the addon's limit). */
export const MAX_DIM = 1 << 20;
/** Largest row count (row indices are int32). */
export const MAX_ROWS = 2 ** 31 - 1;

export interface CreateTableOptions {
  /**
   * Allocate on a SharedArrayBuffer (default true): worker threads share it without copies, and
   * async calls read it in place because it can never be detached. false gives a plain ArrayBuffer,
   * which topKBatch copies before each call.
   */
  shared?: boolean;
  /** 'zeros' (default) or 'normal' (seeded Gaussian × scale). */
  init?: 'zeros' | 'normal';
  /** Seed for init 'normal'. Default 0. */
  seed?: number;
  /** Standard deviation for init 'normal'. Default 1/sqrt(dim). */
  scale?: number;
}

/** What crosses a worker boundary: post it with postMessage, rebuild with EmbeddingTable.fromShared. */
export interface SharedTableHandle {
  data: Float32Array;
  dim: number;
}

const CACHE_LINE = 64;

/**
 * n floats starting on a cache-line boundary. Large ArrayBuffers come from malloc and are usually
 * only 16-byte aligned; then every 64-byte vector load of a row spans two cache lines, which costs
 * 5-30% on memory-bound scans here. Backing stores never move, so the alignment holds for life.
 */
function alignedFloats(n: number, shared: boolean): Float32Array {
  const bytes = n * 4 + CACHE_LINE;
  const buffer = allocateBuffer(bytes, shared);
  const misalignment = native.byteAlignment(new Uint8Array(buffer, 0, 1));
  const offset = (CACHE_LINE - misalignment) % CACHE_LINE;
  // Backing stores are at least 8-byte aligned, so offset is a multiple of 4; stay safe regardless.
  return new Float32Array(buffer, offset % 4 === 0 ? offset : 0, n);
}

export class EmbeddingTable {
  /** The row-major values (rows × dim). Writes are seen by the next native call. */
  readonly data: Float32Array;
  readonly rows: number;
  readonly dim: number;

  /**
   * Wraps an existing Float32Array (no copy). Its length must be a multiple of dim.
   * @param data row-major values, length rows × dim
   * @param dim embedding dimension, 1 … 2^20
   */
  constructor(data: Float32Array, dim: number) {
    expectFloat32Array('data', data);
    expectPositiveInteger('dim', dim, MAX_DIM);
    if (data.length % dim !== 0) {
      throw lengthError('data', `a length that is a multiple of dim (${dim})`, data);
    }
    // Async calls read the table in place; a resizable ArrayBuffer could shrink under them, and a
    // view of a growable SharedArrayBuffer changes length when it grows, so rows would no longer match.
    const b = data.buffer as { resizable?: boolean; growable?: boolean };
    if (b.resizable === true || b.growable === true) {
      throw rangeError(
        'data',
        'a Float32Array on a fixed-length ArrayBuffer or SharedArrayBuffer (not a resizable ArrayBuffer or a growable SharedArrayBuffer: make a larger table instead of growing one)',
        data,
      );
    }
    if (data.length / dim > MAX_ROWS) throw rangeError('data', `at most ${MAX_ROWS} rows`, data);
    this.data = data;
    this.dim = dim;
    this.rows = data.length / dim;
  }

  /** Allocates a new rows × dim table, its first row on a 64-byte (cache-line) boundary. */
  static create(rows: number, dim: number, options?: CreateTableOptions): EmbeddingTable {
    expectInteger('rows', rows, 0, MAX_ROWS);
    expectPositiveInteger('dim', dim, MAX_DIM);
    const o = expectOptions('options', options);
    const shared = o.shared === undefined ? true : expectBoolean('options.shared', o.shared);
    const init = o.init ?? 'zeros';
    if (init !== 'zeros' && init !== 'normal') throw rangeError('options.init', '"zeros" or "normal"', init);
    const bytes = rows * dim * 4;
    if (!Number.isSafeInteger(bytes) || bytes > 2 ** 53) throw rangeError('rows', 'a table that fits in memory', rows);
    const data = alignedFloats(rows * dim, shared);
    if (init === 'normal') {
      const seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1);
      const scale = o.scale === undefined ? 1 / Math.sqrt(dim) : o.scale;
      if (typeof scale !== 'number' || !Number.isFinite(scale)) throw typeError('options.scale', 'finite number', scale);
      const normal = normalGenerator(seed);
      for (let i = 0; i < data.length; i++) data[i] = normal() * scale;
    }
    return new EmbeddingTable(data, dim);
  }

  /** Copies an array of equal-length rows into a new table. */
  static fromRows(rows: ReadonlyArray<ArrayLike<number>>, options?: { shared?: boolean }): EmbeddingTable {
    if (!Array.isArray(rows)) throw typeError('rows', 'array of rows', rows);
    if (rows.length === 0) throw rangeError('rows', 'at least one row (the dimension comes from the rows)', rows);
    const first = rows[0];
    if (first === null || typeof first !== 'object' || typeof first.length !== 'number')
      throw typeError('rows[0]', 'array of numbers', first);
    const dim = first.length;
    const t = EmbeddingTable.create(rows.length, Math.max(dim, 1), { shared: expectOptions('options', options).shared });
    if (dim === 0) throw rangeError('rows[0]', 'a non-empty row', first);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (row === null || typeof row !== 'object' || row.length !== dim) throw rangeError(`rows[${r}]`, `an array of ${dim} numbers`, row);
      for (let c = 0; c < dim; c++) {
        const x = row[c];
        if (typeof x !== 'number') throw typeError(`rows[${r}][${c}]`, 'number', x);
        t.data[r * dim + c] = x;
      }
    }
    return t;
  }

  /** Rebuilds a table posted from another thread (shares memory when the buffer is shared). */
  static fromShared(handle: SharedTableHandle): EmbeddingTable {
    if (handle === null || typeof handle !== 'object') throw typeError('handle', '{ data, dim }', handle);
    return new EmbeddingTable(handle.data, handle.dim);
  }

  /** True when the values live on a SharedArrayBuffer (workers then share one copy). */
  get shared(): boolean {
    return types.isSharedArrayBuffer(this.data.buffer);
  }

  /** `{ data, dim }` to pass to a worker with postMessage; a shared table is not copied. */
  toShared(): SharedTableHandle {
    return { data: this.data, dim: this.dim };
  }

  /** A view (no copy) of row i. */
  row(i: number): Float32Array {
    this.checkAttached();
    expectInteger('i', i, 0, this.rows - 1);
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Throws DetachedBufferError if the buffer was transferred away since construction. */
  checkAttached(): void {
    if (this.data.length !== this.rows * this.dim) throw new DetachedBufferError('table.data');
  }
}

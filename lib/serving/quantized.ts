/**
 * Quantized copies of an item table for single-query serving. A 1M × 64 float32 scan reads 256 MB
 * and is bound by memory bandwidth; bf16 halves that and int8 (one float scale per row) quarters it.
 * The scores are approximations, so `topK` can re-score its best `rerank` candidates in float32 and
 * return the exact float32 top-k among them: with rerank large enough the result is exactly topK's.
 *
 * Numerics (what the tests hold the kernels to):
 * - bf16: query and rows rounded to bf16 (nearest even, 8 significant bits); |score − f32| ≤
 *   (2^-7 + 2^-16) · Σ|q_k·x_k| plus float32 summation error.
 * - int8: codes round(x/s) with s = max|x|/127 per row, the query the same way (scale s_q);
 *   |score − f32| ≤ (Σ|q_k|·s + Σ|x_k|·s_q)/2 + d·s·s_q/4 (plus float32 rounding). Identical bits on
 *   every ISA path (the integer dot product is exact).
 */
import { allocateBuffer } from '../core/shared-memory';
import { types } from 'node:util';

import { resolveThreads } from '../core/config';
import { resolveIndexList, type IndexList } from '../core/item-set';
import { native } from '../core/native';
import { QuantKind } from '../core/native-constants';
import { EmbeddingTable } from '../core/table';
import { expectInteger, expectOptions, expectPositiveInteger, rangeError, toFloat32Array, typeError } from '../core/validate';

export type QuantizationKind = 'bf16' | 'int8';

/** What crosses a worker boundary (every array on a SharedArrayBuffer: no copies). */
export interface SharedQuantizedHandle {
  kind: QuantizationKind;
  dim: number;
  codes: Uint16Array | Int8Array;
  scales: Float32Array | null;
  rowSums: Int32Array | null;
}

export interface QuantizedTopKOptions {
  /** Rows never returned for this query; applied inside the kernel. */
  exclude?: IndexList;
  /** Rows never returned for any query. */
  block?: IndexList;
  /** Only these rows are candidates. */
  allow?: IndexList;
  /**
   * Re-score the best max(rerank, k) quantized candidates in float32 against `reference` and return
   * the exact float32 top-k among them (scores are then float32 dot products). 0 (default): none.
   */
  rerank?: number;
  /** The float32 table this one was quantized from (needed by rerank). */
  reference?: EmbeddingTable;
  /** Threads for this call. Default: configure().threads (small tables stay on the calling thread). */
  threads?: number;
}

function sharedArray<T>(ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new ctor(allocateBuffer(Math.max(n, 0) * ctor.BYTES_PER_ELEMENT, true));
}

/**
 * n codes starting on a cache-line boundary: SharedArrayBuffers are only 16-byte aligned, and then
 * every 64-byte load of an int8 row (or a bf16 half-row) spans two cache lines, which here cost the
 * int8 scan about half its speed.
 */
function alignedCodes<T extends Uint16Array | Int8Array>(
  ctor: { new (b: SharedArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
  n: number,
): T {
  const buffer = allocateBuffer(n * ctor.BYTES_PER_ELEMENT + 64, true);
  const misalignment = native.byteAlignment(new Uint8Array(buffer, 0, 1));
  let offset = (64 - misalignment) % 64;
  if (offset % ctor.BYTES_PER_ELEMENT !== 0) offset = 0;
  return new ctor(buffer, offset, n);
}

export class QuantizedTable {
  readonly kind: QuantizationKind;
  readonly rows: number;
  readonly dim: number;
  /** bf16 bit patterns (Uint16Array) or int8 codes (Int8Array), rows × dim. */
  readonly codes: Uint16Array | Int8Array;
  /** int8: per-row scale; bf16: null. */
  readonly scales: Float32Array | null;
  /** int8: per-row sum of codes (the VNNI kernel's correction term); bf16: null. */
  readonly rowSums: Int32Array | null;

  private constructor(h: SharedQuantizedHandle) {
    this.kind = h.kind;
    this.dim = h.dim;
    this.codes = h.codes;
    this.scales = h.scales;
    this.rowSums = h.rowSums;
    this.rows = h.codes.length / h.dim;
  }

  /** Quantizes every row of table into new arrays on SharedArrayBuffers. */
  static from(table: EmbeddingTable, kind: QuantizationKind, options?: { threads?: number }): QuantizedTable {
    if (!(table instanceof EmbeddingTable)) throw typeError('table', 'EmbeddingTable', table);
    table.checkAttached();
    if (kind !== 'bf16' && kind !== 'int8') throw rangeError('kind', '"bf16" or "int8"', kind);
    if (kind === 'int8' && table.dim > 131072) throw rangeError('table', 'a dim of at most 131072 for int8', table.dim);
    const threads = resolveThreads('options.threads', expectOptions('options', options).threads);
    const n = table.rows * table.dim;
    const h: SharedQuantizedHandle =
      kind === 'bf16'
        ? { kind, dim: table.dim, codes: alignedCodes(Uint16Array, n), scales: null, rowSums: null }
        : {
            kind,
            dim: table.dim,
            codes: alignedCodes(Int8Array, n),
            scales: sharedArray(Float32Array, table.rows),
            rowSums: sharedArray(Int32Array, table.rows),
          };
    native.quantize({
      kind: QuantKind[kind],
      codes: h.codes,
      scales: h.scales,
      rowSums: h.rowSums,
      dim: h.dim,
      source: table.data,
      threads,
    });
    return new QuantizedTable(h);
  }

  /** Rebuilds a table posted from another thread (shares its memory). */
  static fromShared(handle: SharedQuantizedHandle): QuantizedTable {
    const h = expectOptions('handle', handle) as SharedQuantizedHandle;
    if (h.kind !== 'bf16' && h.kind !== 'int8') throw rangeError('handle.kind', '"bf16" or "int8"', h.kind);
    expectPositiveInteger('handle.dim', h.dim);
    const codesOk = h.kind === 'bf16' ? types.isUint16Array(h.codes) : types.isInt8Array(h.codes);
    if (!codesOk) throw typeError('handle.codes', h.kind === 'bf16' ? 'Uint16Array' : 'Int8Array', h.codes);
    if (h.codes.length % h.dim !== 0) throw rangeError('handle.codes', `a length that is a multiple of dim (${h.dim})`, h.codes);
    const rows = h.codes.length / h.dim;
    if (h.kind === 'int8') {
      if (!types.isFloat32Array(h.scales) || h.scales.length !== rows)
        throw typeError('handle.scales', `Float32Array of length ${rows}`, h.scales);
      if (!types.isInt32Array(h.rowSums) || h.rowSums.length !== rows)
        throw typeError('handle.rowSums', `Int32Array of length ${rows}`, h.rowSums);
    }
    return new QuantizedTable({ kind: h.kind, dim: h.dim, codes: h.codes, scales: h.scales ?? null, rowSums: h.rowSums ?? null });
  }

  toShared(): SharedQuantizedHandle {
    return { kind: this.kind, dim: this.dim, codes: this.codes, scales: this.scales, rowSums: this.rowSums };
  }

  /** Bytes of the quantized rows (plus scales and sums). */
  get byteLength(): number {
    return this.codes.byteLength + (this.scales?.byteLength ?? 0) + (this.rowSums?.byteLength ?? 0);
  }

  /** Quantized scores of one float32 query with every row (or options.items). */
  scoreItems(query: Float32Array | ReadonlyArray<number>, options?: { items?: IndexList; threads?: number }): Float32Array {
    const q = toFloat32Array('query', query, this.dim, true);
    const o = expectOptions('options', options);
    const items = o.items === undefined ? null : resolveIndexList('options.items', o.items, this.rows);
    const threads = resolveThreads('options.threads', o.threads);
    const out = new Float32Array(items ? items.length : this.rows);
    native.quantScore({
      kind: QuantKind[this.kind],
      codes: this.codes,
      scales: this.scales,
      rowSums: this.rowSums,
      dim: this.dim,
      query: q,
      items,
      out,
      threads,
    });
    return out;
  }

  /**
   * Exact top-k of the quantized scores (ties by lower row), or with `rerank` the exact float32 top-k
   * among the best max(rerank, k) quantized candidates. Returns min(k, eligible) rows, best first.
   */
  topK(
    query: Float32Array | ReadonlyArray<number>,
    k: number,
    options?: QuantizedTopKOptions,
  ): { indices: Int32Array; scores: Float32Array } {
    const q = toFloat32Array('query', query, this.dim, true);
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const list = (name: string, v: unknown) => (v === undefined || v === null ? null : resolveIndexList(`options.${name}`, v, this.rows));
    const exclude = list('exclude', o.exclude);
    const block = list('block', o.block);
    const allow = list('allow', o.allow);
    const rerank = o.rerank === undefined ? 0 : expectInteger('options.rerank', o.rerank, 0, 2 ** 31 - 1);
    let reference: Float32Array | null = null;
    if (o.reference !== undefined) {
      if (!(o.reference instanceof EmbeddingTable) || o.reference.rows !== this.rows || o.reference.dim !== this.dim) {
        throw typeError('options.reference', `the ${this.rows} × ${this.dim} EmbeddingTable this table was quantized from`, o.reference);
      }
      o.reference.checkAttached();
      reference = o.reference.data;
    }
    if (rerank > 0 && !reference)
      throw typeError('options.reference', 'EmbeddingTable (options.rerank needs the float32 rows)', o.reference);
    const threads = resolveThreads('options.threads', o.threads);
    const cap = Math.min(k, allow ? allow.length : this.rows);
    const indices = new Int32Array(cap);
    const scores = new Float32Array(cap);
    const n = native.quantTopK({
      kind: QuantKind[this.kind],
      codes: this.codes,
      scales: this.scales,
      rowSums: this.rowSums,
      dim: this.dim,
      query: q,
      k,
      exclude,
      block,
      allow,
      threads,
      rerank,
      f32Table: reference,
      outIndices: indices,
      outScores: scores,
    });
    return n === cap ? { indices, scores } : { indices: indices.subarray(0, n), scores: scores.subarray(0, n) };
  }
}

/** Which quantized kernels run now ('scalar', 'avx2', 'avx512', 'avx512-bf16-vnni'), and whether the CPU has AVX-512 BF16+VNNI. */
export function quantizedKernels(): { kernels: string; bf16Vnni: boolean } {
  return native.quantInfo();
}

/**
 * Tests and benchmarks: false keeps the AVX-512 level on its plain kernels (bf16 widened to float32,
 * int8 through maddubs) even when the CPU has BF16/VNNI. Process-wide, like setIsa.
 */
export function setQuantizedExtensions(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw typeError('enabled', 'boolean', enabled);
  native.quantUseExtensions(enabled);
}

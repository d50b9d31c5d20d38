/**
 * A serving snapshot: everything one model version needs to answer requests, immutable once built,
 * every large array on a SharedArrayBuffer so worker threads adopt it without copies. A Recommender
 * answers each request from exactly one snapshot; swapping replaces the reference between requests.
 */
import { EmbeddingTable } from '../core/table';
import { ItemSet } from '../core/item-set';
import { QuantizedTable, type QuantizationKind, type SharedQuantizedHandle } from './quantized';
import { SharedIds, type SharedIdsHandle } from './shared-ids';

export interface SnapshotParts {
  /** Scoring table (for MF with item biases: the vectors plus a bias column). */
  items: EmbeddingTable;
  /** Item vectors without a bias column: fold-in solves and cosine similarity use these. */
  itemVectors: EmbeddingTable;
  /** User vectors (rows = known users) or null. */
  users: EmbeddingTable | null;
  /** Queries get a trailing 1 (the bias column of items). */
  appendOne: boolean;
  userIds: SharedIds | null;
  itemIds: SharedIds | null;
  /** Seen items per user row (sorted, unique) or null. */
  seen: { offsets: Int32Array; indices: Int32Array } | null;
  /** rows × 1 table of popularity counts. */
  popularity: EmbeddingTable;
  quantized: QuantizedTable | null;
  rerank: number;
}

/** The postMessage form of a snapshot. */
export interface SharedSnapshotHandle {
  version: number;
  items: { data: Float32Array; dim: number };
  itemVectors: { data: Float32Array; dim: number } | null;
  users: { data: Float32Array; dim: number } | null;
  appendOne: boolean;
  userIds: SharedIdsHandle | null;
  itemIds: SharedIdsHandle | null;
  seen: { offsets: Int32Array; indices: Int32Array } | null;
  popularity: Float32Array;
  quantized: SharedQuantizedHandle | null;
  rerank: number;
}

export class Snapshot implements SnapshotParts {
  readonly items!: EmbeddingTable;
  readonly itemVectors!: EmbeddingTable;
  readonly users!: EmbeddingTable | null;
  readonly appendOne!: boolean;
  readonly userIds!: SharedIds | null;
  readonly itemIds!: SharedIds | null;
  readonly seen!: { offsets: Int32Array; indices: Int32Array } | null;
  readonly popularity!: EmbeddingTable;
  readonly quantized!: QuantizedTable | null;
  readonly rerank!: number;
  /** Requests (async batches) currently reading this snapshot. */
  inFlight = 0;
  private normalized: EmbeddingTable | null = null;
  private drained: (() => void)[] = [];

  constructor(
    parts: SnapshotParts,
    readonly version: number,
  ) {
    Object.assign(this, parts);
  }

  get quantization(): QuantizationKind | 'f32' {
    return this.quantized ? this.quantized.kind : 'f32';
  }

  acquire(): () => void {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.inFlight === 0) this.drained.splice(0).forEach((f) => f());
    };
  }

  /** Resolves once no request reads this snapshot. */
  whenDrained(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }

  /** Row-normalised item vectors for cosine similarity (built on first use, in this thread). */
  cosineTable(): EmbeddingTable {
    if (this.normalized) return this.normalized;
    const src = this.itemVectors;
    const out = EmbeddingTable.create(src.rows, src.dim);
    const d = src.dim;
    for (let r = 0; r < src.rows; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += src.data[r * d + c] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let c = 0; c < d; c++) out.data[r * d + c] = src.data[r * d + c] * inv;
    }
    this.normalized = out;
    return out;
  }

  seenOf(userRow: number): Int32Array | null {
    if (!this.seen || userRow + 1 >= this.seen.offsets.length) return null;
    return this.seen.indices.subarray(this.seen.offsets[userRow], this.seen.offsets[userRow + 1]);
  }

  itemId(row: number): string {
    return this.itemIds ? this.itemIds.id(row) : String(row);
  }

  /** The item row of an external id, or -1 (without item ids, the decimal row number). */
  itemRow(id: string): number {
    if (this.itemIds) return this.itemIds.row(id);
    return decimalRow(id, this.items.rows);
  }

  userRow(id: string): number {
    if (!this.users) return -1;
    const r = this.userIds ? this.userIds.row(id) : decimalRow(id, this.users.rows);
    return r < this.users.rows ? r : -1;
  }

  /** Rows of the known ids among `ids` (unknown ones are skipped). */
  itemRows(ids: Iterable<string>): Int32Array {
    const rows: number[] = [];
    for (const id of ids) {
      const r = this.itemRow(id);
      if (r >= 0) rows.push(r);
    }
    return Int32Array.from(rows);
  }

  itemSet(ids: Iterable<string>): ItemSet {
    return new ItemSet(this.itemRows(ids));
  }

  toShared(): SharedSnapshotHandle {
    return {
      version: this.version,
      items: this.items.toShared(),
      itemVectors: this.itemVectors === this.items ? null : this.itemVectors.toShared(),
      users: this.users ? this.users.toShared() : null,
      appendOne: this.appendOne,
      userIds: this.userIds?.toShared() ?? null,
      itemIds: this.itemIds?.toShared() ?? null,
      seen: this.seen,
      popularity: this.popularity.data,
      quantized: this.quantized?.toShared() ?? null,
      rerank: this.rerank,
    };
  }

  static fromShared(h: SharedSnapshotHandle): Snapshot {
    const items = EmbeddingTable.fromShared(h.items);
    return new Snapshot(
      {
        items,
        itemVectors: h.itemVectors ? EmbeddingTable.fromShared(h.itemVectors) : items,
        users: h.users ? EmbeddingTable.fromShared(h.users) : null,
        appendOne: h.appendOne,
        userIds: h.userIds ? SharedIds.fromShared(h.userIds) : null,
        itemIds: h.itemIds ? SharedIds.fromShared(h.itemIds) : null,
        seen: h.seen,
        popularity: new EmbeddingTable(h.popularity, 1),
        quantized: h.quantized ? QuantizedTable.fromShared(h.quantized) : null,
        rerank: h.rerank,
      },
      h.version,
    );
  }
}

function decimalRow(id: string, rows: number): number {
  if (!/^(0|[1-9]\d*)$/.test(id)) return -1;
  const r = Number(id);
  return r < rows ? r : -1;
}

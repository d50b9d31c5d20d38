/**
 * External ids on SharedArrayBuffers: UTF-8 bytes, offsets and an open-addressing hash index, so N
 * worker threads share one copy of a million-id vocabulary instead of each building its own Map.
 * Lookups hash the id's UTF-8 bytes (FNV-1a) and compare bytes; ids decode on demand.
 */
import { allocateBuffer } from '../core/shared-memory';
import { Vocabulary } from '../data/vocabulary';
import { typeError } from '../core/validate';

export interface SharedIdsHandle {
  bytes: Uint8Array;
  offsets: Int32Array;
  slots: Int32Array;
}

function fnv1a(b: Uint8Array, begin: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = begin; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export class SharedIds {
  private readonly bytes: Uint8Array;
  private readonly offsets: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;

  private constructor(h: SharedIdsHandle) {
    this.bytes = h.bytes;
    this.offsets = h.offsets;
    this.slots = h.slots;
    this.mask = h.slots.length - 1;
  }

  /** Ids in row order (row i is ids[i]); duplicates keep their first row. */
  static from(ids: Vocabulary | ReadonlyArray<string>): SharedIds {
    const list = ids instanceof Vocabulary ? ids.toArray() : ids;
    if (!Array.isArray(list)) throw typeError('ids', 'Vocabulary or array of strings', ids);
    const encoded = list.map((id, i) => {
      if (typeof id !== 'string') throw typeError(`ids[${i}]`, 'string', id);
      return Buffer.from(id, 'utf8');
    });
    const total = encoded.reduce((s, b) => s + b.length, 0);
    const bytes = new Uint8Array(allocateBuffer(Math.max(total, 1), true));
    const offsets = new Int32Array(allocateBuffer((list.length + 1) * 4, true));
    let at = 0;
    encoded.forEach((b, i) => {
      bytes.set(b, at);
      at += b.length;
      offsets[i + 1] = at;
    });
    let cap = 16;
    while (cap < list.length * 2) cap *= 2;
    const slots = new Int32Array(allocateBuffer(cap * 4, true));
    const ids2 = new SharedIds({ bytes, offsets, slots });
    for (let r = 0; r < list.length; r++) {
      let s = fnv1a(bytes, offsets[r], offsets[r + 1]) & (cap - 1);
      let duplicate = false;
      while (slots[s] !== 0) {
        if (ids2.equalsRow(slots[s] - 1, bytes, offsets[r], offsets[r + 1])) {
          duplicate = true;
          break;
        }
        s = (s + 1) & (cap - 1);
      }
      if (!duplicate) slots[s] = r + 1;
    }
    return ids2;
  }

  static fromShared(h: SharedIdsHandle): SharedIds {
    return new SharedIds(h);
  }

  toShared(): SharedIdsHandle {
    return { bytes: this.bytes, offsets: this.offsets, slots: this.slots };
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** The row of id, or -1. */
  row(id: string): number {
    const key = Buffer.from(id, 'utf8');
    let s = fnv1a(key, 0, key.length) & this.mask;
    for (;;) {
      const v = this.slots[s];
      if (v === 0) return -1;
      if (this.equalsRow(v - 1, key, 0, key.length)) return v - 1;
      s = (s + 1) & this.mask;
    }
  }

  id(row: number): string {
    const b = this.offsets[row];
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + b, this.offsets[row + 1] - b).toString('utf8');
  }

  private equalsRow(row: number, key: Uint8Array, begin: number, end: number): boolean {
    const b = this.offsets[row];
    if (this.offsets[row + 1] - b !== end - begin) return false;
    for (let i = 0; i < end - begin; i++) if (this.bytes[b + i] !== key[begin + i]) return false;
    return true;
  }
}

/**
 * External ids (strings from data files) ↔ dense row indices. Growable: an unseen id gets the next
 * row, so new users and items extend tables in place; freeze() turns lookups of unseen ids into
 * errors (for evaluation data that must not invent rows). Serializable (toJSON / fromJSON) so a
 * model file can carry its vocabularies, and joinable across domains (join by shared ids, link by
 * an explicit table of id pairs).
 */
import { RecbridgeError } from '../core/errors';
import { ArgumentRangeError } from '../core/errors';
import { expectOptions, rangeError, typeError } from '../core/validate';

/** The serialized form (what toJSON returns and fromJSON accepts). */
export interface VocabularyJSON {
  /** Ids in row order. */
  ids: string[];
  /** Whether the vocabulary refuses new ids. Default false. */
  frozen?: boolean;
}

/** Row pairs of two vocabularies that denote the same entity: a[k] in the first ↔ b[k] in the second. */
export interface JoinedRows {
  a: Int32Array;
  b: Int32Array;
  count: number;
  /** Link pairs dropped because an id was missing from its vocabulary (link with unknown: 'skip'). */
  skipped: number;
}

/** Id pairs for Vocabulary.link: an array of [a-id, b-id], or what loadLinks returns. */
export type LinkTable = ReadonlyArray<readonly [string, string]> | { pairs: ReadonlyArray<readonly [string, string]> };

// V8 may keep a short substring as a slice of its (large) parent; an id kept in the map would then
// pin a whole chunk of the file it came from. New ids are copied once to cut that link.
function ownString(id: string): string {
  return id.length < 13 ? id : Buffer.from(id, 'utf8').toString('utf8');
}

export class Vocabulary {
  private readonly rows = new Map<string, number>();
  private readonly ids: string[] = [];
  private frozen = false;

  constructor(ids?: Iterable<string>) {
    if (ids) for (const id of ids) this.add(id);
  }

  get size(): number {
    return this.ids.length;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** The row of id, adding it when new (unless frozen). */
  add(id: string): number {
    const row = this.rows.get(id);
    if (row !== undefined) return row;
    if (typeof id !== 'string') throw typeError('id', 'string', id);
    if (this.frozen) throw new RecbridgeError('ERR_MALFORMED_DATA', `Unknown id ${JSON.stringify(id)}: the vocabulary is frozen`);
    const own = ownString(id);
    this.rows.set(own, this.ids.length);
    this.ids.push(own);
    return this.ids.length - 1;
  }

  /** The row of id, or undefined. */
  row(id: string): number | undefined {
    return this.rows.get(id);
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** The id of a row. */
  id(row: number): string {
    const id = this.ids[row];
    if (id === undefined) throw rangeError('row', `an integer in [0, ${this.ids.length})`, row);
    return id;
  }

  freeze(): this {
    this.frozen = true;
    return this;
  }

  /** Every id in row order. */
  toArray(): string[] {
    return this.ids.slice();
  }

  /** `{ ids, frozen }`: JSON.stringify(vocabulary) gives a form fromJSON reads back. */
  toJSON(): VocabularyJSON {
    return { ids: this.ids.slice(), frozen: this.frozen };
  }

  /** A vocabulary from toJSON's output (an object, or its JSON text). Rows keep their order. */
  static fromJSON(json: VocabularyJSON | string): Vocabulary {
    let o: unknown = json;
    if (typeof json === 'string') {
      try {
        o = JSON.parse(json);
      } catch (err) {
        throw new ArgumentRangeError(
          `Expected JSON text for json but it does not parse (${(err as Error).message})`,
          'json',
          'ERR_INVALID_ARG_VALUE',
        );
      }
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw typeError('json', '{ ids: string[], frozen?: boolean }', o);
    const { ids, frozen } = o as Partial<VocabularyJSON>;
    if (!Array.isArray(ids)) throw typeError('json.ids', 'array of strings', ids);
    if (frozen !== undefined && typeof frozen !== 'boolean') throw typeError('json.frozen', 'boolean', frozen);
    const v = new Vocabulary();
    for (let i = 0; i < ids.length; i++) {
      if (typeof ids[i] !== 'string') throw typeError(`json.ids[${i}]`, 'string', ids[i]);
      if (v.has(ids[i])) throw rangeError(`json.ids[${i}]`, `an id not listed before (first at row ${v.row(ids[i])})`, ids[i]);
      v.add(ids[i]);
    }
    if (frozen) v.freeze();
    return v;
  }

  /**
   * Rows of the ids present in both vocabularies (e.g. users shared by two domains), in a's row
   * order: a.id(result.a[k]) === b.id(result.b[k]).
   */
  static join(a: Vocabulary, b: Vocabulary): JoinedRows {
    if (!(a instanceof Vocabulary)) throw typeError('a', 'Vocabulary', a);
    if (!(b instanceof Vocabulary)) throw typeError('b', 'Vocabulary', b);
    const ra: number[] = [];
    const rb: number[] = [];
    a.ids.forEach((id, row) => {
      const other = b.rows.get(id);
      if (other !== undefined) {
        ra.push(row);
        rb.push(other);
      }
    });
    return { a: Int32Array.from(ra), b: Int32Array.from(rb), count: ra.length, skipped: 0 };
  }

  /**
   * Rows linked by an explicit table of external id pairs ([id in a, id in b]), for domains whose
   * ids differ. Pairs keep their order; one id may be linked more than once. A pair naming an id
   * missing from its vocabulary is skipped and counted (unknown: 'skip', the default) or rejected.
   */
  static link(a: Vocabulary, b: Vocabulary, pairs: LinkTable, options?: { unknown?: 'skip' | 'error' }): JoinedRows {
    if (!(a instanceof Vocabulary)) throw typeError('a', 'Vocabulary', a);
    if (!(b instanceof Vocabulary)) throw typeError('b', 'Vocabulary', b);
    const list = Array.isArray(pairs)
      ? pairs
      : pairs && typeof pairs === 'object' && Array.isArray((pairs as { pairs?: unknown }).pairs)
        ? (pairs as { pairs: unknown[] }).pairs
        : null;
    if (list === null) throw typeError('pairs', 'an array of [id, id] pairs or a loaded link table', pairs);
    const o = expectOptions('options', options);
    const unknown = o.unknown ?? 'skip';
    if (unknown !== 'skip' && unknown !== 'error') throw rangeError('options.unknown', '"skip" or "error"', unknown);
    const ra: number[] = [];
    const rb: number[] = [];
    let skipped = 0;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as unknown;
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string')
        throw typeError(`pairs[${i}]`, 'a pair of two string ids', p);
      const x = a.rows.get(p[0]);
      const y = b.rows.get(p[1]);
      if (x === undefined || y === undefined) {
        if (unknown === 'error') {
          throw rangeError(
            x === undefined ? `pairs[${i}][0]` : `pairs[${i}][1]`,
            `an id of vocabulary ${x === undefined ? 'a' : 'b'}`,
            x === undefined ? p[0] : p[1],
          );
        }
        skipped++;
        continue;
      }
      ra.push(x);
      rb.push(y);
    }
    return { a: Int32Array.from(ra), b: Int32Array.from(rb), count: ra.length, skipped };
  }
}

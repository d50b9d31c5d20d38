/**
 * External ids (strings from data files) ↔ dense row indices. Growable: an unseen id gets the next
 * row, so new users and items extend tables in place; freeze() turns lookups of unseen ids into
 * errors (for evaluation data that must not invent rows).
 */
import { RecbridgeError } from '../errors';
import { typeError } from '../validate';

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

  /** The row of id, adding it when new (unless frozen). */
  add(id: string): number {
    if (typeof id !== 'string') throw typeError('id', 'string', id);
    const row = this.rows.get(id);
    if (row !== undefined) return row;
    if (this.frozen) throw new RecbridgeError('ERR_MALFORMED_DATA', `Unknown id ${JSON.stringify(id)}: the vocabulary is frozen`);
    this.rows.set(id, this.ids.length);
    this.ids.push(id);
    return this.ids.length - 1;
  }

  /** The row of id, or undefined. */
  row(id: string): number | undefined {
    return this.rows.get(id);
  }

  /** The id of a row. */
  id(row: number): string {
    const id = this.ids[row];
    if (id === undefined) throw typeError('row', `an integer in [0, ${this.ids.length})`, row);
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
}

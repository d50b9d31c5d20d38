/**
 * Aligning two domains: which source rows are which target rows. Users (or items) line up by shared
 * external ids or by an explicit link table of id pairs; the alignment is a pair of row arrays plus
 * the overlap counts a user needs to judge whether transfer can work at all.
 */
import { RecbridgeError } from '../core/errors';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { Domain } from './domain';

/** Rows that denote the same entity: source[k] in the source domain is target[k] in the target. */
export interface RowPairs {
  source: Int32Array;
  target: Int32Array;
}

export interface AlignOptions {
  /** Align users by shared external ids (default), or by the `userLinks` table. */
  users?: 'shared-ids' | 'links' | 'none';
  /** Align items by shared external ids, by `itemLinks`, or not at all (default). */
  items?: 'shared-ids' | 'links' | 'none';
  /** [source id, target id] pairs. */
  userLinks?: ReadonlyArray<readonly [string, string]>;
  itemLinks?: ReadonlyArray<readonly [string, string]>;
}

export interface AlignmentReport {
  sourceUsers: number;
  targetUsers: number;
  sharedUsers: number;
  sourceItems: number;
  targetItems: number;
  sharedItems: number;
  /** Link-table pairs naming an id unknown to either domain (skipped). */
  unknownLinks: number;
}

export class Alignment {
  /** Target row → source row, -1 where the entity has no counterpart. */
  readonly userToSource: Int32Array;
  readonly itemToSource: Int32Array;

  constructor(
    readonly source: Domain,
    readonly target: Domain,
    readonly users: RowPairs,
    readonly items: RowPairs,
    readonly report: AlignmentReport,
  ) {
    this.userToSource = inverse(users, target.numUsers);
    this.itemToSource = inverse(items, target.numItems);
  }
}

function inverse(pairs: RowPairs, rows: number): Int32Array {
  const out = new Int32Array(rows).fill(-1);
  pairs.target.forEach((t, k) => (out[t] = pairs.source[k]));
  return out;
}

export function alignDomains(source: Domain, target: Domain, options?: AlignOptions): Alignment {
  if (!(source instanceof Domain)) throw typeError('source', 'Domain', source);
  if (!(target instanceof Domain)) throw typeError('target', 'Domain', target);
  const o = expectOptions('options', options);
  let unknown = 0;
  const pick = (kind: 'users' | 'items', mode: unknown): RowPairs => {
    const argument = `options.${kind}`;
    if (mode === 'none') return { source: new Int32Array(0), target: new Int32Array(0) };
    const s = kind === 'users' ? source.users : source.items;
    const t = kind === 'users' ? target.users : target.items;
    const src: number[] = [];
    const tgt: number[] = [];
    const usedTarget = new Set<number>();
    const add = (a: number | undefined, b: number | undefined): void => {
      if (a === undefined || b === undefined) {
        unknown++;
        return;
      }
      // One target row gets one source row: a link table naming a target twice is ambiguous.
      if (usedTarget.has(b))
        throw new RecbridgeError(
          'ERR_MALFORMED_DATA',
          `${argument}: target id ${JSON.stringify(t.id(b))} is linked to more than one source id`,
        );
      usedTarget.add(b);
      src.push(a);
      tgt.push(b);
    };
    if (mode === 'shared-ids') {
      const ids = s.toArray();
      ids.forEach((id, row) => {
        const other = t.row(id);
        if (other !== undefined) add(row, other);
      });
    } else if (mode === 'links') {
      const table = kind === 'users' ? o.userLinks : o.itemLinks;
      const name = kind === 'users' ? 'options.userLinks' : 'options.itemLinks';
      if (!Array.isArray(table)) throw typeError(name, 'an array of [source id, target id] pairs', table);
      table.forEach((pair, k) => {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
          throw typeError(`${name}[${k}]`, '[source id, target id] strings', pair);
        }
        add(s.row(pair[0]), t.row(pair[1]));
      });
    } else {
      throw rangeError(argument, '"shared-ids", "links" or "none"', mode);
    }
    return { source: Int32Array.from(src), target: Int32Array.from(tgt) };
  };
  const users = pick('users', o.users ?? (o.userLinks ? 'links' : 'shared-ids'));
  const items = pick('items', o.items ?? (o.itemLinks ? 'links' : 'none'));
  if (users.source.length === 0 && items.source.length === 0) {
    throw new RecbridgeError(
      'ERR_NO_OVERLAP',
      `Domains ${JSON.stringify(source.name)} and ${JSON.stringify(target.name)} share no users or items: check that ids use the same spelling, or give a link table (options.userLinks / options.itemLinks)`,
    );
  }
  return new Alignment(source, target, users, items, {
    sourceUsers: source.numUsers,
    targetUsers: target.numUsers,
    sharedUsers: users.source.length,
    sourceItems: source.numItems,
    targetItems: target.numItems,
    sharedItems: items.source.length,
    unknownLinks: unknown,
  });
}

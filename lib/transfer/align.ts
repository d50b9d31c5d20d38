/**
 * Aligning two domains: which source rows are which target rows. Users (or items) line up by shared
 * external ids or by an explicit link table of id pairs; the alignment is a pair of row arrays plus
 * the overlap counts a user needs to judge whether transfer can work at all.
 *
 * Shared ids are only evidence of shared entities when the ids mean the same thing in both domains.
 * Two files that number their users 1..n independently "share" nearly every id by coincidence, and
 * a transfer run on that alignment measures noise; so integer ranges need the caller's confirmation.
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
  /**
   * Confirms that ids aligned by `'shared-ids'` which look like independent integer numberings (see
   * `AlignmentReport.numericIdRanges`) really denote the same entities. Default false: such an
   * alignment throws `ERR_ALIGNMENT_UNCONFIRMED`.
   */
  trustNumericIds?: boolean;
}

/** Shared entities as a share (0 to 1) of each domain's entities. */
export interface OverlapShare {
  source: number;
  target: number;
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
  /** sharedUsers / sourceUsers and sharedUsers / targetUsers (0 when a domain has none). */
  sharedUserShare: OverlapShare;
  sharedItemShare: OverlapShare;
  /** How users and items were aligned. */
  userAlignment: 'shared-ids' | 'links' | 'none';
  itemAlignment: 'shared-ids' | 'links' | 'none';
  /**
   * The kinds aligned by shared ids whose ids, in both domains, are all decimal integers densely
   * covering a range that starts at 0 or 1: what independent numberings look like, so the overlap
   * may be coincidence. Empty when nothing looks so.
   */
  numericIdRanges: Array<'users' | 'items'>;
  /** Whether the caller confirmed those ids (options.trustNumericIds). */
  trustedNumericIds: boolean;
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
  if (o.trustNumericIds !== undefined && typeof o.trustNumericIds !== 'boolean')
    throw typeError('options.trustNumericIds', 'boolean', o.trustNumericIds);
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
  const userMode = o.users ?? (o.userLinks ? 'links' : 'shared-ids');
  const itemMode = o.items ?? (o.itemLinks ? 'links' : 'none');
  const users = pick('users', userMode);
  const items = pick('items', itemMode);
  if (users.source.length === 0 && items.source.length === 0) {
    throw new RecbridgeError(
      'ERR_NO_OVERLAP',
      `Domains ${JSON.stringify(source.name)} and ${JSON.stringify(target.name)} share no users or items: check that ids use the same spelling, or give a link table (options.userLinks / options.itemLinks)`,
    );
  }
  const numericIdRanges: Array<'users' | 'items'> = [];
  if (userMode === 'shared-ids' && users.source.length && bothIntegerRanges(source.users, target.users)) numericIdRanges.push('users');
  if (itemMode === 'shared-ids' && items.source.length && bothIntegerRanges(source.items, target.items)) numericIdRanges.push('items');
  const trusted = o.trustNumericIds === true;
  if (numericIdRanges.length && !trusted) throw unconfirmed(source, target, numericIdRanges);
  const share = (shared: number, a: number, b: number): OverlapShare => ({ source: a ? shared / a : 0, target: b ? shared / b : 0 });
  return new Alignment(source, target, users, items, {
    sourceUsers: source.numUsers,
    targetUsers: target.numUsers,
    sharedUsers: users.source.length,
    sourceItems: source.numItems,
    targetItems: target.numItems,
    sharedItems: items.source.length,
    unknownLinks: unknown,
    sharedUserShare: share(users.source.length, source.numUsers, target.numUsers),
    sharedItemShare: share(items.source.length, source.numItems, target.numItems),
    userAlignment: userMode as AlignmentReport['userAlignment'],
    itemAlignment: itemMode as AlignmentReport['itemAlignment'],
    numericIdRanges,
    trustedNumericIds: trusted,
  });
}

/**
 * Whether a vocabulary looks like a numbering of its own: every id a decimal integer, the smallest 0
 * or 1, and at least half of the range up to the largest in use (so ids such as Amazon ASIN-like
 * codes, phone numbers or sparse customer numbers do not count).
 */
export function looksLikeIntegerRange(vocabulary: { toArray(): string[] }): boolean {
  const ids = vocabulary.toArray();
  if (ids.length === 0) return false;
  let min = Infinity;
  let max = -Infinity;
  for (const id of ids) {
    if (!/^\d{1,15}$/.test(id)) return false;
    const n = Number(id);
    if (n < min) min = n;
    if (n > max) max = n;
  }
  return min <= 1 && ids.length >= 0.5 * (max - min + 1);
}

function bothIntegerRanges(a: { toArray(): string[] }, b: { toArray(): string[] }): boolean {
  return looksLikeIntegerRange(a) && looksLikeIntegerRange(b);
}

function unconfirmed(source: Domain, target: Domain, kinds: Array<'users' | 'items'>): RecbridgeError {
  const what = kinds.join(' and ');
  return new RecbridgeError(
    'ERR_ALIGNMENT_UNCONFIRMED',
    `The ${what} of ${JSON.stringify(source.name)} and ${JSON.stringify(target.name)} are aligned by shared ids, but both domains number their ${what} ` +
      'as integer ranges from 0 or 1, so most ids would match even between unrelated domains. If the same id is the same entity in both, ' +
      'pass align: { trustNumericIds: true } (CLI: --trust-numeric-ids); otherwise namespace each domain\'s ids (e.g. "s:123", "t:123") so that none ' +
      'matches by accident, and give a link table of the pairs that are the same entity (align.userLinks / align.itemLinks, CLI --user-links).',
  );
}

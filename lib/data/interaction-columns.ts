/**
 * Which columns of an interactions file hold the user, item, value and time: the options that name
 * them (by index, or by header name), checked once, and their positions once the header (or its
 * absence) is known. A header column that no option names is found by its usual names.
 */
import { ArgumentRangeError } from '../core/errors';
import { rangeError, typeError } from '../core/validate';
import { RowError } from './row-error';
import { looseName } from './sniff';

export type Role = 'user' | 'item' | 'value' | 'time';
const ROLES: readonly Role[] = ['user', 'item', 'value', 'time'];

/** A column by 0-based index, or by its name in the header. */
export type ColumnRef = number | string;

/**
 * The names each column is looked up by when a header has it and no option names it, compared
 * loosely (case, `_`, `-` and spaces ignored: `userId`, `User ID` and `user_id` are one name),
 * first match wins.
 */
export const COLUMN_NAMES: Readonly<Record<Role, readonly string[]>> = {
  user: ['user_id', 'user'],
  item: ['item_id', 'movie_id', 'product_id', 'item'],
  value: ['rating', 'weight'],
  time: ['timestamp'],
};

/** Which columns hold the user, item, value and time of each interaction (loadInteractions). */
export interface ColumnOptions {
  /** Column of the user id: 0-based index, or name in the header. Default 0, or the header's user_id / userId / user column. */
  userColumn?: ColumnRef;
  /** Column of the item id. Default 1, or the header's item_id / itemId / movieId / productId / item column. */
  itemColumn?: ColumnRef;
  /**
   * Column of a numeric value (rating, weight), or null for none. Default: column 2 when a line
   * has one, or the header's rating / weight column.
   */
  valueColumn?: ColumnRef | null;
  /**
   * Column of the time of each interaction, or null for none. Values are numbers (any unit, e.g.
   * Unix seconds) or ISO-8601 dates (read as Unix seconds). Default: the header's timestamp
   * column, column 3 for movielens, else none.
   */
  timeColumn?: ColumnRef | null;
  /** userColumn, under its older name. */
  user?: ColumnRef;
  /** itemColumn, under its older name. */
  item?: ColumnRef;
  /** valueColumn, under its older name. */
  value?: ColumnRef | null;
  /** timeColumn, under its older name. */
  time?: ColumnRef | null;
}

export interface ColumnChoice {
  /** The column each role asked for (null: none; undefined: the default). */
  want: Record<Role, ColumnRef | null | undefined>;
  /** The option each came from, for messages. */
  argument: Record<Role, string>;
  /** Some column is named, so the file must have a header. */
  named: boolean;
}

/** Positions in a record; -1 for none. */
export type Columns = Record<Role, number>;

export function columnOptions(o: ColumnOptions): ColumnChoice {
  const want = {} as ColumnChoice['want'];
  const argument = {} as ColumnChoice['argument'];
  let named = false;
  for (const role of ROLES) {
    const older = o[role];
    const newer = o[`${role}Column`];
    if (older !== undefined && newer !== undefined && older !== newer) {
      throw new ArgumentRangeError(
        `options.${role}Column and options.${role} are one option under two names but received ${JSON.stringify(newer)} and ${JSON.stringify(older)}: pass one`,
        `options.${role}Column`,
        'ERR_INVALID_ARG_VALUE',
      );
    }
    const arg = newer !== undefined || older === undefined ? `options.${role}Column` : `options.${role}`;
    const c = newer !== undefined ? newer : older;
    const nullable = role === 'value' || role === 'time';
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0) throw rangeError(arg, 'column index ≥ 0', c);
    } else if (typeof c === 'string') {
      if (c === '') throw typeError(arg, 'column index or non-empty name', c);
      named = true;
    } else if (!(c === undefined || (c === null && nullable))) {
      throw typeError(arg, nullable ? 'column index, name or null' : 'column index or name', c);
    }
    want[role] = c;
    argument[role] = arg;
  }
  return { want, argument, named };
}

/** Positions in a headerless file: indices, or the defaults (user 0, item 1, value 2 when present). */
export function columnsByIndex(choice: ColumnChoice, defaultTime: number): Columns {
  for (const role of ROLES) {
    if (typeof choice.want[role] === 'string')
      throw typeError(choice.argument[role], 'a column index (column names need a header: header true or "auto")', choice.want[role]);
  }
  const at = (role: Role, fallback: number) => {
    const c = choice.want[role];
    return c === null ? -1 : c === undefined ? fallback : (c as number);
  };
  return { user: at('user', 0), item: at('item', 1), value: at('value', 2), time: at('time', defaultTime) };
}

/** Positions from a header's column names; a missing column is a RowError naming the columns there are. */
export function columnsByName(choice: ColumnChoice, names: readonly string[], needValue: boolean): Columns {
  const listed = names.map((n) => JSON.stringify(n)).join(', ');
  const loose = names.map(looseName);
  const find = (role: Role): number => {
    const c = choice.want[role];
    if (c === null) return -1;
    if (typeof c === 'number') return c;
    if (typeof c === 'string') {
      const at = names.indexOf(c);
      if (at < 0) throw new RowError(`no column ${JSON.stringify(c)} for ${choice.argument[role]} (the header has ${listed})`);
      return at;
    }
    for (const name of COLUMN_NAMES[role]) {
      const at = loose.indexOf(looseName(name));
      if (at >= 0) return at;
    }
    return -1;
  };
  const columns: Columns = { user: find('user'), item: find('item'), value: find('value'), time: find('time') };
  const missing = (role: Role, what: string) =>
    new RowError(
      `${what}: the header has no column named ${COLUMN_NAMES[role].join(' or ')} (it has ${listed}); name the ${role} column with ${choice.argument[role]}`,
    );
  if (columns.user < 0) throw missing('user', 'no user column');
  if (columns.item < 0) throw missing('item', 'no item column');
  if (needValue && columns.value < 0) throw missing('value', 'options.minValue needs a value column');
  return columns;
}

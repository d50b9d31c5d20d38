/**
 * Loads interactions from text files into dense indices plus vocabularies: RecBole atomic files
 * (.inter, typed header `name:type`), TSV/CSV with or without a header, and plain `user item
 * [value]` lines (as in the Amazon cross-domain pairs).
 */
import { RecbridgeError } from '../errors';
import { Interactions } from '../train/interactions';
import { expectBoolean, expectOptions, rangeError, typeError } from '../validate';
import { RowError, readDelimited } from './read-delimited';
import { Vocabulary } from './vocabulary';

export interface LoadInteractionsOptions {
  /**
   * 'recbole' (tab-separated, typed header; columns found by name), 'tsv' or 'csv' (columns by
   * index or, with header: true, by name), 'whitespace' (plain `user item [value]`). Default: from
   * the file name (.inter → recbole, .csv → csv, .tsv → tsv, else whitespace).
   */
  format?: 'recbole' | 'tsv' | 'csv' | 'whitespace';
  /** The first line is a header (tsv/csv/whitespace). Default false. */
  header?: boolean;
  /** Column (index, or name with a header) of the user id. Default 0 / 'user_id'. */
  user?: number | string;
  /** Column of the item id. Default 1 / 'item_id'. */
  item?: number | string;
  /** Column of a numeric value (rating), or null for none. Default: 2 when present / 'rating'. */
  value?: number | string | null;
  /** Keep only rows whose value is ≥ this (e.g. 4 for "liked"). Default: keep all. */
  minValue?: number;
  /** Vocabularies to extend (for a second domain sharing users, or a test file). Default: new ones. */
  users?: Vocabulary;
  items?: Vocabulary;
  /** Count and skip malformed lines instead of failing. Default false. */
  skipMalformed?: boolean;
}

export interface LoadedInteractions {
  interactions: Interactions;
  users: Vocabulary;
  items: Vocabulary;
  /** Malformed lines skipped (skipMalformed) and rows dropped by minValue. */
  skipped: number;
  filtered: number;
}

function formatOf(path: string): NonNullable<LoadInteractionsOptions['format']> {
  if (path.endsWith('.inter')) return 'recbole';
  if (path.endsWith('.csv')) return 'csv';
  if (path.endsWith('.tsv')) return 'tsv';
  return 'whitespace';
}

export async function loadInteractions(path: string, options?: LoadInteractionsOptions): Promise<LoadedInteractions> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'file path', path);
  const o = expectOptions('options', options);
  const format = o.format ?? formatOf(path);
  if (!['recbole', 'tsv', 'csv', 'whitespace'].includes(format)) throw rangeError('options.format', '"recbole", "tsv", "csv" or "whitespace"', format);
  const header = format === 'recbole' ? true : o.header === undefined ? false : expectBoolean('options.header', o.header);
  const users = o.users ?? new Vocabulary();
  const items = o.items ?? new Vocabulary();
  if (!(users instanceof Vocabulary)) throw typeError('options.users', 'Vocabulary', users);
  if (!(items instanceof Vocabulary)) throw typeError('options.items', 'Vocabulary', items);
  if (o.minValue !== undefined && (typeof o.minValue !== 'number' || !Number.isFinite(o.minValue))) throw typeError('options.minValue', 'finite number', o.minValue);

  // Column positions: by index, or resolved by name from the header.
  let cols = { user: 0, item: 1, value: -1 as number };
  const byName = (names: string[], want: number | string | null | undefined, fallback: string | null, argument: string): number => {
    if (want === null) return -1;
    if (typeof want === 'number') {
      if (!Number.isInteger(want) || want < 0) throw rangeError(argument, 'column index ≥ 0', want);
      return want;
    }
    const name = want ?? fallback;
    if (name === null) return -1;
    const at = names.indexOf(name);
    if (at < 0 && want !== undefined) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:1: no column ${JSON.stringify(name)} for ${argument} (columns: ${names.join(', ')})`);
    return at;
  };
  const onHeader = (fields: string[]) => {
    const names = fields.map((f) => f.split(':')[0]); // RecBole: name:type
    cols = {
      user: byName(names, o.user, 'user_id', 'options.user'),
      item: byName(names, o.item, 'item_id', 'options.item'),
      value: byName(names, o.value, 'rating', 'options.value'),
    };
    if (cols.user < 0 || cols.item < 0) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:1: no user_id/item_id columns (columns: ${names.join(', ')}); pass options.user and options.item`);
  };
  if (!header) {
    cols = {
      user: typeof o.user === 'number' ? o.user : 0,
      item: typeof o.item === 'number' ? o.item : 1,
      value: o.value === null ? -1 : typeof o.value === 'number' ? o.value : 2,
    };
    if (typeof o.user === 'string' || typeof o.item === 'string' || typeof o.value === 'string') {
      throw typeError('options.user', 'a column index (column names need header: true)', o.user);
    }
  }

  const u: number[] = [];
  const it: number[] = [];
  const values: number[] = [];
  let hasValues = true;
  let filtered = 0;
  const delimiter = format === 'csv' ? ',' : format === 'whitespace' ? 'whitespace' : '\t';
  const { skipped } = await readDelimited(
    path,
    { delimiter, header, skipMalformed: o.skipMalformed ?? false },
    (fields) => {
      const need = Math.max(cols.user, cols.item) + 1;
      if (fields.length < need) throw new RowError(`expected at least ${need} columns, found ${fields.length}`);
      const userId = fields[cols.user];
      const itemId = fields[cols.item];
      if (userId === '' || itemId === '') throw new RowError('empty user or item id');
      let value = NaN;
      if (cols.value >= 0 && cols.value < fields.length) {
        value = Number(fields[cols.value]);
        if (!Number.isFinite(value)) throw new RowError(`value ${JSON.stringify(fields[cols.value])} is not a number`);
      } else {
        hasValues = false;
      }
      if (o.minValue !== undefined && !(value >= o.minValue)) {
        filtered++;
        return;
      }
      u.push(users.add(userId));
      it.push(items.add(itemId));
      values.push(value);
    },
    header ? onHeader : undefined,
  );
  const interactions = new Interactions({
    users: Int32Array.from(u),
    items: Int32Array.from(it),
    values: hasValues && values.length ? Float32Array.from(values) : undefined,
    numUsers: users.size,
    numItems: items.size,
  });
  return { interactions, users, items, skipped, filtered };
}

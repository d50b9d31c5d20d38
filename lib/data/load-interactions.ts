/**
 * Loads interactions from text files into dense indices plus vocabularies: RecBole atomic files
 * (.inter, typed header `name:type`), TSV/CSV with or without a header, MovieLens `u.data`
 * (tab-separated) and `ratings.dat` (`::`-separated), and plain `user item [value]` lines (as in the
 * Amazon cross-domain pairs). Columns stream into typed arrays, so a 10M-row file costs about
 * 20 bytes a row on top of its vocabularies, never the text of the file. parseInteractions reads
 * the same formats from a string or bytes in memory, synchronously, through the same row code.
 */
import { basename } from 'node:path';

import { Interactions } from './interactions';
import { expectBoolean, expectOptions, rangeError, typeError } from '../core/validate';
import { float32Column, float64Column, int32Column } from './columns';
import { firstLineOf, headOf } from './lines';
import { RowError, firstLine, parseDelimited, readDelimited, type ReadOptions } from './read-delimited';
import { expectSource, sourceName, type SourceOptions } from './source';
import { Vocabulary } from './vocabulary';

export type InteractionsFormat = 'recbole' | 'tsv' | 'csv' | 'movielens' | 'whitespace';

export interface LoadInteractionsOptions {
  /**
   * 'recbole' (tab-separated, typed header; columns found by name), 'tsv' or 'csv' (columns by
   * index or, with header: true, by name), 'movielens' (`u.data`: tab-separated, `ratings.dat`:
   * `::`-separated; columns user, item, rating, timestamp), 'whitespace' (plain `user item [value]`).
   * Default: from the file name (.inter → recbole, .csv → csv, .tsv → tsv, u.data / u1.base /
   * ua.test and *.dat with `::` → movielens, else whitespace).
   */
  format?: InteractionsFormat;
  /** The first line is a header (tsv/csv/whitespace; recbole always has one, movielens never). Default false. */
  header?: boolean;
  /** Column (index, or name with a header) of the user id. Default 0 / 'user_id'. */
  user?: number | string;
  /** Column of the item id. Default 1 / 'item_id'. */
  item?: number | string;
  /** Column of a numeric value (rating), or null for none. Default: 2 when present / 'rating'. */
  value?: number | string | null;
  /**
   * Column of the time of each interaction, or null for none. Values are numbers (any unit, e.g.
   * Unix seconds) or ISO-8601 dates (read as Unix seconds). Default: the `timestamp` column when
   * the header has one (recbole, tsv/csv with header), column 3 for movielens, else none.
   */
  time?: number | string | null;
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
  /** Malformed lines skipped (skipMalformed). */
  skipped: number;
  /** Rows dropped by minValue. */
  filtered: number;
}

const FORMATS: readonly InteractionsFormat[] = ['recbole', 'tsv', 'csv', 'movielens', 'whitespace'];

/**
 * The format a file name implies, or 'dat' for a `.dat` file, which is MovieLens when its first
 * line has `::` (formatOfDat).
 */
function formatOf(path: string): InteractionsFormat | 'dat' {
  const name = basename(path);
  if (name.endsWith('.inter')) return 'recbole';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv')) return 'tsv';
  // MovieLens 100K ships u.data plus the fold files u1.base … u5.test, ua.base, ub.test.
  if (/^u[1-5ab]?\.(data|base|test)$/.test(name)) return 'movielens';
  if (name.endsWith('.dat')) return 'dat';
  return 'whitespace';
}

const formatOfDat = (firstLine: string): InteractionsFormat => (firstLine.includes('::') ? 'movielens' : 'whitespace');

/**
 * A time field: a finite number, or an ISO-8601 date / date-time (→ Unix seconds). Anything else
 * is a malformed row rather than a silent NaN that would corrupt time-ordered splits.
 */
export function parseTime(text: string): number {
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n)) return n;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new RowError(`time ${JSON.stringify(text)} is neither a number nor an ISO-8601 date`);
}

// A frozen vocabulary (e.g. evaluation data that must not invent rows) rejects the line, so the
// error names the file and line and skipMalformed can drop it.
function rowOf(vocabulary: Vocabulary, id: string, what: string): number {
  const row = vocabulary.row(id);
  if (row !== undefined) return row;
  if (vocabulary.isFrozen) throw new RowError(`unknown ${what} id ${JSON.stringify(id)} (the ${what}s vocabulary is frozen)`);
  return vocabulary.add(id);
}

/**
 * What loadInteractions and parseInteractions share once the format is known: the options checked,
 * the row and header callbacks that fill the columns, and the result built from them.
 */
function interactionsParser(o: Partial<LoadInteractionsOptions>, format: InteractionsFormat) {
  const header =
    format === 'recbole'
      ? true
      : format === 'movielens'
        ? false
        : o.header === undefined
          ? false
          : expectBoolean('options.header', o.header);
  const users = o.users ?? new Vocabulary();
  const items = o.items ?? new Vocabulary();
  if (!(users instanceof Vocabulary)) throw typeError('options.users', 'Vocabulary', users);
  if (!(items instanceof Vocabulary)) throw typeError('options.items', 'Vocabulary', items);
  if (o.minValue !== undefined && (typeof o.minValue !== 'number' || !Number.isFinite(o.minValue)))
    throw typeError('options.minValue', 'finite number', o.minValue);
  for (const key of ['user', 'item', 'value', 'time'] as const) {
    const c = o[key];
    if (c === undefined || c === null || typeof c === 'string') continue;
    if (typeof c !== 'number') throw typeError(`options.${key}`, 'column index or name', c);
    if (!Number.isInteger(c) || c < 0) throw rangeError(`options.${key}`, 'column index ≥ 0', c);
  }
  if (!header) {
    for (const key of ['user', 'item', 'value', 'time'] as const) {
      if (typeof o[key] === 'string') throw typeError(`options.${key}`, 'a column index (column names need header: true)', o[key]);
    }
  }

  // Column positions: by index, or resolved by name from the header.
  let cols = {
    user: (o.user as number | undefined) ?? 0,
    item: (o.item as number | undefined) ?? 1,
    value: o.value === null ? -1 : ((o.value as number | undefined) ?? 2),
    time: o.time === null ? -1 : ((o.time as number | undefined) ?? (format === 'movielens' ? 3 : -1)),
  };
  const onHeader = (fields: string[]) => {
    const names = fields.map((f) => f.split(':')[0]); // RecBole: name:type
    const resolve = (want: number | string | null | undefined, fallback: string, argument: string): number => {
      if (want === null) return -1;
      if (typeof want === 'number') return want;
      const at = names.indexOf(want ?? fallback);
      if (at < 0 && want !== undefined)
        throw new RowError(`no column ${JSON.stringify(want)} for ${argument} (columns: ${names.join(', ')})`);
      return at;
    };
    cols = {
      user: resolve(o.user, 'user_id', 'options.user'),
      item: resolve(o.item, 'item_id', 'options.item'),
      value: resolve(o.value, 'rating', 'options.value'),
      time: resolve(o.time, 'timestamp', 'options.time'),
    };
    if (cols.user < 0 || cols.item < 0)
      throw new RowError(`no user_id/item_id columns (columns: ${names.join(', ')}); pass options.user and options.item`);
  };

  const u = int32Column();
  const it = int32Column();
  const values = float32Column();
  const times = float64Column();
  let hasValues = true;
  let filtered = 0;
  const onRow = (fields: string[]) => {
    const need = Math.max(cols.user, cols.item, cols.time) + 1;
    if (fields.length < need) throw new RowError(`expected at least ${need} columns, found ${fields.length}`);
    const userId = fields[cols.user];
    const itemId = fields[cols.item];
    if (userId === '' || itemId === '') throw new RowError('empty user or item id');
    let value = NaN;
    if (cols.value >= 0 && cols.value < fields.length) {
      value = Number(fields[cols.value]);
      if (fields[cols.value].trim() === '' || !Number.isFinite(value))
        throw new RowError(`value ${JSON.stringify(fields[cols.value])} is not a number`);
      // Found by fuzzing: values are stored as float32, where 1e100 becomes Infinity.
      if (!Number.isFinite(Math.fround(value)))
        throw new RowError(`value ${JSON.stringify(fields[cols.value])} is outside the float32 range`);
    } else {
      hasValues = false;
    }
    const time = cols.time >= 0 ? parseTime(fields[cols.time]) : 0;
    if (o.minValue !== undefined && !(value >= o.minValue)) {
      filtered++;
      return;
    }
    u.push(rowOf(users, userId, 'user'));
    it.push(rowOf(items, itemId, 'item'));
    values.push(value);
    if (cols.time >= 0) times.push(time);
  };

  return {
    /** MovieLens files are read with the separator their first line uses. */
    readOptions(firstLine: string): ReadOptions {
      let delimiter = format === 'csv' ? ',' : format === 'whitespace' ? 'whitespace' : '\t';
      // Tabs when the file has them, so an empty field is an error instead of a shifted column.
      if (format === 'movielens') delimiter = firstLine.includes('::') ? '::' : firstLine.includes('\t') ? '\t' : 'whitespace';
      return { delimiter, header, skipMalformed: o.skipMalformed ?? false };
    },
    onRow,
    onHeader: header ? onHeader : undefined,
    result(skipped: number): LoadedInteractions {
      const interactions = new Interactions({
        users: u.view(),
        items: it.view(),
        values: hasValues && values.length ? values.view() : undefined,
        timestamps: cols.time >= 0 ? times.view() : undefined,
        numUsers: users.size,
        numItems: items.size,
      });
      return { interactions, users, items, skipped, filtered };
    },
  };
}

function checkFormat(format: unknown): void {
  if (format !== undefined && !FORMATS.includes(format as InteractionsFormat))
    throw rangeError('options.format', '"recbole", "tsv", "csv", "movielens" or "whitespace"', format);
}

export async function loadInteractions(path: string, options?: LoadInteractionsOptions): Promise<LoadedInteractions> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'file path', path);
  const o = expectOptions('options', options);
  checkFormat(o.format);
  let format = o.format ?? formatOf(path);
  if (format === 'dat') format = formatOfDat(await firstLine(path));
  const parser = interactionsParser(o, format);
  const read = parser.readOptions(format === 'movielens' ? await firstLine(path) : '');
  const { skipped } = await readDelimited(path, read, parser.onRow, parser.onHeader);
  return parser.result(skipped);
}

export interface ParseInteractionsOptions extends LoadInteractionsOptions, SourceOptions {}

/**
 * loadInteractions for text already in memory (a string, or UTF-8 bytes such as a Buffer):
 * synchronous, with the same formats, options, results and errors. options.name stands for the
 * file name, in messages and for the default format.
 */
export function parseInteractions(source: string | Uint8Array, options?: ParseInteractionsOptions): LoadedInteractions {
  const text = expectSource('source', source);
  const o = expectOptions('options', options);
  const name = sourceName(text, o.name);
  checkFormat(o.format);
  const first = () => firstLineOf(headOf(text));
  let format = o.format ?? formatOf(name);
  if (format === 'dat') format = formatOfDat(first());
  const parser = interactionsParser(o, format);
  const { skipped } = parseDelimited(text, name, parser.readOptions(format === 'movielens' ? first() : ''), parser.onRow, parser.onHeader);
  return parser.result(skipped);
}

/**
 * Loads interactions from text files into dense indices plus vocabularies: RecBole atomic files
 * (.inter, typed header `name:type`), TSV/CSV with or without a header, MovieLens `u.data`
 * (tab-separated) and `ratings.dat` (`::`-separated), and plain `user item [value]` lines (as in the
 * Amazon cross-domain pairs). Columns stream into typed arrays, so a 10M-row file costs about
 * 20 bytes a row on top of its vocabularies, never the text of the file. parseInteractions reads
 * the same formats from a string or bytes in memory, synchronously, through the same row code.
 */
import { basename } from 'node:path';

import { ArgumentRangeError } from '../core/errors';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { float32Column, float64Column, int32Column } from './columns';
import { chooseDelimiter, delimitedOptions, type DelimitedOptions } from './delimited-options';
import { COLUMN_NAMES, type ColumnOptions, type Columns, columnOptions, columnsByIndex, columnsByName } from './interaction-columns';
import { Interactions } from './interactions';
import { type Head, firstLineOf, headOf } from './lines';
import { RowError, parseDelimited, readDelimited, readHead, sampleRecords, type ReadOptions } from './read-delimited';
import { looksLikeHeader } from './sniff';
import { expectSource, sourceName, type SourceOptions } from './source';
import { Vocabulary } from './vocabulary';

export type InteractionsFormat = 'recbole' | 'tsv' | 'csv' | 'movielens' | 'whitespace';

export interface LoadInteractionsOptions extends DelimitedOptions, ColumnOptions {
  /**
   * 'recbole' (tab-separated, typed header; columns found by name), 'tsv' or 'csv' (a header or
   * not, columns by index or name), 'movielens' (`u.data`: tab-separated, `ratings.dat`:
   * `::`-separated; columns user, item, rating, timestamp), 'whitespace' (plain `user item [value]`).
   * Default: from the file name (.inter → recbole, .csv → csv, .tsv → tsv, u.data / u1.base /
   * ua.test and *.dat with `::` → movielens, else whitespace).
   */
  format?: InteractionsFormat;
  /**
   * The first record is a header: true, false, or 'auto' (detected from the first records; see
   * docs/api-data.md). recbole always has one, movielens never. Default: true when a column is
   * named, else 'auto' for tsv and csv, false for whitespace.
   */
  header?: boolean | 'auto';
  /**
   * Keep only rows whose value is ≥ this (e.g. 4 for "liked": ratings become implicit feedback);
   * dropped rows are counted in `filtered`. Every row must then have a numeric value. Default: keep all.
   */
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

/** Whether the first record is a header: fixed by the format, given, or (for csv and tsv) detected. */
function headerMode(format: InteractionsFormat, given: unknown, named: boolean): boolean | 'auto' {
  if (format === 'recbole') return true;
  if (format === 'movielens') return false;
  if (given !== undefined && given !== 'auto' && typeof given !== 'boolean')
    throw typeError('options.header', 'true, false or "auto"', given);
  const header = (given as boolean | 'auto' | undefined) ?? (format === 'whitespace' ? false : 'auto');
  // Column names only mean something in a header.
  return header === 'auto' && named ? true : header;
}

/**
 * What loadInteractions and parseInteractions share once the format is known: the options checked,
 * the read options chosen from the head of the source, the row and header callbacks that fill the
 * columns, and the result built from them.
 */
function interactionsParser(o: Partial<LoadInteractionsOptions>, format: InteractionsFormat) {
  const choice = columnOptions(o);
  const delimited = delimitedOptions(o, format === 'csv');
  let header = headerMode(format, o.header, choice.named);
  const users = o.users ?? new Vocabulary();
  const items = o.items ?? new Vocabulary();
  if (!(users instanceof Vocabulary)) throw typeError('options.users', 'Vocabulary', users);
  if (!(items instanceof Vocabulary)) throw typeError('options.items', 'Vocabulary', items);
  const minValue = o.minValue;
  if (minValue !== undefined && (typeof minValue !== 'number' || !Number.isFinite(minValue)))
    throw typeError('options.minValue', 'finite number', minValue);
  if (minValue !== undefined && choice.want.value === null) {
    throw new ArgumentRangeError(
      `options.minValue needs a value column but ${choice.argument.value} is null: drop one of them`,
      'options.minValue',
      'ERR_INVALID_ARG_VALUE',
    );
  }
  const defaultTime = format === 'movielens' ? 3 : -1;
  // Checked now, so an argument error comes before any reading; the header may still rename them.
  let cols: Columns = header === false ? columnsByIndex(choice, defaultTime) : { user: 0, item: 1, value: 2, time: -1 };

  const u = int32Column();
  const it = int32Column();
  const values = float32Column();
  const times = float64Column();
  let hasValues = true;
  let filtered = 0;
  // Columns every row must have: a row without the value column only lacks a value, unless minValue needs it.
  const needed = (c: Columns) => Math.max(c.user, c.item, c.time, minValue !== undefined ? c.value : -1) + 1;
  let need = 0;
  const onHeader = (fields: string[]) => {
    // RecBole names columns `name:type`; a CSV or TSV may carry the same types.
    const names = fields.map((f) => (format === 'recbole' ? f.split(':')[0] : f.replace(/:(token|token_seq|float|float_seq)$/, '')));
    cols = columnsByName(choice, names, minValue !== undefined);
    need = needed(cols);
  };
  const onRow = (fields: string[]) => {
    if (fields.length < need) throw new RowError(`expected at least ${need} columns, found ${fields.length}`);
    const userId = fields[cols.user];
    const itemId = fields[cols.item];
    if (userId === '' || itemId === '') throw new RowError('empty user or item id');
    let value = NaN;
    if (cols.value >= 0 && cols.value < fields.length) {
      const text = fields[cols.value];
      value = Number(text);
      if (text.trim() === '' || !Number.isFinite(value)) throw new RowError(`value ${JSON.stringify(text)} is not a number`);
      // Found by fuzzing: values are stored as float32, where 1e100 becomes Infinity.
      if (!Number.isFinite(Math.fround(value))) throw new RowError(`value ${JSON.stringify(text)} is outside the float32 range`);
    } else {
      hasValues = false;
    }
    const time = cols.time >= 0 ? parseTime(fields[cols.time]) : 0;
    if (minValue !== undefined && !(value >= minValue)) {
      filtered++;
      return;
    }
    u.push(rowOf(users, userId, 'user'));
    it.push(rowOf(items, itemId, 'item'));
    values.push(value);
    if (cols.time >= 0) times.push(time);
  };

  return {
    /** Whether read() needs the head of the source (for the delimiter, the header or MovieLens' separator). */
    needsHead: format === 'movielens' || header === 'auto' || (format === 'csv' && delimited.delimiter === undefined),
    /** The read options, from the options and the head of the source (null when needsHead is false). */
    read(head: Head | null): ReadOptions {
      let formatDelimiter = format === 'whitespace' ? 'whitespace' : format === 'csv' ? ',' : '\t';
      // Tabs when the file has them, so an empty field is an error instead of a shifted column.
      if (format === 'movielens') {
        const first = firstLineOf(head?.text ?? '');
        formatDelimiter = first.includes('::') ? '::' : first.includes('\t') ? '\t' : 'whitespace';
      }
      const delimiter = chooseDelimiter(delimited, formatDelimiter, format === 'csv' ? head : null);
      if (header === 'auto') {
        const sample = sampleRecords(head ?? { text: '', complete: true }, { delimiter, quoted: delimited.quoted });
        header = looksLikeHeader(sample, COLUMN_NAMES);
        if (!header) cols = columnsByIndex(choice, defaultTime);
      }
      if (!header) need = needed(cols);
      return {
        delimiter,
        header,
        skipMalformed: o.skipMalformed ?? false,
        quoted: delimited.quoted,
        maxRecordLength: delimited.maxRecordLength,
      };
    },
    onRow,
    onHeader,
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
  let head: Head | null = null;
  if (format === 'dat') {
    head = await readHead(path);
    format = formatOfDat(firstLineOf(head.text));
  }
  const parser = interactionsParser(o, format);
  if (parser.needsHead) head ??= await readHead(path);
  const { skipped } = await readDelimited(path, parser.read(head), parser.onRow, parser.onHeader);
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
  let format = o.format ?? formatOf(name);
  const head = headOf(text);
  if (format === 'dat') format = formatOfDat(firstLineOf(head.text));
  const parser = interactionsParser(o, format);
  const { skipped } = parseDelimited(text, name, parser.read(head), parser.onRow, parser.onHeader);
  return parser.result(skipped);
}

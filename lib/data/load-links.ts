/**
 * Reads a link table: pairs of external ids that denote the same entity in two domains (one pair
 * a line), for Vocabulary.link; from a file (loadLinks) or from text in memory (parseLinks).
 */
import { expectBoolean, expectOptions, rangeError, typeError } from '../core/validate';
import { chooseDelimiter, delimitedOptions, type DelimitedOptions } from './delimited-options';
import { type Head, headOf } from './lines';
import { RowError, parseDelimited, readDelimited, readHead, type ReadOptions } from './read-delimited';
import { expectSource, sourceName, type SourceOptions } from './source';

export interface LoadLinksOptions extends DelimitedOptions {
  /** 'recbole' (tab-separated, typed header), 'tsv', 'csv' or 'whitespace'. Default: .link → recbole, .csv → csv, .tsv → tsv, else whitespace. */
  format?: 'recbole' | 'tsv' | 'csv' | 'whitespace';
  /** The first line is a header (recbole always). Default false. */
  header?: boolean;
  /** Columns of the two ids (index, or name with a header). Default 0 and 1. */
  a?: number | string;
  b?: number | string;
  /** Count and skip malformed lines instead of failing. Default false. */
  skipMalformed?: boolean;
}

export interface LoadedLinks {
  pairs: Array<[string, string]>;
  skipped: number;
}

export async function loadLinks(path: string, options?: LoadLinksOptions): Promise<LoadedLinks> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'file path', path);
  const parser = linksParser(path, expectOptions('options', options));
  const head = parser.needsHead ? await readHead(path) : null;
  const { skipped } = await readDelimited(path, parser.read(head), parser.onRow, parser.onHeader);
  return { pairs: parser.pairs, skipped };
}

export interface ParseLinksOptions extends LoadLinksOptions, SourceOptions {}

/**
 * loadLinks for text already in memory (a string, or UTF-8 bytes): synchronous, same options,
 * results and errors; options.name stands for the file name (messages, default format).
 */
export function parseLinks(source: string | Uint8Array, options?: ParseLinksOptions): LoadedLinks {
  const text = expectSource('source', source);
  const o = expectOptions('options', options);
  const name = sourceName(text, o.name);
  const parser = linksParser(name, o);
  const { skipped } = parseDelimited(text, name, parser.read(parser.needsHead ? headOf(text) : null), parser.onRow, parser.onHeader);
  return { pairs: parser.pairs, skipped };
}

function linksParser(path: string, o: Partial<LoadLinksOptions>) {
  const format =
    o.format ?? (path.endsWith('.link') ? 'recbole' : path.endsWith('.csv') ? 'csv' : path.endsWith('.tsv') ? 'tsv' : 'whitespace');
  if (!['recbole', 'tsv', 'csv', 'whitespace'].includes(format))
    throw rangeError('options.format', '"recbole", "tsv", "csv" or "whitespace"', format);
  const header = format === 'recbole' ? true : o.header === undefined ? false : expectBoolean('options.header', o.header);
  for (const key of ['a', 'b'] as const) {
    const c = o[key];
    if (c === undefined || (typeof c === 'string' && header)) continue;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0)
      throw typeError(`options.${key}`, header ? 'column index or name' : 'column index (names need a header)', c);
  }
  let ca = typeof o.a === 'number' ? o.a : 0;
  let cb = typeof o.b === 'number' ? o.b : 1;
  const pairs: Array<[string, string]> = [];
  const delimited = delimitedOptions(o, format === 'csv');
  const read = (head: Head | null): ReadOptions => ({
    delimiter: chooseDelimiter(delimited, format === 'csv' ? ',' : format === 'whitespace' ? 'whitespace' : '\t', head),
    header,
    skipMalformed: o.skipMalformed ?? false,
    quoted: delimited.quoted,
    maxRecordLength: delimited.maxRecordLength,
  });
  const onRow = (fields: string[]) => {
    const need = Math.max(ca, cb) + 1;
    if (fields.length < need) throw new RowError(`expected at least ${need} columns, found ${fields.length}`);
    if (fields[ca] === '' || fields[cb] === '') throw new RowError('empty id');
    pairs.push([fields[ca], fields[cb]]);
  };
  const onHeader = (names: string[]) => {
    const plain = names.map((n) => n.split(':')[0]);
    const find = (want: number | string | undefined, fallback: number, arg: string) => {
      if (typeof want !== 'string') return want ?? fallback;
      const at = plain.indexOf(want);
      if (at < 0) throw new RowError(`no column ${JSON.stringify(want)} for ${arg} (columns: ${plain.join(', ')})`);
      return at;
    };
    ca = find(o.a, 0, 'options.a');
    cb = find(o.b, 1, 'options.b');
  };
  /** A csv file without an explicit delimiter is sniffed from its head. */
  const needsHead = format === 'csv' && delimited.delimiter === undefined;
  return { needsHead, read, onRow, onHeader, pairs };
}

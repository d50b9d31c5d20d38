/**
 * Loads side features from RecBole atomic files (.item / .user with a typed header `name:type`,
 * types token, token_seq, float, float_seq) or from TSV/CSV with a header, aligned to the rows of an
 * entity Vocabulary (usually the users or items that loadInteractions returned). parseFeatures
 * does the same for text in memory.
 */
import { basename } from 'node:path';

import { LimitExceededError, RecbridgeError } from '../core/errors';
import { expectBoolean, expectOptions, expectPositiveInteger, rangeError, typeError } from '../core/validate';
import { float32Column, int32Column } from './columns';
import { chooseDelimiter, delimitedOptions, type DelimitedOptions } from './delimited-options';
import { type Head, headOf } from './lines';
import { RowError, parseDelimited, readDelimited, readHead, type ReadOptions } from './read-delimited';
import { SideFeatures, type FeatureInit } from './side-features';
import { expectSource, sourceName, type SourceOptions } from './source';
import { Vocabulary } from './vocabulary';

/** RecBole's field types: one token, space-separated tokens, one float, space-separated floats. */
export type FeatureType = 'token' | 'token_seq' | 'float' | 'float_seq';

export interface LoadFeaturesOptions extends DelimitedOptions {
  /** The entity rows to align to. Required. */
  entities: Vocabulary;
  /**
   * Most columns the header may have. Each loaded column keeps its own builders, so a header of
   * 100,000 columns (400 KB) would cost hundreds of MB before any row is read. Default 1024.
   */
  maxColumns?: number;
  /** Column of the entity id (index or name). Default: `item_id` in .item, `user_id` in .user files, else column 0. */
  id?: number | string;
  /** 'recbole' (tab-separated, typed header), 'tsv' or 'csv' (with a header). Default: .item/.user → recbole, .csv → csv, else tsv. */
  format?: 'recbole' | 'tsv' | 'csv';
  /**
   * Which columns to load: names (types from the header; untyped columns are token), or names →
   * types (overriding the header). Default: every column but the id.
   */
  fields?: readonly string[] | Readonly<Record<string, FeatureType>>;
  /** Separator inside token_seq / float_seq values. Default ' ' (RecBole's). */
  separator?: string;
  /**
   * Rows whose id is not in `entities`: 'skip' (default; counted in `unknown`), 'error', or 'add'
   * (the entity vocabulary grows: a frozen one makes it an error).
   */
  unknownIds?: 'skip' | 'error' | 'add';
  /**
   * Read an empty or NaN float (or float_seq element) as 0 and count it in `filled`, instead of
   * failing the line. An empty float_seq becomes a zero vector marked not present. Default false.
   */
  fillMissing?: boolean;
  /** Count and skip malformed lines instead of failing. Default false. */
  skipMalformed?: boolean;
}

export interface LoadedFeatures {
  features: SideFeatures;
  /** Entities of the vocabulary with no line in the file (they read as missing: no token, empty bag, zeros). */
  missing: number;
  /** Lines skipped because their id was not in the vocabulary (unknownIds: 'skip'). */
  unknown: number;
  /** Malformed lines skipped (skipMalformed). */
  skipped: number;
  /** Empty or NaN dense values read as 0 (fillMissing), counted per entity and field. */
  filled: number;
}

const TYPES: readonly FeatureType[] = ['token', 'token_seq', 'float', 'float_seq'];

interface Builder {
  name: string;
  column: number;
  type: FeatureType;
  vocabulary: Vocabulary;
  codes: number[]; // token: by entity row, -1 = missing
  rows: ReturnType<typeof int32Column>; // token_seq, float, float_seq: the entity row of each line
  lengths: ReturnType<typeof int32Column>; // token_seq: tokens per line
  tokens: ReturnType<typeof int32Column>;
  values: ReturnType<typeof float32Column>; // float, float_seq: dim values per line
  present: number[]; // float/float_seq: 1 if the line had a value
  dim: number; // -1 until the first non-empty float_seq
}

export async function loadFeatures(path: string, options: LoadFeaturesOptions): Promise<LoadedFeatures> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'file path', path);
  const parser = featuresParser(path, expectOptions('options', options));
  const head = parser.needsHead ? await readHead(path) : null;
  const { skipped } = await readDelimited(path, parser.read(head), parser.onRow, parser.onHeader);
  return parser.result(skipped);
}

export interface ParseFeaturesOptions extends LoadFeaturesOptions, SourceOptions {}

/**
 * loadFeatures for text already in memory (a string, or UTF-8 bytes such as a Buffer):
 * synchronous, with the same formats, options, results and errors. options.name stands for the
 * file name, in messages and for the defaults that depend on it (format, id column).
 */
export function parseFeatures(source: string | Uint8Array, options: ParseFeaturesOptions): LoadedFeatures {
  const text = expectSource('source', source);
  const o = expectOptions('options', options);
  const name = sourceName(text, o.name);
  const parser = featuresParser(name, o);
  const { skipped } = parseDelimited(text, name, parser.read(parser.needsHead ? headOf(text) : null), parser.onRow, parser.onHeader);
  return parser.result(skipped);
}

/**
 * What loadFeatures and parseFeatures share: the options checked against the source's name (the
 * format and default id column follow it), header and row callbacks, and the result.
 */
function featuresParser(path: string, o: Partial<LoadFeaturesOptions>) {
  const entities = o.entities;
  if (!(entities instanceof Vocabulary)) throw typeError('options.entities', 'Vocabulary', entities);
  const name = basename(path);
  const format = o.format ?? (/\.(item|user)$/.test(name) ? 'recbole' : name.endsWith('.csv') ? 'csv' : 'tsv');
  if (!['recbole', 'tsv', 'csv'].includes(format)) throw rangeError('options.format', '"recbole", "tsv" or "csv"', format);
  const delimited = delimitedOptions(o, format === 'csv');
  const unknownIds = o.unknownIds ?? 'skip';
  if (!['skip', 'error', 'add'].includes(unknownIds)) throw rangeError('options.unknownIds', '"skip", "error" or "add"', unknownIds);
  const separator = o.separator ?? ' ';
  if (typeof separator !== 'string' || separator === '') throw typeError('options.separator', 'non-empty string', separator);
  const fillMissing = o.fillMissing === undefined ? false : expectBoolean('options.fillMissing', o.fillMissing);
  const maxColumns = o.maxColumns === undefined ? 1024 : expectPositiveInteger('options.maxColumns', o.maxColumns);
  if (o.id !== undefined && typeof o.id !== 'string' && !(typeof o.id === 'number' && Number.isInteger(o.id) && o.id >= 0))
    throw typeError('options.id', 'column index or name', o.id);
  let wanted: Map<string, FeatureType | undefined> | null = null;
  if (o.fields !== undefined) {
    wanted = new Map();
    if (Array.isArray(o.fields)) {
      o.fields.forEach((f, i) => {
        if (typeof f !== 'string') throw typeError(`options.fields[${i}]`, 'column name', f);
        wanted!.set(f, undefined);
      });
    } else if (o.fields !== null && typeof o.fields === 'object') {
      for (const [f, t] of Object.entries(o.fields)) {
        if (!TYPES.includes(t as FeatureType)) throw rangeError(`options.fields.${f}`, '"token", "token_seq", "float" or "float_seq"', t);
        wanted.set(f, t as FeatureType);
      }
    } else {
      throw typeError('options.fields', 'array of column names or object of name → type', o.fields);
    }
  }

  let idColumn = -1;
  let builders: Builder[] = [];
  let width = 0;
  const onHeader = (header: string[]) => {
    if (header.length > maxColumns) throw new LimitExceededError(path, 'maxColumns', maxColumns, `its header has ${header.length} columns`);
    width = header.length;
    const cols = header.map((h) => {
      const at = h.lastIndexOf(':');
      const type = at > 0 ? h.slice(at + 1) : '';
      if (at > 0 && TYPES.includes(type as FeatureType)) return { name: h.slice(0, at), type: type as FeatureType };
      if (format === 'recbole')
        throw new RowError(`column ${JSON.stringify(h)} has no RecBole type (name:token, token_seq, float or float_seq)`);
      return { name: h, type: 'token' as FeatureType };
    });
    const names = cols.map((c) => c.name);
    // Found by fuzzing: these used to surface as argument errors from SideFeatures.addField.
    const seen = new Set<string>();
    names.forEach((n, k) => {
      if (n === '') throw new RowError(`column ${k + 1} has an empty name`);
      if (seen.has(n)) throw new RowError(`column name ${JSON.stringify(n)} appears twice`);
      seen.add(n);
    });
    const fallbackId = name.endsWith('.user') ? 'user_id' : name.endsWith('.item') ? 'item_id' : null;
    if (typeof o.id === 'number') idColumn = o.id;
    else if (typeof o.id === 'string') idColumn = names.indexOf(o.id);
    else idColumn = fallbackId && names.includes(fallbackId) ? names.indexOf(fallbackId) : 0;
    if (idColumn < 0 || idColumn >= names.length)
      throw new RowError(`no id column ${JSON.stringify(o.id)} for options.id (columns: ${names.join(', ')})`);
    for (const f of wanted?.keys() ?? []) {
      if (!names.includes(f)) throw new RowError(`no column ${JSON.stringify(f)} for options.fields (columns: ${names.join(', ')})`);
    }
    builders = cols.flatMap((c, column) => {
      if (column === idColumn || (wanted && !wanted.has(c.name))) return [];
      return [
        {
          name: c.name,
          column,
          type: wanted?.get(c.name) ?? c.type,
          vocabulary: new Vocabulary(),
          codes: [],
          rows: int32Column(),
          lengths: int32Column(),
          tokens: int32Column(),
          values: float32Column(),
          present: [],
          dim: -1,
        } satisfies Builder,
      ];
    });
  };

  const lineOf: number[] = []; // entity row → line that set it (duplicate detection)
  let unknown = 0;
  let filled = 0;
  const number = (text: string, b: Builder): number => {
    const x = text.trim() === '' ? NaN : Number(text);
    // Found by fuzzing: dense values are float32, where 1e39 becomes Infinity.
    if (Number.isFinite(x) && !Number.isFinite(Math.fround(x)))
      throw new RowError(`field ${b.name}: ${JSON.stringify(text)} is outside the float32 range`);
    if (Number.isFinite(x)) return x;
    if (text.trim() !== '' && !/^[+-]?nan$/i.test(text.trim()))
      throw new RowError(`field ${b.name}: ${JSON.stringify(text)} is not a number`);
    if (!fillMissing) throw new RowError(`field ${b.name}: empty or NaN value (pass fillMissing to read it as 0)`);
    return NaN;
  };
  const onRow = (fields: string[], lineNo: number) => {
    if (fields.length !== width) throw new RowError(`expected ${width} columns, found ${fields.length}`);
    const id = fields[idColumn];
    if (id === '') throw new RowError('empty id');
    let row = entities.row(id);
    if (row === undefined) {
      if (unknownIds === 'skip') return void unknown++;
      if (unknownIds === 'error') throw new RowError(`id ${JSON.stringify(id)} is not in options.entities`);
      if (entities.isFrozen) throw new RowError(`id ${JSON.stringify(id)} is not in options.entities, which is frozen`);
      row = entities.size; // added below, once the whole line has parsed
    }
    if (lineOf[row] !== undefined) throw new RowError(`duplicate id ${JSON.stringify(id)} (first on line ${lineOf[row]})`);
    // Parse every field before storing any, so a rejected line leaves no partial entity behind.
    const parsed = builders.map((b) => {
      const text = fields[b.column];
      if (b.type === 'token') return text;
      if (b.type === 'token_seq') return text.split(separator).filter((t) => t !== '');
      if (b.type === 'float') return [number(text, b)];
      const parts = text.split(separator).filter((t) => t !== '');
      if (parts.length === 0) {
        if (!fillMissing) throw new RowError(`field ${b.name}: empty value (pass fillMissing to read it as zeros)`);
        return null;
      }
      if (b.dim >= 0 && parts.length !== b.dim)
        throw new RowError(`field ${b.name}: ${parts.length} values, expected ${b.dim} (as on earlier lines)`);
      return parts.map((p) => number(p, b));
    });
    if (row === entities.size) entities.add(id);
    lineOf[row] = lineNo;
    builders.forEach((b, k) => {
      const p = parsed[k];
      if (b.type === 'token') {
        while (b.codes.length <= row!) b.codes.push(-1);
        b.codes[row!] = p === '' ? -1 : b.vocabulary.add(p as string);
      } else if (b.type === 'token_seq') {
        const list = p as string[];
        b.rows.push(row!);
        b.lengths.push(list.length);
        for (const t of list) b.tokens.push(b.vocabulary.add(t));
      } else {
        const list = p as number[] | null;
        if (list && b.dim < 0) b.dim = list.length;
        const nan = list === null || list.some((x) => Number.isNaN(x));
        if (nan) filled++;
        if (list === null && b.dim < 0) return; // dim unknown yet; the row stays zeros, not present
        b.rows.push(row!);
        b.present.push(list === null ? 0 : 1);
        for (let d = 0; d < b.dim; d++) b.values.push(list === null || Number.isNaN(list[d]) ? 0 : list[d]);
      }
    });
  };

  const result = (skipped: number): LoadedFeatures => {
    const n = entities.size;
    const inits: Record<string, FeatureInit> = {};
    for (const b of builders) {
      // Found by fuzzing: without one value the width is unknown, and a zero-width field is not one.
      if (b.type === 'float_seq' && b.dim <= 0)
        throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}: field ${b.name}: no line gives it a value, so its width is unknown`);
      inits[b.name] = finish(b, n);
    }
    const features = SideFeatures.fromArrays(entities, inits);
    let seen = 0;
    for (let e = 0; e < n; e++) if (lineOf[e] !== undefined) seen++;
    return { features, missing: n - seen, unknown, skipped, filled };
  };
  return {
    /** A csv file without an explicit delimiter is sniffed from its head. */
    needsHead: format === 'csv' && delimited.delimiter === undefined,
    read: (head: Head | null): ReadOptions => ({
      delimiter: chooseDelimiter(delimited, format === 'csv' ? ',' : '\t', head),
      header: true,
      skipMalformed: o.skipMalformed ?? false,
      quoted: delimited.quoted,
      maxRecordLength: delimited.maxRecordLength,
    }),
    onRow,
    onHeader,
    result,
  };
}

/** A builder's lines, scattered to entity rows. */
function finish(b: Builder, n: number): FeatureInit {
  if (b.type === 'token') return { kind: 'categorical', vocabulary: b.vocabulary, codes: Int32Array.from(b.codes) };
  const rows = b.rows.view();
  if (b.type === 'token_seq') {
    const lengths = b.lengths.view();
    const offsets = new Int32Array(n + 1);
    rows.forEach((r, k) => (offsets[r + 1] = lengths[k]));
    for (let e = 0; e < n; e++) offsets[e + 1] += offsets[e];
    const indices = new Int32Array(offsets[n]);
    const tokens = b.tokens.view();
    let at = 0;
    rows.forEach((r, k) => {
      indices.set(tokens.subarray(at, at + lengths[k]), offsets[r]);
      at += lengths[k];
    });
    return { kind: 'multi', vocabulary: b.vocabulary, offsets, indices };
  }
  const dim = Math.max(b.dim, b.type === 'float' ? 1 : 0);
  const values = new Float32Array(n * dim);
  const present = new Uint8Array(n);
  const src = b.values.view();
  rows.forEach((r, k) => {
    values.set(src.subarray(k * dim, (k + 1) * dim), r * dim);
    present[r] = b.present[k];
  });
  return { kind: 'dense', dim, values, present };
}

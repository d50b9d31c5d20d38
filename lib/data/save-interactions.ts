/**
 * Writes interactions with their external ids, so other tools (RecBole, pandas, another recbridge
 * run) can use exactly the same data or split. Files are written in chunks to a temporary file in
 * the same folder, synced, then renamed over the target: a reader never sees half a file.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { writeFileAtomic } from '../core/atomic-write';

import { Interactions } from './interactions';
import { expectBoolean, expectOptions, lengthError, rangeError, typeError } from '../core/validate';
import { Vocabulary } from './vocabulary';

export type SaveFormat = 'tsv' | 'csv' | 'recbole';

export interface SaveInteractionsOptions {
  /** External user ids (row → id). Default: the row number as the id. */
  users?: Vocabulary;
  /** External item ids. Default: the row number. */
  items?: Vocabulary;
  /** Default: from the file name (.inter → recbole, .csv → csv, else tsv). */
  format?: SaveFormat;
  /**
   * Write a header line (tsv/csv; recbole always has its typed one). Columns are named user_id,
   * item_id, rating, timestamp, the names loadInteractions looks for. Default true.
   */
  header?: boolean;
}

const CHUNK = 1 << 20;

// Shortest decimal that reads back as the same float32: "4" for ratings, not "4.000000".
function float32Text(x: number): string {
  if (Number.isInteger(x)) return String(x);
  for (let p = 1; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

/**
 * Ids as they go into the file: csv quotes an id holding a comma, a quote or a line break (RFC 4180,
 * which loadInteractions reads back); tsv and RecBole files have no quoting, so such an id is refused.
 */
function idsOf(argument: string, vocabulary: Vocabulary | undefined, rows: number, delimiter: string, quote: boolean): string[] {
  if (vocabulary === undefined) return Array.from({ length: rows }, (_, i) => String(i));
  if (!(vocabulary instanceof Vocabulary)) throw typeError(argument, 'Vocabulary', vocabulary);
  if (vocabulary.size < rows) throw lengthError(argument, `a vocabulary with at least ${rows} ids (one per row)`, vocabulary.size);
  return vocabulary.toArray().map((id, row) => {
    const special = id.includes(delimiter) || /[\r\n"]/.test(id);
    if (quote && id !== '') return special ? `"${id.replace(/"/g, '""')}"` : id;
    if (id === '' || id.includes(delimiter) || /[\r\n]/.test(id)) {
      throw rangeError(`${argument} (row ${row})`, `ids without ${JSON.stringify(delimiter)} or line breaks, and not empty`, id);
    }
    return id;
  });
}

/** Writes interactions (ids, value when present, time when present); returns the number of rows. */
export async function saveInteractions(path: string, interactions: Interactions, options?: SaveInteractionsOptions): Promise<number> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'file path', path);
  if (!(interactions instanceof Interactions)) throw typeError('interactions', 'Interactions', interactions);
  const o = expectOptions('options', options);
  const format = o.format ?? (path.endsWith('.inter') ? 'recbole' : path.endsWith('.csv') ? 'csv' : 'tsv');
  if (!['tsv', 'csv', 'recbole'].includes(format)) throw rangeError('options.format', '"tsv", "csv" or "recbole"', format);
  const header = format === 'recbole' ? true : o.header === undefined ? true : expectBoolean('options.header', o.header);
  const d = format === 'csv' ? ',' : '\t';
  const userIds = idsOf('options.users', o.users, interactions.numUsers, d, format === 'csv');
  const itemIds = idsOf('options.items', o.items, interactions.numItems, d, format === 'csv');
  const { users, items, values, timestamps } = interactions;
  const columns = [
    ['user_id', 'token'],
    ['item_id', 'token'],
    ...(values ? [['rating', 'float']] : []),
    ...(timestamps ? [['timestamp', 'float']] : []),
  ];
  try {
    await writeFileAtomic(path, async (sink) => {
      const write = (text: string) => sink.write(Buffer.from(text, 'utf8'));
      let chunk = header ? `${columns.map(([name, type]) => (format === 'recbole' ? `${name}:${type}` : name)).join(d)}\n` : '';
      for (let i = 0; i < interactions.size; i++) {
        chunk += userIds[users[i]] + d + itemIds[items[i]];
        if (values) chunk += d + float32Text(values[i]);
        if (timestamps) chunk += d + String(timestamps[i]);
        chunk += '\n';
        if (chunk.length >= CHUNK) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
    });
  } catch (err) {
    // The system's error (ENOENT, EACCES, ENOSPC…) already names the path; say what was being written.
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('E') && !e.code.startsWith('ERR_')) e.message = `saveInteractions: ${e.message}`;
    throw err;
  }
  return interactions.size;
}

export interface SplitParts {
  train: Interactions;
  validation?: Interactions;
  test: Interactions;
}

/**
 * Writes a split as one file per part into dir (created when missing): recbole →
 * `<name>.train.inter`, `<name>.valid.inter`, `<name>.test.inter` (RecBole's benchmark file names,
 * name = the folder's name); tsv/csv → `train.tsv`, `validation.tsv`, `test.tsv`. Returns the paths.
 */
export async function saveSplit(
  dir: string,
  parts: SplitParts,
  vocabularies?: { users?: Vocabulary; items?: Vocabulary },
  format: SaveFormat | { format?: SaveFormat; name?: string } = 'tsv',
): Promise<{ train: string; validation?: string; test: string }> {
  if (typeof dir !== 'string' || dir === '') throw typeError('dir', 'folder path', dir);
  const p = expectOptions('parts', parts);
  if (!(p.train instanceof Interactions)) throw typeError('parts.train', 'Interactions', p.train);
  if (!(p.test instanceof Interactions)) throw typeError('parts.test', 'Interactions', p.test);
  if (p.validation !== undefined && !(p.validation instanceof Interactions))
    throw typeError('parts.validation', 'Interactions', p.validation);
  const v = expectOptions('vocabularies', vocabularies);
  const f = typeof format === 'string' ? { format } : expectOptions('format', format);
  const fmt = f.format ?? 'tsv';
  if (!['tsv', 'csv', 'recbole'].includes(fmt)) throw rangeError('format', '"tsv", "csv" or "recbole"', fmt);
  const name = f.name ?? basename(dir);
  const fileOf = (part: 'train' | 'validation' | 'test') =>
    join(dir, fmt === 'recbole' ? `${name}.${part === 'validation' ? 'valid' : part}.inter` : `${part}.${fmt}`);
  await mkdir(dir, { recursive: true });
  const out: { train: string; validation?: string; test: string } = { train: fileOf('train'), test: fileOf('test') };
  if (p.validation) out.validation = fileOf('validation');
  for (const part of ['train', 'validation', 'test'] as const) {
    const data = p[part];
    if (data) await saveInteractions(out[part]!, data, { users: v.users, items: v.items, format: fmt });
  }
  return out;
}

/**
 * Item (or user) vectors for a vector database: JSON Lines (`{"id": …, "vector": […]}` per line) or
 * CSV (`id,v0,…`), streamed in chunks so a 1M-row table never becomes one giant string, and written
 * atomically. Numbers are the shortest decimals that read back as the same float32.
 */
import type { Vocabulary } from '../data/vocabulary';
import { EmbeddingTable } from '../core/table';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { writeFileAtomic } from '../core/atomic-write';

export interface ExportVectorsOptions {
  /** 'jsonl' or 'csv'. Default: from the extension (.csv → csv, anything else → jsonl). */
  format?: 'jsonl' | 'csv';
  /** Row ids (a Vocabulary or an array, one per row). Default: the row index. */
  ids?: Vocabulary | readonly string[];
  /** Name of the vector field in JSON Lines. Default "vector". */
  vectorField?: string;
}

/** Shortest decimal that parses back to exactly this float32 (≤ 9 significant digits). */
export function formatFloat32(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // A normal float32 has ~7.2 significant digits, so a ≤ 6-digit decimal that round-trips is found
  // at precision 6 already; start there instead of at 1. Subnormals have fewer digits: start at 1.
  for (let p = Math.abs(x) < 1.1754943508222875e-38 ? 1 : 6; p < 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return String(s);
  }
  return String(Number(x.toPrecision(9)));
}

/** A CSV field, quoted (RFC 4180) only when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function exportVectors(
  path: string,
  table: EmbeddingTable,
  options?: ExportVectorsOptions,
): Promise<{ rows: number; bytes: number }> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  if (!(table instanceof EmbeddingTable)) throw typeError('table', 'EmbeddingTable', table);
  table.checkAttached();
  const o = expectOptions('options', options);
  const format = o.format ?? (path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (format !== 'jsonl' && format !== 'csv') throw rangeError('options.format', '"jsonl" or "csv"', format);
  const field = o.vectorField ?? 'vector';
  if (typeof field !== 'string' || field === '' || field === 'id')
    throw typeError('options.vectorField', 'a non-empty name other than "id"', field);
  let ids: readonly string[] | null = null;
  if (o.ids !== undefined) {
    ids = Array.isArray(o.ids)
      ? (o.ids as string[])
      : typeof (o.ids as Vocabulary)?.toArray === 'function'
        ? (o.ids as Vocabulary).toArray()
        : null;
    if (!ids) throw typeError('options.ids', 'Vocabulary or array of ids', o.ids);
    if (ids.length !== table.rows) throw rangeError('options.ids', `one id per row (${table.rows})`, `${ids.length} ids`);
  }
  const { rows, dim, data } = table;
  const fieldJson = JSON.stringify(field);
  const bytes = await writeFileAtomic(path, async (sink) => {
    let chunk = format === 'csv' ? `id,${Array.from({ length: dim }, (_, c) => `v${c}`).join(',')}\n` : '';
    for (let r = 0; r < rows; r++) {
      const values: string[] = new Array(dim);
      for (let c = 0; c < dim; c++) {
        const x = data[r * dim + c];
        if (!Number.isFinite(x)) throw rangeError(`table row ${r}`, 'finite values (vector databases reject NaN and Infinity)', x);
        values[c] = formatFloat32(x);
      }
      const id = ids ? ids[r] : String(r);
      chunk +=
        format === 'csv'
          ? `${csvField(id)},${values.join(',')}\n`
          : `{"id":${ids ? JSON.stringify(id) : id},${fieldJson}:[${values.join(',')}]}\n`;
      if (chunk.length >= 1 << 20) {
        await sink.write(Buffer.from(chunk, 'utf8'));
        chunk = '';
      }
    }
    if (chunk) await sink.write(Buffer.from(chunk, 'utf8'));
  });
  return { rows, bytes };
}

/**
 * Delimited text (TSV, CSV without quoting, `::`-separated MovieLens, whitespace-separated) cut
 * into rows: DelimitedRows takes lines one at a time and owns the header, blank-line, error and
 * skipMalformed rules, so a file streamed in chunks and a string or buffer in memory go through
 * the same code and fail with the same `source:line: reason` messages.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

import { RecbridgeError } from '../core/errors';
import { CHUNK_BYTES, HEAD_BYTES, LineSplitter, firstLineOf, forEachText } from './lines';

export interface ReadOptions {
  /** A separator string ('\t', ',', '::'), or 'whitespace' (runs of spaces and tabs). */
  delimiter: string;
  /** The first line is a header (handed to onHeader, not to onRow). */
  header: boolean;
  /** Count and skip lines the row callback rejects instead of failing. */
  skipMalformed: boolean;
}

export type RowCallback = (fields: string[], line: number) => void;

/** Thrown by a row callback to reject a line (the reader adds the source name and line number). */
export class RowError extends Error {}

const WHITESPACE = /[ \t]+/;

export function splitter(delimiter: string): (line: string) => string[] {
  if (delimiter === 'whitespace') return (l) => l.trim().split(WHITESPACE);
  return (l) => l.split(delimiter);
}

export class DelimitedRows {
  rows = 0;
  skipped = 0;
  private sawHeader: boolean;
  private readonly split: (line: string) => string[];

  constructor(
    /** The file path or in-memory source name that messages start with. */
    private readonly source: string,
    private readonly options: ReadOptions,
    private readonly onRow: RowCallback,
    private readonly onHeader?: RowCallback,
  ) {
    this.sawHeader = !options.header;
    this.split = splitter(options.delimiter);
  }

  readonly line = (line: string, lineNo: number): void => {
    if (!this.sawHeader) {
      this.sawHeader = true;
      try {
        this.onHeader?.(this.split(line), lineNo);
      } catch (err) {
        if (err instanceof RowError) throw this.malformed(lineNo, err);
        throw err;
      }
      return;
    }
    if (line.trim() === '') return;
    try {
      this.onRow(this.split(line), lineNo);
      this.rows++;
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      if (!this.options.skipMalformed) throw this.malformed(lineNo, err);
      this.skipped++;
    }
  };

  finish(): { rows: number; skipped: number } {
    if (!this.sawHeader && this.onHeader)
      throw new RecbridgeError('ERR_MALFORMED_DATA', `${this.source}: empty file (expected a header line)`);
    return { rows: this.rows, skipped: this.skipped };
  }

  private malformed(lineNo: number, err: RowError): RecbridgeError {
    return new RecbridgeError('ERR_MALFORMED_DATA', `${this.source}:${lineNo}: ${err.message}`);
  }
}

function notFound(path: string, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return new RecbridgeError('ERR_MALFORMED_DATA', `${path}: no such file`, { cause: err });
  if (code === 'EISDIR') return new RecbridgeError('ERR_MALFORMED_DATA', `${path}: is a directory, not a file`, { cause: err });
  return err;
}

/** Streams a file in 1 MiB chunks, decoded as UTF-8 across chunk boundaries, into onLine. */
export async function forEachLine(path: string, onLine: (line: string, lineNo: number) => void): Promise<number> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const decoder = new StringDecoder('utf8');
  const lines = new LineSplitter(onLine);
  try {
    for await (const chunk of stream) lines.push(decoder.write(chunk as Buffer));
    lines.push(decoder.end());
  } catch (err) {
    throw notFound(path, err);
  } finally {
    stream.destroy();
  }
  return lines.end();
}

/** The first non-empty line of a file (for format detection), or '' for an empty file. */
export async function firstLine(path: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw notFound(path, err);
  }
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return firstLineOf(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

export async function readDelimited(
  path: string,
  options: ReadOptions,
  onRow: RowCallback,
  onHeader?: RowCallback,
): Promise<{ rows: number; skipped: number }> {
  const rows = new DelimitedRows(path, options, onRow, onHeader);
  await forEachLine(path, rows.line);
  return rows.finish();
}

/** readDelimited over a string or UTF-8 bytes in memory; `name` stands for the file in messages. */
export function parseDelimited(
  source: string | Uint8Array,
  name: string,
  options: ReadOptions,
  onRow: RowCallback,
  onHeader?: RowCallback,
): { rows: number; skipped: number } {
  const rows = new DelimitedRows(name, options, onRow, onHeader);
  const lines = new LineSplitter(rows.line);
  forEachText(source, (text) => lines.push(text));
  lines.end();
  return rows.finish();
}

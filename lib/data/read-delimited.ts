/**
 * Streaming reader for delimited text files (TSV, CSV without quoting, `::`-separated MovieLens,
 * whitespace-separated): the file arrives in chunks and is cut into lines as it comes, so it is never
 * held in memory as one string. Errors name the file, the line and the reason; with skipMalformed
 * they are counted instead.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

import { RecbridgeError } from '../errors';

export interface ReadOptions {
  /** A separator string ('\t', ',', '::'), or 'whitespace' (runs of spaces and tabs). */
  delimiter: string;
  /** The first line is a header (handed to onHeader, not to onRow). */
  header: boolean;
  /** Count and skip lines the row callback rejects instead of failing. */
  skipMalformed: boolean;
}

/** Thrown by a row callback to reject a line (the reader adds the file and line number). */
export class RowError extends Error {}

const WHITESPACE = /[ \t]+/;

export function splitter(delimiter: string): (line: string) => string[] {
  if (delimiter === 'whitespace') return (l) => l.trim().split(WHITESPACE);
  return (l) => l.split(delimiter);
}

function notFound(path: string, err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return new RecbridgeError('ERR_MALFORMED_DATA', `${path}: no such file`, { cause: err });
  if (code === 'EISDIR') return new RecbridgeError('ERR_MALFORMED_DATA', `${path}: is a directory, not a file`, { cause: err });
  return err;
}

/**
 * Calls onLine for every line (without its line break) with its 1-based number. Chunks of 1 MiB
 * are decoded as UTF-8 across chunk boundaries; only the unfinished tail of a chunk is carried over.
 */
export async function forEachLine(path: string, onLine: (line: string, lineNo: number) => void): Promise<number> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new StringDecoder('utf8');
  let tail = '';
  let lineNo = 0;
  const emit = (line: string) => {
    lineNo++;
    onLine(line.endsWith('\r') ? line.slice(0, -1) : line, lineNo);
  };
  try {
    for await (const chunk of stream) {
      const text = tail + decoder.write(chunk as Buffer);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        emit(text.slice(start, nl));
        start = nl + 1;
      }
      tail = text.slice(start);
    }
    tail += decoder.end();
    if (tail !== '') emit(tail);
  } catch (err) {
    throw notFound(path, err);
  } finally {
    stream.destroy();
  }
  return lineNo;
}

/** The first non-empty line of a file (for format detection), or '' for an empty file. */
export async function firstLine(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw notFound(path, err);
  }
  try {
    const buffer = Buffer.alloc(64 << 10);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    return lines.find((l) => l.trim() !== '')?.replace(/\r$/, '') ?? '';
  } finally {
    await handle.close();
  }
}

export async function readDelimited(
  path: string,
  options: ReadOptions,
  onRow: (fields: string[], line: number) => void,
  onHeader?: (fields: string[], line: number) => void,
): Promise<{ rows: number; skipped: number }> {
  const split = splitter(options.delimiter);
  let rows = 0;
  let skipped = 0;
  let sawHeader = !options.header;
  await forEachLine(path, (line, lineNo) => {
    if (!sawHeader) {
      sawHeader = true;
      try {
        onHeader?.(split(line), lineNo);
      } catch (err) {
        if (err instanceof RowError) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${lineNo}: ${err.message}`);
        throw err;
      }
      return;
    }
    if (line.trim() === '') return;
    try {
      onRow(split(line), lineNo);
      rows++;
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      if (!options.skipMalformed) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${lineNo}: ${err.message}`);
      skipped++;
    }
  });
  if (!sawHeader && onHeader) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}: empty file (expected a header line)`);
  return { rows, skipped };
}

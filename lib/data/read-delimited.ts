/**
 * Streaming reader for delimited text files (TSV, CSV without quoting, whitespace-separated): lines
 * are parsed as they arrive, so a file is never held in memory as one string. Errors name the file,
 * the line and the reason; with skipMalformed they are counted instead.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { RecbridgeError } from '../errors';

export interface ReadOptions {
  /** '\t', ',', or 'whitespace' (runs of spaces and tabs). */
  delimiter: string;
  /** Skip the first line (a header). */
  header: boolean;
  /** Count and skip lines the row callback rejects instead of failing. */
  skipMalformed: boolean;
}

/** Thrown by a row callback to reject a line (the reader adds the file and line number). */
export class RowError extends Error {}

export async function readDelimited(
  path: string,
  options: ReadOptions,
  onRow: (fields: string[], line: number) => void,
  onHeader?: (fields: string[]) => void,
): Promise<{ rows: number; skipped: number }> {
  const split = options.delimiter === 'whitespace' ? (l: string) => l.trim().split(/[ \t]+/) : (l: string) => l.split(options.delimiter);
  let lineNo = 0;
  let rows = 0;
  let skipped = 0;
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (lineNo === 1 && options.header) {
        onHeader?.(split(line));
        continue;
      }
      if (line.trim() === '') continue;
      try {
        onRow(split(line), lineNo);
        rows++;
      } catch (err) {
        if (!(err instanceof RowError)) throw err;
        if (!options.skipMalformed) throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${lineNo}: ${err.message}`);
        skipped++;
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}: no such file`, { cause: err });
    throw err;
  } finally {
    lines.close();
    stream.destroy();
  }
  return { rows, skipped };
}

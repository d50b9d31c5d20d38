/**
 * Delimited text (TSV, CSV with or without RFC 4180 quoting, `::`-separated MovieLens,
 * whitespace-separated) cut into records: DelimitedRows takes lines one at a time and owns the
 * header, blank-line, quoting, length-bound, error and skipMalformed rules, so a file streamed in
 * chunks and a string or buffer in memory go through the same code and fail with the same
 * `source:line: reason` messages.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

import { RecbridgeError } from '../core/errors';
import { CHUNK_BYTES, HEAD_BYTES, type Head, LineSplitter, forEachText } from './lines';
import { QuotedRecord, UnclosedQuoteError } from './quoted-fields';
import { RowError } from './row-error';

export { RowError } from './row-error';

/**
 * Longest line or record accepted by default, in UTF-16 code units (about bytes for ASCII): eight
 * times Python's csv field limit, far beyond any interaction or feature row, and small enough that
 * a file without line breaks or with an unclosed quote fails after reading 1 MiB.
 */
export const DEFAULT_MAX_RECORD_LENGTH = 1 << 20;

export interface ReadOptions {
  /** A separator string ('\t', ',', '::'), or 'whitespace' (runs of spaces and tabs). */
  delimiter: string;
  /** The first record is a header (handed to onHeader, not to onRow). */
  header: boolean;
  /** Count and skip lines the row callback rejects instead of failing. */
  skipMalformed: boolean;
  /** Fields may be quoted as RFC 4180 says (needs a one-character delimiter). Default false. */
  quoted?: boolean;
  /** Longest line, or record spanning lines, in UTF-16 code units. Default DEFAULT_MAX_RECORD_LENGTH. */
  maxRecordLength?: number;
}

export type RowCallback = (fields: string[], line: number) => void;

const WHITESPACE = /[ \t]+/;

export function splitter(delimiter: string): (line: string) => string[] {
  if (delimiter === 'whitespace') return (l) => l.trim().split(WHITESPACE);
  return (l) => l.split(delimiter);
}

// A line that starts with a printable ASCII character is not blank: most lines skip trim()'s copy.
const isBlank = (line: string) => {
  const c = line.charCodeAt(0);
  return !(c > 0x20 && c < 0x7f) && line.trim() === '';
};

export class DelimitedRows {
  rows = 0;
  skipped = 0;
  readonly maxLength: number;
  private sawHeader: boolean;
  private readonly split: (line: string) => string[];
  private readonly quoted: QuotedRecord | null;

  constructor(
    /** The file path or in-memory source name that messages start with. */
    private readonly source: string,
    private readonly options: ReadOptions,
    private readonly onRow: RowCallback,
    private readonly onHeader?: RowCallback,
  ) {
    this.sawHeader = !options.header;
    this.split = splitter(options.delimiter);
    this.maxLength = options.maxRecordLength ?? DEFAULT_MAX_RECORD_LENGTH;
    this.quoted = options.quoted ? new QuotedRecord(options.delimiter, this.maxLength) : null;
  }

  /** A line splitter that feeds these rows and enforces their length bound. */
  lines(): LineSplitter {
    return new LineSplitter(this.line, this.maxLength, this.tooLong);
  }

  readonly line = (line: string, lineNo: number, crlf: boolean): void => {
    let fields: string[] | null;
    let first = lineNo;
    const quoted = this.quoted;
    if (quoted?.pending) {
      first = quoted.startLine;
      fields = this.guard(first, () => quoted.continue(line, crlf));
    } else if (isBlank(line)) {
      return;
    } else if (quoted !== null && line.indexOf('"') >= 0) {
      fields = this.guard(first, () => quoted.begin(line, lineNo, crlf));
    } else {
      fields = this.split(line);
    }
    if (fields !== null) this.record(fields, first);
  };

  finish(): { rows: number; skipped: number } {
    if (this.quoted?.pending) {
      throw new RecbridgeError(
        'ERR_MALFORMED_DATA',
        `${this.source}:${this.quoted.startLine}: a quoted field opened on this line is never closed (the file ends inside it; a quote inside a quoted field is written "")`,
      );
    }
    if (!this.sawHeader) throw new RecbridgeError('ERR_MALFORMED_DATA', `${this.source}: empty file (expected a header line)`);
    return { rows: this.rows, skipped: this.skipped };
  }

  private record(fields: string[], lineNo: number): void {
    if (!this.sawHeader) {
      this.sawHeader = true;
      try {
        this.onHeader?.(fields, lineNo);
      } catch (err) {
        if (err instanceof RowError) throw this.malformed(lineNo, err);
        throw err;
      }
      return;
    }
    try {
      this.onRow(fields, lineNo);
      this.rows++;
    } catch (err) {
      this.reject(lineNo, err);
    }
  }

  /** Runs the quote scanner: a row it rejects is skippable, a quote left open is not. */
  private guard(lineNo: number, scan: () => string[] | null): string[] | null {
    try {
      return scan();
    } catch (err) {
      if (err instanceof UnclosedQuoteError) {
        throw new RecbridgeError(
          'ERR_MALFORMED_DATA',
          `${this.source}:${err.line}: a quoted field opened on this line is still open after ${this.maxLength} characters (a quote inside a quoted field is written ""; raise options.maxRecordLength for longer records)`,
        );
      }
      this.reject(lineNo, err);
      return null;
    }
  }

  private reject(lineNo: number, err: unknown): void {
    if (!(err instanceof RowError)) throw err;
    if (!this.options.skipMalformed || !this.sawHeader) throw this.malformed(lineNo, err);
    this.skipped++;
  }

  private readonly tooLong = (lineNo: number): never => {
    throw new RecbridgeError(
      'ERR_MALFORMED_DATA',
      `${this.source}:${lineNo}: line longer than ${this.maxLength} characters (is this a delimited text file? raise options.maxRecordLength for longer records)`,
    );
  };

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

/** Streams a file in 1 MiB chunks, decoded as UTF-8 across chunk boundaries, into a line splitter. */
export async function forEachLine(path: string, lines: LineSplitter): Promise<number> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const decoder = new StringDecoder('utf8');
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

/** The first HEAD_BYTES of a file, for format, delimiter and header detection. */
export async function readHead(path: string): Promise<Head> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const buffer = Buffer.alloc(HEAD_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES)).toString('utf8'), complete: bytesRead <= HEAD_BYTES };
  } catch (err) {
    throw notFound(path, err);
  } finally {
    await handle?.close();
  }
}

/**
 * The first records of a head, read as the loader would with these options but leniently: rows a
 * loader would reject are left out, and a cut-off last line or an open quote just ends the sample
 * (reading the file reports those properly).
 */
export function sampleRecords(head: Head, options: Pick<ReadOptions, 'delimiter' | 'quoted'>, limit = 64): string[][] {
  const records: string[][] = [];
  const text = head.complete ? head.text : head.text.slice(0, head.text.lastIndexOf('\n') + 1);
  const rows = new DelimitedRows('<head>', { ...options, header: false, skipMalformed: true }, (fields) => {
    if (records.length < limit) records.push(fields);
  });
  const lines = rows.lines();
  try {
    lines.push(text);
    lines.end();
  } catch (err) {
    if (!(err instanceof RecbridgeError)) throw err;
  }
  return records;
}

export async function readDelimited(
  path: string,
  options: ReadOptions,
  onRow: RowCallback,
  onHeader?: RowCallback,
): Promise<{ rows: number; skipped: number }> {
  const rows = new DelimitedRows(path, options, onRow, onHeader);
  await forEachLine(path, rows.lines());
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
  const lines = rows.lines();
  forEachText(source, (text) => lines.push(text));
  lines.end();
  return rows.finish();
}

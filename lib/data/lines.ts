/**
 * Text in, lines out, synchronously: the one line cutter behind the file loaders (which push 1 MiB
 * chunks as they stream in) and the in-memory parsers (which push a string, or bytes decoded in the
 * same 1 MiB chunks). Only the unfinished tail of a chunk is carried to the next one, so a file is
 * never held as one string.
 */
import { StringDecoder } from 'node:string_decoder';

export const CHUNK_BYTES = 1 << 20;

/** How much of a source format detection looks at (enough for any header line in practice). */
export const HEAD_BYTES = 64 << 10;

/** Receives a line without its terminator; `crlf` says the line ended with \r\n (quoted fields keep it). */
export type LineCallback = (line: string, lineNo: number, crlf: boolean) => void;

export class LineSplitter {
  private tail = '';
  private lineNo = 0;
  private started = false;

  constructor(
    private readonly onLine: LineCallback,
    /**
     * Longest line accepted, in UTF-16 code units: a file with no line breaks (binary data, the
     * wrong file) must fail early, not grow one string until memory runs out.
     */
    private readonly maxLength: number,
    /** Called with the number of the overlong line; throws the error that names the source. */
    private readonly onTooLong: (lineNo: number) => never,
  ) {}

  push(text: string): void {
    if (!this.started && text !== '') {
      this.started = true;
      // Editors on Windows save UTF-8 with a byte-order mark; it would otherwise become part of
      // the first column's name or id.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const all = this.tail + text;
    let start = 0;
    for (let nl = all.indexOf('\n'); nl >= 0; nl = all.indexOf('\n', start)) {
      this.emit(all.slice(start, nl));
      start = nl + 1;
    }
    this.tail = all.slice(start);
    if (this.tail.length > this.maxLength) this.onTooLong(this.lineNo + 1);
  }

  /** Emits the last line if it had no line break; returns the number of lines. */
  end(): number {
    if (this.tail !== '') this.emit(this.tail);
    this.tail = '';
    return this.lineNo;
  }

  private emit(line: string): void {
    this.lineNo++;
    if (line.length > this.maxLength) this.onTooLong(this.lineNo);
    const crlf = line.charCodeAt(line.length - 1) === 13;
    this.onLine(crlf ? line.slice(0, -1) : line, this.lineNo, crlf);
  }
}

/**
 * Hands a string over whole, or UTF-8 bytes decoded chunk by chunk (a multi-byte character split
 * between chunks is completed from the next one, exactly as when the bytes stream from a file).
 */
export function forEachText(source: string | Uint8Array, onText: (text: string) => void): void {
  if (typeof source === 'string') {
    onText(source);
    return;
  }
  const decoder = new StringDecoder('utf8');
  const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) onText(decoder.write(bytes.subarray(at, at + CHUNK_BYTES)));
  onText(decoder.end());
}

/** The first non-empty line of a source's head (for format detection), or ''. */
export function firstLineOf(head: string): string {
  const text = head.charCodeAt(0) === 0xfeff ? head.slice(1) : head;
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.replace(/\r$/, '') ?? ''
  );
}

/** The first HEAD_BYTES of a source, and whether that is all of it (else its last line may be cut). */
export interface Head {
  text: string;
  complete: boolean;
}

/** The head of an in-memory source, as readHead reads it from a file. */
export function headOf(source: string | Uint8Array): Head {
  if (typeof source === 'string') return { text: source.slice(0, HEAD_BYTES), complete: source.length <= HEAD_BYTES };
  const bytes = Buffer.from(source.buffer, source.byteOffset, Math.min(source.byteLength, HEAD_BYTES));
  return { text: bytes.toString('utf8'), complete: source.byteLength <= HEAD_BYTES };
}

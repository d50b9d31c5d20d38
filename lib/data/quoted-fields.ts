/**
 * RFC 4180 quoting for delimited text: a field that starts with `"` runs to the next lone `"`,
 * `""` inside it stands for one quote, and it may hold delimiters and line breaks (kept as they
 * were, `\n` or `\r\n`). A quote inside an unquoted field is an ordinary character, as most writers
 * and readers treat it. The reader only comes here for lines that hold a quote; the rest are split
 * directly, so quoting costs unquoted files one indexOf per line.
 */
import { RowError } from './row-error';

const QUOTE = 0x22;

/** A quoted field still open when a record had to be cut off: not a row to skip, the file is broken. */
export class UnclosedQuoteError extends Error {
  constructor(readonly line: number) {
    super('unclosed quote');
  }
}

export class QuotedRecord {
  /** A quoted field is open at the end of the last line: the record continues on the next one. */
  pending = false;
  /** The line the pending record started on (messages name it). */
  startLine = 0;
  private fields: string[] = [];
  /** Pieces of the open quoted field, joined once when it closes. */
  private parts: string[] = [];
  private length = 0;
  /** How the last line read ended: the break a pending field holds is that line's. */
  private crlf = false;

  constructor(
    private readonly delimiter: string,
    /** Longest record, in UTF-16 code units, before an open quote counts as unclosed. */
    private readonly maxLength: number,
  ) {}

  /** Starts a record on a line; returns its fields, or null when a quoted field runs on. */
  begin(line: string, lineNo: number, crlf: boolean): string[] | null {
    this.fields = [];
    this.startLine = lineNo;
    this.length = line.length;
    this.crlf = crlf;
    return this.fieldsFrom(line, 0);
  }

  /** Continues the pending record with the next line. */
  continue(line: string, crlf: boolean): string[] | null {
    const lineBreak = this.crlf ? '\r\n' : '\n';
    this.crlf = crlf;
    this.length += lineBreak.length + line.length;
    if (this.length > this.maxLength) {
      this.reset();
      throw new UnclosedQuoteError(this.startLine);
    }
    this.parts.push(lineBreak);
    const end = this.quotedFrom(line, 0);
    return end < 0 ? null : this.afterQuote(line, end);
  }

  /** Forgets a pending record (after an error in it). */
  reset(): void {
    this.pending = false;
    this.fields = [];
    this.parts = [];
  }

  private fieldsFrom(line: string, start: number): string[] | null {
    let at = start;
    for (;;) {
      if (line.charCodeAt(at) === QUOTE) {
        this.parts = [];
        const end = this.quotedFrom(line, at + 1);
        return end < 0 ? null : this.afterQuote(line, end);
      }
      const next = line.indexOf(this.delimiter, at);
      if (next < 0) {
        this.fields.push(line.slice(at));
        return this.done();
      }
      this.fields.push(line.slice(at, next));
      at = next + 1;
    }
  }

  /**
   * Scans a quoted field's text from `from`; returns the index just past its closing quote, or -1
   * (and marks the record pending) when the line ends inside it.
   */
  private quotedFrom(line: string, from: number): number {
    let at = from;
    for (;;) {
      const q = line.indexOf('"', at);
      if (q < 0) {
        this.parts.push(line.slice(at));
        this.pending = true;
        return -1;
      }
      this.parts.push(line.slice(at, q));
      if (line.charCodeAt(q + 1) !== QUOTE) {
        this.pending = false;
        return q + 1;
      }
      this.parts.push('"');
      at = q + 2;
    }
  }

  private afterQuote(line: string, end: number): string[] | null {
    this.fields.push(this.parts.length === 1 ? this.parts[0] : this.parts.join(''));
    this.parts = [];
    if (end === line.length) return this.done();
    if (line.startsWith(this.delimiter, end)) return this.fieldsFrom(line, end + 1);
    const field = this.fields.length;
    this.reset();
    throw new RowError(`field ${field} has text after its closing quote (a quote inside a quoted field is written "")`);
  }

  private done(): string[] {
    const fields = this.fields;
    this.fields = [];
    return fields;
  }
}

/**
 * The options every delimited-text loader shares (interactions, features, links): the field
 * delimiter, RFC 4180 quoting and the record length bound, checked once, and the delimiter chosen
 * from them, the format and the head of the file.
 */
import { expectBoolean, expectPositiveInteger, rangeError, typeError } from '../core/validate';
import type { Head } from './lines';
import { DEFAULT_MAX_RECORD_LENGTH } from './read-delimited';
import { DELIMITERS, type FieldDelimiter, sniffDelimiter } from './sniff';

export interface DelimitedOptions {
  /**
   * The field delimiter: ',', '\t', ';' or '|', or 'auto'. Default 'auto': tab for tsv and RecBole
   * files, and for csv the one of `, ; \t |` that cuts the first records of the file into equal
   * numbers of fields (see docs/api-data.md).
   */
  delimiter?: FieldDelimiter | 'auto';
  /**
   * Fields may be quoted as RFC 4180 says: `"a, b"` holds the delimiter, `""` is a quote, and a
   * quoted field may span lines. Default true for csv, false for the other formats.
   */
  quoted?: boolean;
  /**
   * Longest line, or record spanning lines, in characters: beyond it the file is rejected (a file
   * without line breaks, an unclosed quote) instead of read into memory. Default 1048576 (1 MiB).
   */
  maxRecordLength?: number;
}

export interface DelimitedChoice {
  /** The explicit delimiter, or undefined for 'auto'. */
  delimiter: FieldDelimiter | undefined;
  quoted: boolean;
  maxRecordLength: number;
}

export function delimitedOptions(o: DelimitedOptions, defaultQuoted: boolean): DelimitedChoice {
  const d = o.delimiter;
  if (d !== undefined && d !== 'auto' && !(DELIMITERS as readonly unknown[]).includes(d)) {
    if (typeof d !== 'string') throw typeError('options.delimiter', '"," "\\t" ";" "|" or "auto"', d);
    throw rangeError('options.delimiter', '"," "\\t" ";" "|" or "auto"', d);
  }
  return {
    delimiter: d === 'auto' ? undefined : d,
    quoted: o.quoted === undefined ? defaultQuoted : expectBoolean('options.quoted', o.quoted),
    maxRecordLength:
      o.maxRecordLength === undefined ? DEFAULT_MAX_RECORD_LENGTH : expectPositiveInteger('options.maxRecordLength', o.maxRecordLength),
  };
}

/**
 * The delimiter to read with: the explicit one, else the format's (`formatDelimiter`), except that
 * csv files are sniffed from their head. Quoting needs a one-character delimiter.
 */
export function chooseDelimiter(choice: DelimitedChoice, formatDelimiter: string, sniff: Head | null): string {
  const delimiter = choice.delimiter ?? (sniff ? sniffDelimiter(sniff, choice.quoted) : formatDelimiter);
  if (choice.quoted && delimiter.length !== 1)
    throw rangeError(
      'options.quoted',
      `false, or a one-character options.delimiter (quoting cannot apply to ${JSON.stringify(delimiter)})`,
      true,
    );
  return delimiter;
}

/**
 * Guesses what a CSV file does not say: its delimiter, and whether its first line is a header.
 * Both look only at the first records of the file (the head), and both are overridden by an
 * explicit option; docs/api-data.md states the rules, because a wrong guess must be predictable.
 */
import type { Head } from './lines';
import { sampleRecords } from './read-delimited';

export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type FieldDelimiter = (typeof DELIMITERS)[number];

/**
 * The delimiter that cuts every sampled record into the same number (≥ 2) of fields, the most
 * fields winning; when none is that regular (ragged rows), the one giving the first record the
 * most fields. Ties go to the earlier of `, ; \t |`, so a file with no delimiter at all is comma-
 * separated. Regularity is what tells a comma-separated file whose genres hold `|`
 * (MovieLens' movies.csv) from a `|`-separated one.
 */
export function sniffDelimiter(head: Head, quoted: boolean): FieldDelimiter {
  let best: FieldDelimiter = ',';
  let bestRegular = 0;
  let widest: FieldDelimiter = ',';
  let widestCount = 0;
  for (const delimiter of DELIMITERS) {
    const records = sampleRecords(head, { delimiter, quoted });
    if (records.length === 0) continue;
    const n = records[0].length;
    if (n > widestCount) [widest, widestCount] = [delimiter, n];
    if (n >= 2 && n > bestRegular && records.every((r) => r.length === n)) [best, bestRegular] = [delimiter, n];
  }
  return bestRegular > 0 ? best : widestCount >= 2 ? widest : ',';
}

/** A column name compared loosely: case, `_`, `-` and spaces ignored (userId = user_id = User ID). */
export const looseName = (name: string) => name.toLowerCase().replace(/[\s_-]/g, '');

const isNumber = (text: string) => text.trim() !== '' && Number.isFinite(Number(text));
const RECBOLE_TYPED = /^[^:]+:(token|token_seq|float|float_seq)$/;

/**
 * Whether the first sampled record is a header, for a file that does not say. It is when it has
 * no number in it and either
 * - every field is a RecBole `name:type`, or
 * - it names a user column and an item column (`known.user`, `known.item`, compared loosely), or
 * - some column holds a number on every other sampled record (`rating`, `timestamp`, numeric ids).
 * A first line with a number in it is data, so a malformed first row is reported, never dropped as
 * a header; a header of two unknown names over string ids (`buyer,product`) reads as data: pass
 * `header: true` for those.
 */
export function looksLikeHeader(records: string[][], known: { user: readonly string[]; item: readonly string[] }): boolean {
  const [first, ...rest] = records;
  if (first === undefined || first.some(isNumber)) return false;
  if (first.every((f) => RECBOLE_TYPED.test(f))) return true;
  const names = new Set(first.map(looseName));
  if (known.user.some((n) => names.has(looseName(n))) && known.item.some((n) => names.has(looseName(n)))) return true;
  return first.some((_, c) => {
    let seen = 0;
    for (const r of rest) {
      if (c >= r.length) continue;
      if (!isNumber(r[c])) return false;
      seen++;
    }
    return seen > 0;
  });
}

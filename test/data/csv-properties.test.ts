// Properties of the RFC 4180 reader: any table written with quoting reads back exactly (ids with
// delimiters, quotes, line breaks, CRLF, multi-byte characters; every delimiter), and any text at
// all reads as a small character-by-character reference reader says — the same records, the same
// malformed rows skipped, the same unclosed-quote error — from a string, from bytes and from a file.
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadLinks, parseInteractions, parseLinks } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-csv-props-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const DELIMITERS = [',', ';', '\t', '|'] as const;
const CHARS = ['a', 'Z', '0', '7', '.', ' ', '\t', ',', ';', '|', '"', '\n', '\r', 'é', '東', '😀'];

/** A field with something other than spaces and tabs in it (a line of only those is blank, and skipped). */
const field = fc.string({ unit: fc.constantFrom(...CHARS), minLength: 1, maxLength: 8 }).filter((s) => s.trim() !== '');

/** RFC 4180: quote a field holding the delimiter, a quote or a line break; quote others when asked. */
function writeField(text: string, delimiter: string, force: boolean): string {
  const needs = text.includes(delimiter) || /["\r\n]/.test(text);
  return needs || force ? `"${text.replace(/"/g, '""')}"` : text;
}

const table = (columns: fc.Arbitrary<string>[]) =>
  fc.record({
    rows: fc.array(fc.tuple(...columns), { minLength: 1, maxLength: 20 }),
    delimiter: fc.constantFrom(...DELIMITERS),
    eol: fc.constantFrom('\n', '\r\n'),
    forceQuotes: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
    finalEol: fc.boolean(),
  });

function write(rows: string[][], t: { delimiter: string; eol: string; forceQuotes: boolean[]; finalEol: boolean }): string {
  let k = 0;
  const lines = rows.map((r) => r.map((f) => writeField(f, t.delimiter, t.forceQuotes[k++ % 64])).join(t.delimiter));
  return lines.join(t.eol) + (t.finalEol ? t.eol : '');
}

test('a table written with RFC 4180 quoting reads back exactly (links: any two ids)', () => {
  fc.assert(
    fc.property(table([field, field]), (t) => {
      const text = write(t.rows, t);
      const options = { format: 'csv', delimiter: t.delimiter, quoted: true } as const;
      expect(parseLinks(text, options)).toEqual({ pairs: t.rows, skipped: 0 });
      expect(parseLinks(Buffer.from(text), options)).toEqual({ pairs: t.rows, skipped: 0 });
    }),
    { numRuns: 400 },
  );
});

test('a headered interactions table with quoted ids reads back exactly, and minValue keeps what it should', () => {
  const value = fc.integer({ min: -20, max: 20 }).map((n) => n / 4);
  fc.assert(
    fc.property(table([field, field, value.map(String)]), fc.integer({ min: -5, max: 5 }), (t, minValue) => {
      const text = write([['user_id', 'item_id', 'rating'], ...t.rows], t);
      const r = parseInteractions(Buffer.from(text), { name: 'r.csv', delimiter: t.delimiter, minValue });
      const got = Array.from(r.interactions.users, (u, k) => [
        r.users.id(u),
        r.items.id(r.interactions.items[k]),
        String(r.interactions.values![k]),
      ]);
      const kept = t.rows.filter((row) => Number(row[2]) >= minValue);
      expect(got).toEqual(kept);
      expect(r.filtered).toBe(t.rows.length - kept.length);
    }),
    { numRuns: 300 },
  );
});

type Reference = { pairs: [string, string][]; skipped: number } | { unclosedAt: number };

/**
 * The reader's documented behaviour, character by character: records end at a line break outside
 * quotes (`\r\n` or `\n`; one `\r` before `\n` belongs to the break); blank lines outside quotes are
 * skipped; a field that starts with `"` is quoted (`""` is a quote, line breaks are kept); text after
 * a closing quote makes the record malformed (its line ends it); a quote elsewhere is a character.
 * For links, a record is a pair when it has two or more fields and the first two are not empty.
 */
function reference(text: string, d: string): Reference {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const pairs: [string, string][] = [];
  let skipped = 0;
  let fields: string[] = [];
  let current = '';
  let inQuotes = false;
  let start = 0;
  let lastCrlf = false;
  const finish = (ok: boolean) => {
    if (!ok || fields.length < 2 || fields[0] === '' || fields[1] === '') skipped++;
    else pairs.push([fields[0], fields[1]]);
    fields = [];
  };
  for (let n = 0; n < lines.length; n++) {
    const crlf = lines[n].endsWith('\r');
    const line = crlf ? lines[n].slice(0, -1) : lines[n];
    let i = 0;
    if (inQuotes) {
      current += lastCrlf ? '\r\n' : '\n';
    } else {
      if (line.trim() === '') continue;
      start = n + 1;
      current = '';
    }
    lastCrlf = crlf;
    let state: 'start' | 'plain' | 'quoted' | 'after' = inQuotes ? 'quoted' : 'start';
    let malformed = false;
    for (; i <= line.length && !malformed; i++) {
      const c = i < line.length ? line[i] : null;
      if (state === 'start') {
        if (c === '"') state = 'quoted';
        else if (c === d || c === null) {
          fields.push('');
          if (c === null) break;
        } else {
          current = c;
          state = 'plain';
        }
      } else if (state === 'plain') {
        if (c === d || c === null) {
          fields.push(current);
          current = '';
          state = 'start';
          if (c === null) break;
        } else current += c;
      } else if (state === 'quoted') {
        if (c === null) break;
        if (c === '"' && line[i + 1] === '"') {
          current += '"';
          i++;
        } else if (c === '"') state = 'after';
        else current += c;
      } else {
        fields.push(current);
        current = '';
        if (c === null) break;
        if (c === d) state = 'start';
        else malformed = true;
      }
    }
    inQuotes = state === 'quoted';
    if (!inQuotes) finish(!malformed);
  }
  return inQuotes ? { unclosedAt: start } : { pairs, skipped };
}

const outcome = (read: () => { pairs: [string, string][]; skipped: number }, name: string): Reference | { error: string } => {
  try {
    return read();
  } catch (err) {
    const e = err as { code?: string; message: string };
    const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): a quoted field opened on this line is never closed`).exec(
      e.message,
    );
    if (e.code === 'ERR_MALFORMED_DATA' && m) return { unclosedAt: Number(m[1]) };
    return { error: `${e.code}: ${e.message}` };
  }
};

const anyText = fc.string({ unit: fc.constantFrom('a', '1', ' ', '\t', ',', '|', '"', '"', '\n', '\r', 'é'), maxLength: 120 });

test('any text reads as the reference reader says, from a string and from bytes', () => {
  fc.assert(
    fc.property(anyText, fc.constantFrom(',', '|', '\t'), (text, delimiter) => {
      const expected = reference(text, delimiter);
      const options = { format: 'csv', delimiter, quoted: true, skipMalformed: true } as const;
      expect(outcome(() => parseLinks(text, options), '<string>')).toEqual(expected);
      expect(outcome(() => parseLinks(Buffer.from(text), options), '<buffer>')).toEqual(expected);
    }),
    { numRuns: 3000 },
  );
});

test('any text reads the same from a file', async () => {
  let k = 0;
  await fc.assert(
    fc.asyncProperty(anyText, async (text) => {
      const p = path.join(dir, `t${k++}.csv`);
      fs.writeFileSync(p, text);
      const options = { delimiter: ',', quoted: true, skipMalformed: true } as const;
      const fromFile = await loadLinks(p, options).then(
        (r) => r as Reference,
        (err) =>
          outcome(() => {
            throw err;
          }, p),
      );
      expect(fromFile).toEqual(reference(text, ','));
    }),
    { numRuns: 100 },
  );
});

/**
 * Id lists: a text file with one external id per line, row i's id on line i + 1 (what implicit or
 * numpy users keep next to their embedding arrays). Ids are taken verbatim: no trimming, so "a "
 * and "a" stay different rows; a final newline is optional and Windows line ends are accepted.
 *
 * The file is streamed and split on bytes, so its size is bounded by memory for the ids alone, and
 * a line longer than maxIdBytes (a file without line breaks, a binary file) fails once that many
 * bytes are seen.
 */
import { createReadStream } from 'node:fs';

import { Vocabulary } from '../data/vocabulary';
import { LimitExceededError, RecbridgeError } from '../core/errors';
import { expectOptions, typeError } from '../core/validate';
import { writeFileAtomic } from '../core/atomic-write';
import { type FileLimits, fileLimits } from './limits';

export type ReadIdListOptions = Pick<FileLimits, 'maxIdBytes'>;

const NEWLINE = 0x0a;
const CR = 0x0d;
const CHUNK = 1 << 20;

export async function readIdList(path: string, options?: ReadIdListOptions): Promise<Vocabulary> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  const { maxIdBytes } = fileLimits(expectOptions('options', options) as FileLimits);
  const vocabulary = new Vocabulary();
  let lineNo = 0;
  // The unfinished line's pieces; their total stays at most maxIdBytes + 1 bytes.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const tooLong = (at: number) =>
    new LimitExceededError(path, 'maxIdBytes', maxIdBytes, `line ${at} is longer than ${maxIdBytes} bytes (one id per line)`);
  const line = (bytes: Buffer, ended: boolean) => {
    lineNo++;
    let end = bytes.length;
    if (ended && end > 0 && bytes[end - 1] === CR) end--;
    let from = 0;
    // A byte order mark opens the file, not the first id.
    if (lineNo === 1 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) from = 3;
    if (end - from > maxIdBytes) throw tooLong(lineNo);
    const id = bytes.toString('utf8', from, end);
    if (id === '') throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${lineNo}: empty line (every line holds one id)`);
    const before = vocabulary.row(id);
    if (before !== undefined)
      throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${lineNo}: id ${JSON.stringify(id)} repeats line ${before + 1}`);
    vocabulary.add(id);
  };
  const joined = (last: Buffer): Buffer => {
    if (pending.length === 0) return last;
    const all = Buffer.concat([...pending, last], pendingBytes + last.length);
    pending = [];
    pendingBytes = 0;
    return all;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      if (pendingBytes + nl - start > maxIdBytes + 4) throw tooLong(lineNo + 1);
      line(joined(chunk.subarray(start, nl)), true);
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      // Slack for a byte order mark and the \r of a Windows line end; line() checks exactly.
      if (pendingBytes > maxIdBytes + 4) throw tooLong(lineNo + 1);
    }
  }
  if (pendingBytes > 0) line(joined(Buffer.alloc(0)), false);
  return vocabulary;
}

/** Writes one id per line (atomically). Ids containing a line break cannot be written this way. */
export async function writeIdList(path: string, vocabulary: Vocabulary): Promise<void> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  if (vocabulary === null || typeof vocabulary !== 'object' || typeof vocabulary.toArray !== 'function')
    throw typeError('vocabulary', 'Vocabulary', vocabulary);
  const ids = vocabulary.toArray();
  const bad = ids.findIndex((id) => id === '' || /[\r\n]/.test(id));
  if (bad >= 0) throw typeError(`vocabulary row ${bad}`, 'a non-empty id without line breaks', ids[bad]);
  await writeFileAtomic(path, async (sink) => {
    for (let i = 0; i < ids.length; i += 65536) await sink.write(Buffer.from(`${ids.slice(i, i + 65536).join('\n')}\n`, 'utf8'));
  });
}

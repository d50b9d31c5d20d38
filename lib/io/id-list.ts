/**
 * Id lists: a text file with one external id per line, row i's id on line i + 1 (what implicit or
 * numpy users keep next to their embedding arrays). Ids are taken verbatim: no trimming, so "a "
 * and "a" stay different rows; a final newline is optional and Windows line ends are accepted.
 */
import * as fs from 'node:fs/promises';

import { Vocabulary } from '../data/vocabulary';
import { RecbridgeError } from '../core/errors';
import { typeError } from '../core/validate';
import { writeFileAtomic } from '../core/atomic-write';

export async function readIdList(path: string): Promise<Vocabulary> {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'non-empty string', path);
  let text = await fs.readFile(path, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const vocabulary = new Vocabulary();
  for (let i = 0; i < lines.length; i++) {
    const id = lines[i];
    if (id === '') throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${i + 1}: empty line (every line holds one id)`);
    const before = vocabulary.row(id);
    if (before !== undefined)
      throw new RecbridgeError('ERR_MALFORMED_DATA', `${path}:${i + 1}: id ${JSON.stringify(id)} repeats line ${before + 1}`);
    vocabulary.add(id);
  }
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

/**
 * Reads what the service serves: the model file (read once through one descriptor, so its
 * checksum, size and mtime describe exactly the bytes that were loaded, even when the path is
 * replaced meanwhile) and the optional seen-interactions file, indexed by the model's own
 * vocabularies so excludeSeen removes the right rows.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';

import type { Interactions } from '../data/interactions';
import { loadInteractions } from '../data/load-interactions';
import { Vocabulary } from '../data/vocabulary';
import { loadModelBytes, type LoadedModel } from '../io/model-file/load';
import type { SeenFileOptions } from './options';

/** Where the served model came from. */
export interface ModelFileStat {
  path: string;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
  bytes: number;
  /** Modification time, milliseconds since the epoch. */
  mtimeMs: number;
  /** Device and inode: a replaced file (rename) has a new inode even with the same mtime. */
  identity: string;
}

export interface ServedModel {
  loaded: LoadedModel;
  seen: Interactions | undefined;
  /** Lines of the seen file skipped because the model does not know their user or item. */
  seenSkipped: number;
  /** fileIdentity of the seen file when it was read (null without one). */
  seenIdentity: string | null;
  file: ModelFileStat;
  /** When the load finished, milliseconds since the epoch. */
  loadedAt: number;
}

/** The identity of the file now at path (cheap: one stat), or null when it does not exist. */
export async function fileIdentity(path: string): Promise<string | null> {
  try {
    const s = await fs.stat(path);
    return identityOf(s);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
}

function identityOf(s: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
}

/** A frozen vocabulary of the model's ids, or decimal row numbers when the file saved none. */
function idsOf(vocabulary: Vocabulary | undefined, rows: number): Vocabulary {
  const v = vocabulary ? new Vocabulary(vocabulary.toArray()) : new Vocabulary(Array.from({ length: rows }, (_, i) => String(i)));
  return v.freeze();
}

export async function loadServedModel(path: string, seen?: { path: string; options?: SeenFileOptions }): Promise<ServedModel> {
  const handle = await fs.open(path, 'r');
  let bytes: Buffer;
  let file: ModelFileStat;
  try {
    const s = await handle.stat();
    bytes = await handle.readFile();
    file = {
      path,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      mtimeMs: s.mtimeMs,
      identity: identityOf(s),
    };
  } finally {
    await handle.close();
  }
  const loaded = loadModelBytes(bytes, path, { forServing: true });
  let interactions: Interactions | undefined;
  let skipped = 0;
  let seenIdentity: string | null = null;
  if (seen) {
    seenIdentity = await fileIdentity(seen.path);
    // Frozen copies: lines with ids the model does not know are skipped (and counted), and the
    // model's vocabularies are never extended.
    const r = await loadInteractions(seen.path, {
      ...seen.options,
      users: idsOf(loaded.vocabularies.users, loaded.model.users),
      items: idsOf(loaded.vocabularies.items, loaded.model.items),
      skipMalformed: true,
    });
    interactions = r.interactions;
    skipped = r.skipped;
  }
  return { loaded, seen: interactions, seenSkipped: skipped, seenIdentity, file, loadedAt: Date.now() };
}

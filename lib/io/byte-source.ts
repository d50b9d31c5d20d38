/**
 * Random access to a file's bytes without reading the whole file: the archive and array readers
 * read the parts they need (a zip's directory, one entry, an array's header) and nothing else, so
 * what they hold in memory follows what the caller asked for, not the size of the file.
 */
import * as fs from 'node:fs/promises';

import { CorruptFileError } from './file-errors';

export interface ByteSource {
  /** What errors name: the path. */
  readonly path: string;
  readonly size: number;
  /** Fills `into` with the bytes at `position`; a range past the end is a CorruptFileError. */
  read(into: Uint8Array, position: number): Promise<void>;
}

/** Most bytes one read call asks for (larger reads are split). */
const MAX_READ = 64 << 20;

export async function openByteSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      path,
      size,
      async read(into, position) {
        for (let at = 0; at < into.length; ) {
          const { bytesRead } = await handle.read(into, at, Math.min(MAX_READ, into.length - at), position + at);
          // The caller checked the range against the size, so a short read means the file shrank.
          if (bytesRead === 0)
            throw new CorruptFileError(path, `the file ended at byte ${position + at} while reading (was it truncated while being read?)`);
          at += bytesRead;
        }
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** A source over bytes already in memory (tests and fuzz targets). */
export function bytesSource(bytes: Uint8Array, path: string): ByteSource {
  return {
    path,
    size: bytes.length,
    async read(into, position) {
      if (position < 0 || position + into.length > bytes.length)
        throw new CorruptFileError(path, `the file ended at byte ${bytes.length} while reading`);
      into.set(bytes.subarray(position, position + into.length));
    },
  };
}

/**
 * Where a command's outputs go: a file path, written atomically (a reader never sees half a
 * report, and an interrupted run leaves the previous file intact), or `-` for standard output.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { AtomicFile, writeFileAtomic } from '../core/atomic-write';

export const STDOUT = '-';

/** Writes `content` to `target` (or stdout for `-`). */
export async function writeOutput(target: string, content: string | Uint8Array): Promise<void> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (target === STDOUT) {
    await writeStdout(bytes);
    return;
  }
  await writeFileAtomic(target, (sink) => sink.write(bytes));
}

/** Resolves once the bytes are handed to stdout, honouring back-pressure on a pipe. */
export function writeStdout(bytes: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/** JSON for result files: per-user data (typed arrays) is left out, as it is bulky and not portable. */
export function resultJson(value: unknown): string {
  return `${JSON.stringify(value, (key, v) => (key === 'perUser' || ArrayBuffer.isView(v) ? undefined : v), 2)}\n`;
}

/** At most one of the outputs may be stdout, or their bytes would interleave. */
export function oneStdout(flags: Record<string, string | undefined>): string | undefined {
  const toStdout = Object.entries(flags).filter(([, v]) => v === STDOUT);
  return toStdout.length > 1 ? `Only one output can be stdout (-): ${toStdout.map(([k]) => `--${k}`).join(', ')}` : undefined;
}

export interface OutputWriter {
  write(text: string): Promise<void>;
  /** Flushes and, for a file, renames it into place (nothing is at the target until then). */
  close(): Promise<void>;
  /** Drops a half-written file (the target keeps what it had). */
  abort(): Promise<void>;
}

/** A streaming output: stdout for `-`, else an atomic file renamed over the target on close. */
export function openWriter(target: string): OutputWriter {
  if (target === STDOUT) return { write: (t) => writeStdout(t), close: async () => {}, abort: async () => {} };
  let file: Promise<AtomicFile> | null = null;
  const open = () => {
    file ??= AtomicFile.open(target);
    return file;
  };
  return {
    write: async (text) => (await open()).write(text),
    close: async () => (await open()).commit(),
    abort: async () => {
      if (file) await (await file).abort();
    },
  };
}

/**
 * Runs `write(file)` for a library writer that takes a path; for `-` the writer gets a temporary
 * file whose bytes are then copied to stdout (so every output flag can take `-`).
 */
export async function toPathOrStdout<T>(target: string, write: (file: string) => Promise<T>): Promise<T> {
  if (target !== STDOUT) return write(target);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'recbridge-out-'));
  try {
    const file = path.join(dir, 'out');
    const result = await write(file);
    for await (const chunk of createReadStream(file)) await writeStdout(chunk as Buffer);
    return result;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

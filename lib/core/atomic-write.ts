/**
 * Atomic file replacement, the one way recbridge writes a file: the bytes go to a temporary file
 * created exclusively (a unique name, opened with O_EXCL) in the target's folder, are flushed to disk
 * (fsync), and only then renamed over the target; the folder is fsynced so the rename itself
 * survives a power cut. Whatever happens — a crash at any step, two saves to one path at once — the
 * target holds either its old bytes or one complete write, never a mix.
 *
 * Temporary files are named `.<name>.<pid>.<random>.tmp` (a long name is shortened and given a hash,
 * so any valid target name works). Those left by a process that died mid-save are removed by the
 * next save to the same path. A symlink target keeps its link: the file it points to is replaced.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Writes larger than this are split, so no single write approaches the 2 GiB limit of one call. */
const MAX_WRITE = 64 << 20;

/** File names longer than this (in bytes) are shortened in the temporary name: most file systems allow 255. */
const MAX_STEM_BYTES = 120;

/** Where a body writes its bytes, in order. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly written: number;
}

/**
 * Test hook: RECBRIDGE_TEST_CRASH_AT=<stage> kills this process with SIGKILL when the save reaches
 * that stage ('write:<n>' after the n-th write, 'before-fsync', 'before-rename', 'after-rename'),
 * which is how a crash is simulated exactly between two steps. Unset in normal use.
 */
function crashPoint(stage: string): void {
  if (process.env.RECBRIDGE_TEST_CRASH_AT === stage) process.kill(process.pid, 'SIGKILL');
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; its rename is already durable enough (MoveFileEx).
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL') throw err;
  } finally {
    await handle?.close();
  }
}

/** The part of temporary names that identifies the target: its name, or a prefix and a hash of a long one. */
export function tempStem(target: string): string {
  const name = path.basename(target);
  if (Buffer.byteLength(name) <= MAX_STEM_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  let prefix = name.slice(0, 60);
  while (Buffer.byteLength(prefix) > 60) prefix = prefix.slice(0, -1);
  return `${prefix}~${hash}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary files of saves to `target` whose process is gone. Best effort. */
export async function removeStaleTemps(target: string): Promise<number> {
  const dir = path.dirname(target);
  const stem = tempStem(target);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  const prefix = `.${stem}.`;
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    await fs.unlink(path.join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Where the bytes of `target` go: the file a symlink points to, so the link survives the rename. */
async function resolveTarget(target: string): Promise<string> {
  const absolute = path.resolve(target);
  try {
    const stat = await fs.lstat(absolute);
    if (stat.isSymbolicLink()) return await fs.realpath(absolute);
  } catch (err) {
    // A dangling symlink: write the file it names.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const link = await fs.readlink(absolute).catch(() => null);
      if (link !== null) return path.resolve(path.dirname(absolute), link);
      return absolute;
    }
    throw err;
  }
  return absolute;
}

/** A file being written atomically: nothing is at the target until commit(). */
export class AtomicFile implements ByteSink {
  private writes = 0;
  private bytes = 0;
  private done = false;

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly tmp: string,
    private readonly target: string,
  ) {}

  static async open(target: string): Promise<AtomicFile> {
    const real = await resolveTarget(target);
    await removeStaleTemps(real);
    const dir = path.dirname(real);
    const tmp = path.join(dir, `.${tempStem(real)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
    return new AtomicFile(await fs.open(tmp, 'wx', 0o644), tmp, real);
  }

  get written(): number {
    return this.bytes;
  }

  async write(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    for (let at = 0; at < data.length; ) {
      const n = Math.min(MAX_WRITE, data.length - at);
      // FileHandle.write may write less than asked; loop until the chunk is out.
      const { bytesWritten } = await this.handle.write(data, at, n, null);
      at += bytesWritten;
      this.bytes += bytesWritten;
      crashPoint(`write:${++this.writes}`);
    }
  }

  /** Flushes, renames over the target, and flushes the folder. */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      crashPoint('before-fsync');
      await this.handle.sync();
      await this.handle.close();
    } catch (err) {
      await this.handle.close().catch(() => undefined);
      await fs.unlink(this.tmp).catch(() => undefined);
      throw err;
    }
    crashPoint('before-rename');
    try {
      await fs.rename(this.tmp, this.target);
    } catch (err) {
      await fs.unlink(this.tmp).catch(() => undefined);
      throw err;
    }
    crashPoint('after-rename');
    await fsyncDirectory(path.dirname(this.target));
  }

  /** Drops the temporary file; the target keeps what it had. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
    await fs.unlink(this.tmp).catch(() => undefined);
  }
}

/** Replaces `target` with what `body` writes, atomically. Returns the number of bytes written. */
export async function writeFileAtomic(target: string, body: (sink: ByteSink) => Promise<void>): Promise<number> {
  const file = await AtomicFile.open(target);
  try {
    await body(file);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
  return file.written;
}

/**
 * Atomic file replacement: the bytes go to a temporary file in the target's folder, are flushed
 * to disk (fsync), and only then renamed over the target; the folder is fsynced so the rename
 * itself survives a power cut. A crash at any point leaves either the old file or the complete new
 * one under the target name (at worst plus a stray `.<name>.<pid>.<random>.tmp` file).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Writes larger than this are split, so no single write approaches the 2 GiB limit of one call. */
const MAX_WRITE = 64 << 20;

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

/** Replaces `target` with what `body` writes, atomically. Returns the number of bytes written. */
export async function writeFileAtomic(target: string, body: (sink: ByteSink) => Promise<void>): Promise<number> {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', 0o644);
  let writes = 0;
  let written = 0;
  const sink: ByteSink = {
    async write(bytes: Uint8Array) {
      for (let at = 0; at < bytes.length; ) {
        const n = Math.min(MAX_WRITE, bytes.length - at);
        // FileHandle.write may write less than asked; loop until the chunk is out.
        const { bytesWritten } = await handle.write(bytes, at, n, null);
        at += bytesWritten;
        written += bytesWritten;
        crashPoint(`write:${++writes}`);
      }
    },
    get written() {
      return written;
    },
  };
  let closed = false;
  try {
    await body(sink);
    crashPoint('before-fsync');
    await handle.sync();
    await handle.close();
    closed = true;
    crashPoint('before-rename');
    await fs.rename(tmp, target);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  crashPoint('after-rename');
  await fsyncDirectory(dir);
  return written;
}

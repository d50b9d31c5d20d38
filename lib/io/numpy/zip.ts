/**
 * Just enough of the zip format (PKWARE APPNOTE) to read .npz archives: the end-of-central-directory
 * record (and its zip64 variant, which numpy writes for large arrays), the central directory, local
 * headers, stored and deflated entries.
 *
 * Archives come from elsewhere, so nothing here trusts a size it has not bounded: the directory is
 * read on its own (at most maxTensors entries), entries must not overlap (overlapping entries are
 * how small archives inflate to terabytes), and an entry is inflated only when its array is asked
 * for, as a stream that stops at the size its directory declares. Every entry read to its end is
 * checked against that size and its CRC-32.
 */
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

import { LimitExceededError } from '../../core/errors';
import type { ByteSource } from '../byte-source';
import { crc32 } from '../crc32';
import { CorruptFileError, UnsupportedFileError } from '../file-errors';
import type { ResolvedFileLimits } from '../limits';

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The end record's fixed part, and the longest comment that may follow it. */
const EOCD_BYTES = 22;
const MAX_COMMENT = 65535;

/** Bytes read from the file, or inflated, per step. */
export const STREAM_CHUNK = 1 << 20;

/** Receives a stream's bytes in order; returns false to stop reading. */
export type Sink = (chunk: Uint8Array) => boolean;

/** The bytes of one stored array (a zip entry, or a whole .npy file), delivered in order. */
export interface ByteStream {
  /** Where errors point ("archive.npz:item_factors.npy"). */
  readonly source: string;
  /** The file, for CorruptFileError. */
  readonly path: string;
  /** Exact length of the stream. */
  readonly size: number;
  /** Bytes the stream reads from the file to deliver `size` bytes. */
  readonly storedSize: number;
  /**
   * Delivers the bytes from the start, chunkBytes at a time, until the end or until `sink`
   * returns false. Read to the end, the stream is checked: exactly `size` bytes and, for zip
   * entries, the CRC-32; more than `size` is rejected as soon as it appears.
   */
  pump(sink: Sink, chunkBytes?: number): Promise<void>;
}

export interface ZipEntry {
  name: string;
  /** Bytes of the name as stored. */
  nameLength: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The central directory: every entry's name, sizes and place, checked before any is read. */
export async function readZipDirectory(src: ByteSource, limits: ResolvedFileLimits): Promise<ZipEntry[]> {
  const { path, size } = src;
  const corrupt = (detail: string) => new CorruptFileError(path, detail);
  const read = async (at: number, n: number, what: string): Promise<DataView> => {
    if (at < 0 || n < 0 || at + n > size) throw corrupt(`${what} lies outside the file (truncated?)`);
    const bytes = new Uint8Array(n);
    await src.read(bytes, at);
    return new DataView(bytes.buffer);
  };
  const safe = (v: bigint, what: string): number => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} (a zip64 field) is out of range`);
    return Number(v);
  };
  if (size < EOCD_BYTES) throw corrupt('no zip end-of-central-directory record (not a zip/npz file, or truncated)');
  // The end record sits in the last 22 bytes plus a comment of at most 65535.
  const tailStart = Math.max(0, size - EOCD_BYTES - MAX_COMMENT);
  const tail = await read(tailStart, size - tailStart, 'the end record');
  let eocd = -1;
  for (let at = tail.byteLength - EOCD_BYTES; at >= 0; at--) {
    if (tail.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no zip end-of-central-directory record (not a zip/npz file, or truncated)');
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = tailStart + eocd - 20;
    const l = await read(locator, 20, 'the zip64 locator');
    if (l.getUint32(0, true) !== EOCD64_LOCATOR) throw corrupt('zip64 fields without a zip64 locator');
    const at = safe(l.getBigUint64(8, true), 'the zip64 end record offset');
    const r = await read(at, 56, 'the zip64 end record');
    if (r.getUint32(0, true) !== EOCD64) throw corrupt('the zip64 locator does not point at a zip64 end record');
    count = safe(r.getBigUint64(32, true), 'the entry count');
    cdSize = safe(r.getBigUint64(40, true), 'the central directory size');
    cdOffset = safe(r.getBigUint64(48, true), 'the central directory offset');
  }
  if (count > limits.maxTensors) throw new LimitExceededError(path, 'maxTensors', limits.maxTensors, `the archive lists ${count} entries`);
  const cd = await read(cdOffset, cdSize, 'the central directory');
  const cdBytes = new Uint8Array(cd.buffer);
  const u16 = (at: number) => cd.getUint16(at, true);
  const u32 = (at: number) => cd.getUint32(at, true);
  const inside = (at: number, n: number, what: string) => {
    if (at + n > cdSize) throw corrupt(`${what} lies outside the central directory`);
  };
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let e = 0; e < count; e++) {
    inside(at, 46, `central directory entry ${e}`);
    if (u32(at) !== CENTRAL) throw corrupt(`central directory entry ${e} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let entrySize = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localOffset = u32(at + 42);
    inside(at + 46, nameLength + extraLength, `central directory entry ${e}`);
    const name = Buffer.from(cdBytes.buffer, at + 46, nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // zip64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in this order.
    const extraEnd = at + 46 + nameLength + extraLength;
    for (let x = at + 46 + nameLength; x + 4 <= extraEnd; ) {
      const id = u16(x);
      const length = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        const next = (what: string) => {
          if (f + 8 > Math.min(extraEnd, x + 4 + length)) throw corrupt(`the zip64 field of ${name} is too short for ${what}`);
          const v = safe(cd.getBigUint64(f, true), what);
          f += 8;
          return v;
        };
        if (entrySize === 0xffffffff) entrySize = next('its size');
        if (compressedSize === 0xffffffff) compressedSize = next('its compressed size');
        if (localOffset === 0xffffffff) localOffset = next('its offset');
      }
      x += 4 + length;
    }
    if (flags & 0x1) throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, `${path}: entry ${name} is encrypted`);
    entries.push({ name, nameLength, method, crc, compressedSize, size: entrySize, localOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  checkDisjoint(entries, cdOffset, path);
  return entries;
}

/**
 * Entries must occupy disjoint ranges before the directory. Archives whose entries share bytes
 * are the known way to make a small file inflate enormously (every entry re-reads the same data),
 * and no zip writer produces them.
 */
function checkDisjoint(entries: readonly ZipEntry[], cdOffset: number, path: string): void {
  const order = entries.map((_, i) => i).sort((a, b) => entries[a].localOffset - entries[b].localOffset);
  for (let k = 0; k < order.length; k++) {
    const e = entries[order[k]];
    const end = e.localOffset + 30 + e.nameLength + e.compressedSize;
    const next = k + 1 < order.length ? entries[order[k + 1]].localOffset : cdOffset;
    if (end > next) {
      const other = k + 1 < order.length ? `entry ${entries[order[k + 1]].name}` : 'the central directory';
      throw new CorruptFileError(path, `entry ${e.name} overlaps ${other} (a damaged archive, or a zip bomb)`);
    }
  }
}

/** One entry as a stream: stored bytes as they are, deflated ones inflated with a bound. */
export async function entryStream(src: ByteSource, entry: ZipEntry): Promise<ByteStream> {
  const { path } = src;
  const source = `${path}:${entry.name}`;
  const corrupt = (detail: string) => new CorruptFileError(path, `entry ${entry.name} ${detail}`);
  if (entry.method !== 0 && entry.method !== 8)
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      path,
      `${path}: entry ${entry.name} uses compression method ${entry.method}; recbridge reads stored (0) and deflate (8)`,
    );
  if (entry.localOffset + 30 > src.size) throw corrupt('has a local header outside the file (truncated?)');
  const local = new Uint8Array(30);
  await src.read(local, entry.localOffset);
  const lv = new DataView(local.buffer);
  if (lv.getUint32(0, true) !== LOCAL) throw corrupt('has a local header with a bad signature');
  const dataAt = entry.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  if (dataAt + entry.compressedSize > src.size) throw corrupt('has data past the end of the file (truncated?)');
  if (entry.method === 0 && entry.compressedSize !== entry.size)
    throw corrupt(`is stored with ${entry.compressedSize} bytes but its directory says ${entry.size}`);
  const checked = (): Sink & { finish(): void } => {
    let crc = 0;
    let length = 0;
    const sink = ((chunk: Uint8Array) => {
      length += chunk.length;
      if (length > entry.size) throw corrupt(`inflates to more than the ${entry.size} bytes its directory declares`);
      crc = crc32(chunk, crc);
      return true;
    }) as Sink & { finish(): void };
    sink.finish = () => {
      if (length !== entry.size) throw corrupt(`has ${length} bytes, its directory says ${entry.size}`);
      if (crc >>> 0 !== entry.crc >>> 0) throw corrupt('fails its CRC-32');
    };
    return sink;
  };
  return {
    source,
    path,
    size: entry.size,
    storedSize: entry.compressedSize,
    async pump(sink, chunkBytes = STREAM_CHUNK) {
      const check = checked();
      const both: Sink = (chunk) => check(chunk) && sink(chunk);
      const whole =
        entry.method === 0
          ? await pumpRange(src, dataAt, entry.compressedSize, both, chunkBytes)
          : await inflateRange(src, dataAt, entry.compressedSize, both, chunkBytes, corrupt);
      if (whole) check.finish();
    },
  };
}

/** A range of the file in chunks; resolves to whether it was read to the end. */
export async function pumpRange(src: ByteSource, from: number, length: number, sink: Sink, chunkBytes: number): Promise<boolean> {
  for (let at = 0; at < length; at += chunkBytes) {
    const piece = new Uint8Array(Math.min(chunkBytes, length - at));
    await src.read(piece, from + at);
    if (!sink(piece)) return at + piece.length >= length;
  }
  return true;
}

/**
 * Inflates a range of the file, feeding the inflater chunkBytes of compressed input at a time and
 * taking its output chunkBytes at a time, so that stopping (or a sink that throws) bounds the work
 * to one chunk beyond what was wanted, however much the data would inflate to.
 */
async function inflateRange(
  src: ByteSource,
  from: number,
  length: number,
  sink: Sink,
  chunkBytes: number,
  corrupt: (detail: string) => Error,
): Promise<boolean> {
  async function* compressed() {
    for (let at = 0; at < length; at += chunkBytes) {
      const piece = new Uint8Array(Math.min(chunkBytes, length - at));
      await src.read(piece, from + at);
      yield piece;
    }
  }
  const input = Readable.from(compressed(), { objectMode: false, highWaterMark: 1 });
  const inflate = zlib.createInflateRaw({ chunkSize: chunkBytes });
  let inputError: unknown = null;
  input.on('error', (err) => {
    inputError = err;
    inflate.destroy(err);
  });
  input.pipe(inflate);
  try {
    for await (const chunk of inflate) if (!sink(chunk as Uint8Array)) return false;
    return true;
  } catch (err) {
    if (inputError !== null || !isZlibError(err)) throw err;
    throw corrupt(`does not inflate (${(err as Error).message})`);
  } finally {
    input.unpipe(inflate);
    input.destroy();
    inflate.destroy();
  }
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

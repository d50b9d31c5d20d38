/**
 * Just enough of the zip format (PKWARE APPNOTE) to read .npz archives: the end-of-central-directory
 * record (and its zip64 variant, which numpy writes for large arrays), the central directory, local
 * headers, stored and deflated entries. Every entry is checked against its CRC-32 and size.
 */
import * as zlib from 'node:zlib';

import { crc32 } from '../crc32';
import { CorruptFileError, UnsupportedFileError } from '../file-errors';

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipEntry {
  name: string;
  /** Decompressed, CRC-checked bytes. */
  data: Uint8Array;
}

export function readZip(bytes: Uint8Array, source: string): ZipEntry[] {
  const corrupt = (detail: string) => new CorruptFileError(source, detail);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => dv.getUint16(at, true);
  const u32 = (at: number) => dv.getUint32(at, true);
  const u64 = (at: number) => {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('a zip64 field is out of range');
    return Number(v);
  };
  const inside = (at: number, n: number, what: string) => {
    if (at < 0 || at + n > bytes.length) throw corrupt(`${what} lies outside the file (truncated?)`);
  };
  // The end record sits in the last 22 bytes plus a comment of at most 65535.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (u32(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no zip end-of-central-directory record (not a zip/npz file, or truncated)');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    inside(locator, 20, 'the zip64 locator');
    if (u32(locator) !== EOCD64_LOCATOR) throw corrupt('zip64 fields without a zip64 locator');
    const at = u64(locator + 8);
    inside(at, 56, 'the zip64 end record');
    if (u32(at) !== EOCD64) throw corrupt('the zip64 locator does not point at a zip64 end record');
    count = u64(at + 32);
    cdSize = u64(at + 40);
    cdOffset = u64(at + 48);
  }
  inside(cdOffset, cdSize, 'the central directory');
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let e = 0; e < count; e++) {
    inside(at, 46, `central directory entry ${e}`);
    if (u32(at) !== CENTRAL) throw corrupt(`central directory entry ${e} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let csize = u32(at + 20);
    let usize = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let local = u32(at + 42);
    inside(at + 46, nameLength + extraLength, `central directory entry ${e}`);
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLength).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // zip64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in this order.
    for (let x = at + 46 + nameLength; x + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(x);
      const size = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (usize === 0xffffffff) {
          usize = u64(f);
          f += 8;
        }
        if (csize === 0xffffffff) {
          csize = u64(f);
          f += 8;
        }
        if (local === 0xffffffff) local = u64(f);
      }
      x += 4 + size;
    }
    if (flags & 0x1) throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', source, `${source}: entry ${name} is encrypted`);
    inside(local, 30, `the local header of ${name}`);
    if (u32(local) !== LOCAL) throw corrupt(`the local header of ${name} has a bad signature`);
    const dataAt = local + 30 + u16(local + 26) + u16(local + 28);
    inside(dataAt, csize, `the data of ${name}`);
    const raw = bytes.subarray(dataAt, dataAt + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = zlib.inflateRawSync(raw);
      } catch (err) {
        throw corrupt(`entry ${name} does not inflate (${(err as Error).message})`);
      }
    } else
      throw new UnsupportedFileError(
        'ERR_UNSUPPORTED_FORMAT',
        source,
        `${source}: entry ${name} uses compression method ${method}; recbridge reads stored (0) and deflate (8)`,
      );
    if (data.length !== usize) throw corrupt(`entry ${name} has ${data.length} bytes, its directory says ${usize}`);
    if (crc32(data) !== crc) throw corrupt(`entry ${name} fails its CRC-32`);
    entries.push({ name, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

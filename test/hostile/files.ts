// Generators of hostile files: small files that ask a loader for a lot (memory, time, stack). Each
// returns the path it wrote. They build the files byte by byte, as an attacker would, rather than
// through recbridge's writers (which refuse to write most of them); where a file must get past a
// checksum to reach the check under test, the checksum is computed, since a checksum is no secret.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { MatrixFactorization } from '../../lib';
import { modelToTensors } from '../../lib/io/model-file/model-tensors';
import { computeHeaderCrc, headerCrcPosition } from '../../lib/io/safetensors/header-checksum';
import { writeSafetensors } from '../../lib/io/safetensors/write';

const MiB = 1 << 20;

/** A safetensors file from header text and data bytes (the header padded with spaces to 8 bytes). */
export function safetensorsBytes(header: string | Buffer, data: Buffer = Buffer.alloc(0)): Buffer {
  const text = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const padded = Buffer.concat([text, Buffer.alloc((8 - (text.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([length, padded, data]);
}

export function write(dir: string, name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** A file of `size` bytes that holds only `head` (sparse: no disk is used for the rest). */
export function sparse(dir: string, name: string, head: Uint8Array, size: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, head);
  fs.truncateSync(file, size);
  return file;
}

/** `depth` nested arrays: "[[[…]]]". */
export function deepArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A flat JSON array of n zeros. */
export function flatZeros(n: number): string {
  return `[${'0,'.repeat(n - 1)}0]`;
}

/** The tensors and metadata of a tiny saved model, to build files around. */
function tinyModel() {
  const model = new MatrixFactorization({ users: 3, items: 4, dim: 2, seed: 1 });
  return modelToTensors(model, false);
}

/**
 * A recbridge model file whose metadata is edited after saving (the header checksum recomputed, so
 * the edit is what the loader meets). `edit` receives the metadata strings.
 */
export async function editedModel(dir: string, name: string, edit: (meta: Record<string, string>) => void): Promise<string> {
  const file = path.join(dir, name);
  const { tensors, metadata } = tinyModel();
  await writeSafetensors(file, tensors, metadata);
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const meta = header.__metadata__ as Record<string, string>;
  edit(meta);
  meta['recbridge.header_crc32'] = '00000000';
  // The data keeps its offsets (they count from the end of the header), whatever the header's length.
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.concat([text, Buffer.alloc((64 - ((8 + text.length) % 64)) % 64, 0x20)]);
  const at = headerCrcPosition(padded);
  padded.write(computeHeaderCrc(padded, at), at, 'latin1');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  fs.writeFileSync(file, Buffer.concat([length, padded, bytes.subarray(8 + n)]));
  return file;
}

/** A model whose users vocabulary is a tensor holding `json` (checksums valid). */
export async function vocabularyTensorModel(dir: string, name: string, json: string): Promise<string> {
  const file = path.join(dir, name);
  const { tensors, metadata } = tinyModel();
  const bytes = Buffer.from(json, 'utf8');
  tensors.push({ name: 'vocabulary.users', dtype: 'U8', shape: [bytes.length], bytes });
  metadata['recbridge.vocabularies'] = JSON.stringify({ users: { tensor: 'vocabulary.users', count: 3 } });
  await writeSafetensors(file, tensors, metadata);
  return file;
}

/** A safetensors header listing n tensors of zero bytes. */
export function manyTensorsHeader(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
  return `{${parts.join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// numpy

/** A .npy 1.0 header for an array (no data). */
export function npyHeader(descr: string, shapeText: string, version = 1): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const pre = version === 1 ? 10 : 12;
  dict = `${dict.padEnd(Math.ceil((pre + dict.length + 1) / 64) * 64 - pre - 1, ' ')}\n`;
  const len = Buffer.alloc(version === 1 ? 2 : 4);
  if (version === 1) len.writeUInt16LE(dict.length);
  else len.writeUInt32LE(dict.length);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([version, 0]), len, Buffer.from(dict, 'latin1')]);
}

export interface RawEntry {
  name: string;
  /** The bytes as stored (compressed for method 8). */
  body: Buffer;
  method: 0 | 8;
  crc: number;
  /** The size the directory declares. */
  size: number;
  /** Where the directory says the local header is (default: where it is written). */
  localOffset?: number;
}

/** A zip archive from entries as they should appear, sizes and CRCs as given (lies included). */
export function zipBytes(entries: RawEntry[], { zip64Count }: { zip64Count?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc >>> 0, 14);
    local.writeUInt32LE(Math.min(e.body.length, 0xffffffff), 18);
    local.writeUInt32LE(Math.min(e.size, 0xffffffff), 22);
    local.writeUInt16LE(name.length, 26);
    const big = e.size >= 0xffffffff;
    const extra = big ? Buffer.alloc(12) : Buffer.alloc(0);
    if (big) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(8, 2);
      extra.writeBigUInt64LE(BigInt(e.size), 4);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc >>> 0, 16);
    c.writeUInt32LE(e.body.length, 20);
    c.writeUInt32LE(big ? 0xffffffff : e.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(e.localOffset ?? offset, 42);
    central.push(c, name, extra);
    if (e.localOffset === undefined) {
      parts.push(local, name, e.body);
      offset += 30 + name.length + e.body.length;
    }
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = zip64Count ?? entries.length;
  if (count >= 0xffff) {
    const eocd64 = Buffer.alloc(56);
    eocd64.writeUInt32LE(0x06064b50, 0);
    eocd64.writeBigUInt64LE(44n, 4);
    eocd64.writeBigUInt64LE(BigInt(count), 24);
    eocd64.writeBigUInt64LE(BigInt(count), 32);
    eocd64.writeBigUInt64LE(BigInt(cd.length), 40);
    eocd64.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    end.writeUInt16LE(0xffff, 8);
    end.writeUInt16LE(0xffff, 10);
    end.writeUInt32LE(cd.length, 12);
    end.writeUInt32LE(offset, 16);
    return Buffer.concat([...parts, cd, eocd64, locator, end]);
  }
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/**
 * A raw deflate stream of `head` followed by `mib` MiB of zeros, and the CRC-32 and size of what it
 * inflates to, built without ever holding the inflated bytes: each piece is compressed with a full
 * flush, which resets the compressor, so the piece for one MiB of zeros can be repeated verbatim.
 */
export function zeroBomb(head: Buffer, mib: number): { body: Buffer; crc: number; size: number } {
  const flushed = (data: Buffer) => zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 });
  const zeros = Buffer.alloc(MiB);
  const piece = flushed(zeros);
  let crc = zlib.crc32(head);
  for (let i = 0; i < mib; i++) crc = zlib.crc32(zeros, crc);
  const body = Buffer.concat([flushed(head), ...new Array<Buffer>(mib).fill(piece), zlib.deflateRawSync(Buffer.alloc(0))]);
  return { body, crc: crc >>> 0, size: head.length + mib * MiB };
}

/** A stored .npz entry holding a small float32 array. */
export function smallArrayEntry(name: string, rows: number, dim: number): RawEntry {
  const values = Buffer.from(Float32Array.from({ length: rows * dim }, (_, i) => i / 8).buffer);
  const body = Buffer.concat([npyHeader('<f4', `${rows}, ${dim}`), values]);
  return { name, body, method: 0, crc: zlib.crc32(body) >>> 0, size: body.length };
}

// ---------------------------------------------------------------------------------------------
// ONNX: protobuf by hand (field numbers from onnx.proto3), through the package's own writer.

export { ProtoWriter } from '../../lib/io/onnx/protobuf';

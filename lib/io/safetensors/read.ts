/**
 * Reading safetensors files: the header first (bounded, parsed, validated, its checksum checked when
 * recbridge wrote it), then only the tensors asked for, into one SharedArrayBuffer so that the
 * result can back training tables directly. Every tensor lands on a 64-byte boundary in memory,
 * whatever its offset in the file, so tables built on them scan cache-line aligned.
 */
import { allocateBuffer } from '../../core/shared-memory';
import * as fs from 'node:fs/promises';

import { native } from '../../core/native';
import { crc32, crcHex } from '../crc32';
import { LimitExceededError } from '../../core/errors';
import { CorruptFileError, UnsupportedFileError } from '../file-errors';
import { type JsonBounds, type JsonLimitNames, parseBoundedJson } from '../json-scan';
import { DEFAULT_FILE_LIMITS, type ResolvedFileLimits } from '../limits';
import { ALIGNMENT, DTYPE_BYTES, LITTLE_ENDIAN, type Dtype, type SafetensorsHeader, type TensorEntry, validateHeader } from './format';
import { HEADER_CRC_KEY, computeHeaderCrc, headerCrcPosition } from './header-checksum';
import { CHECKSUMS_KEY } from './write';

const MAX_READ = 64 << 20;
/** Read size when checksums are computed alongside: large enough to amortise a read, small enough to stay in cache. */
const CHUNK = 8 << 20;

async function readExactly(handle: fs.FileHandle, into: Uint8Array, position: number, path: string): Promise<void> {
  for (let at = 0; at < into.length; ) {
    const n = Math.min(MAX_READ, into.length - at);
    const { bytesRead } = await handle.read(into, at, n, position + at);
    // The size was checked before reading, so a short read means the file shrank meanwhile.
    if (bytesRead === 0)
      throw new CorruptFileError(path, `the file ended at byte ${position + at} while reading (was it truncated while being read?)`);
    at += bytesRead;
  }
}

/** Reads and validates the header of an open file. */
export async function readHeaderFrom(
  handle: fs.FileHandle,
  path: string,
  limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS,
): Promise<SafetensorsHeader> {
  if (!LITTLE_ENDIAN)
    throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, 'recbridge reads safetensors files only on little-endian hosts');
  const { size } = await handle.stat();
  if (size < 8) throw new CorruptFileError(path, `the file holds ${size} bytes, fewer than the 8-byte header length (truncated?)`);
  const prefix = new Uint8Array(8);
  await readExactly(handle, prefix, 0, path);
  const raw = new Uint8Array(headerLength(prefix, size, path, limits));
  await readExactly(handle, raw, 8, path);
  return parseHeaderBytes(path, raw, size, limits);
}

/** readHeaderFrom for a whole file already in memory (the header is a view, not a copy). */
export function headerOfBytes(bytes: Uint8Array, path: string, limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS): SafetensorsHeader {
  if (!LITTLE_ENDIAN)
    throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, 'recbridge reads safetensors files only on little-endian hosts');
  const size = bytes.length;
  if (size < 8) throw new CorruptFileError(path, `the file holds ${size} bytes, fewer than the 8-byte header length (truncated?)`);
  const n = headerLength(bytes.subarray(0, 8), size, path, limits);
  return parseHeaderBytes(path, bytes.subarray(8, 8 + n), size, limits);
}

/**
 * The header length the 8-byte prefix gives, checked against the file size (a length past the end
 * is damage) and then against maxHeaderBytes (a long header may be genuine), before anything is
 * allocated for it.
 */
function headerLength(prefix: Uint8Array, size: number, path: string, limits: ResolvedFileLimits): number {
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n) throw new CorruptFileError(path, `the header length is ${length} bytes, too small for a JSON object`);
  if (8n + length > BigInt(size))
    throw new CorruptFileError(
      path,
      `the header claims ${length} bytes but the file holds only ${size - 8} after the length (truncated, or not a safetensors file)`,
    );
  const n = Number(length);
  if (n > limits.maxHeaderBytes) throw new LimitExceededError(path, 'maxHeaderBytes', limits.maxHeaderBytes, `its header is ${n} bytes`);
  return n;
}

/**
 * The bounds of a safetensors header: one member per tensor and one for __metadata__, arrays no
 * longer than a shape (or the two data_offsets).
 */
function headerBounds(limits: ResolvedFileLimits): { bounds: JsonBounds; names: JsonLimitNames } {
  return {
    bounds: {
      maxDepth: limits.maxJsonDepth,
      maxValues: limits.maxJsonValues,
      maxMembers: limits.maxTensors + 1,
      maxArray: Math.max(limits.maxDims, 2),
    },
    names: {
      what: 'its header',
      depth: 'maxJsonDepth',
      values: 'maxJsonValues',
      members: { limit: 'maxTensors', max: limits.maxTensors, describe: (n) => `lists more than ${n - 1} tensors` },
      array: { limit: 'maxDims', max: limits.maxDims, describe: (n) => `gives a tensor ${n} dimensions or more` },
    },
  };
}

/** Validates header bytes (as read from the file) for a file of fileSize bytes. */
export function parseHeaderBytes(
  path: string,
  raw: Uint8Array,
  fileSize: number,
  limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS,
): SafetensorsHeader {
  if (raw[0] !== 0x7b) throw new CorruptFileError(path, 'the header does not start with "{" (not a safetensors file?)');
  const { bounds, names } = headerBounds(limits);
  const json = parseBoundedJson(raw, path, path, bounds, names);
  const meta = (json as { __metadata__?: Record<string, unknown> } | null)?.__metadata__;
  if (meta && typeof meta === 'object' && HEADER_CRC_KEY in meta) {
    const position = headerCrcPosition(raw);
    if (position < 0)
      throw new CorruptFileError(
        path,
        `the header checksum field ${HEADER_CRC_KEY} is ${position === -2 ? 'repeated' : 'not a string of 8 hex digits'}`,
      );
    const stored = meta[HEADER_CRC_KEY];
    const actual = computeHeaderCrc(raw, position);
    if (stored !== actual)
      throw new CorruptFileError(path, `the header fails its checksum (stored ${JSON.stringify(stored)}, computed "${actual}")`);
  }
  return validateHeader(path, json, fileSize, 8 + raw.length, limits.maxDims);
}

/** Opens a file and returns its validated header. */
export async function readSafetensorsHeader(path: string, limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS): Promise<SafetensorsHeader> {
  const handle = await fs.open(path, 'r');
  try {
    return await readHeaderFrom(handle, path, limits);
  } finally {
    await handle.close();
  }
}

/**
 * The per-tensor checksums recbridge keeps in the metadata (CHECKSUMS_KEY), or null for a file from
 * another writer. The JSON is bounded like the header's.
 */
export function storedChecksums(
  header: SafetensorsHeader,
  limits: ResolvedFileLimits = DEFAULT_FILE_LIMITS,
): Record<string, string> | null {
  const text = header.metadata?.[CHECKSUMS_KEY];
  if (text === undefined) return null;
  const json = parseBoundedJson(
    text,
    header.path,
    header.path,
    { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues },
    { what: CHECKSUMS_KEY, depth: 'maxJsonDepth', values: 'maxJsonValues' },
  );
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new CorruptFileError(header.path, `${CHECKSUMS_KEY} is not a map of tensor names to checksums`);
  return json as Record<string, string>;
}

/** A tensor's bytes in memory (a view into the shared buffer of one read). */
export interface LoadedTensor extends TensorEntry {
  bytes: Uint8Array;
}

/**
 * Where the named tensors will live: one SharedArrayBuffer spanning them in file order, with 64 bytes
 * of room per tensor so that realign() can move each onto a cache-line boundary after the read.
 */
function placeTensors(
  header: SafetensorsHeader,
  names: ReadonlySet<string>,
): { chosen: TensorEntry[]; first: number; span: Uint8Array; buffer: ArrayBufferLike } | null {
  const chosen = header.tensors.filter((t) => names.has(t.name));
  if (chosen.length === 0) return null;
  // A loop, not Math.min(...): spreading a hundred thousand tensors overflows the stack.
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const t of chosen) {
    if (t.begin < first) first = t.begin;
    if (t.end > last) last = t.end;
  }
  const buffer = allocateBuffer(last - first + ALIGNMENT * (chosen.length + 1), true);
  // Place byte `first` at an address congruent to it mod 64, so tensors aligned in the file need no move.
  const misalignment = native.byteAlignment(new Uint8Array(buffer, 0, 1));
  const shift = ((((first % ALIGNMENT) - misalignment) % ALIGNMENT) + ALIGNMENT) % ALIGNMENT;
  return { chosen, first, span: new Uint8Array(buffer, shift, last - first), buffer };
}

/**
 * Moves every tensor of a read span onto a 64-byte boundary of its buffer (files from other writers,
 * and recbridge's own small tensors, need not be aligned), returning each tensor's bytes. Tensors only
 * move towards the end, so moving them from the last to the first never overwrites one not yet moved.
 */
function realign(placed: { chosen: readonly TensorEntry[]; first: number; span: Uint8Array; buffer: ArrayBufferLike }): Uint8Array[] {
  const { chosen, first, span, buffer } = placed;
  const base = native.byteAlignment(new Uint8Array(buffer, 0, 1));
  const memory = new Uint8Array(buffer);
  const from = chosen.map((t) => span.byteOffset + (t.begin - first));
  const to: number[] = [];
  let at = 0;
  for (const [i, t] of chosen.entries()) {
    at = Math.max(at, from[i]);
    if (t.end > t.begin) at += (ALIGNMENT - ((base + at) % ALIGNMENT)) % ALIGNMENT;
    to.push(at);
    at += t.end - t.begin;
  }
  for (let i = chosen.length - 1; i >= 0; i--)
    if (to[i] !== from[i]) memory.copyWithin(to[i], from[i], from[i] + (chosen[i].end - chosen[i].begin));
  return chosen.map((t, i) => new Uint8Array(buffer, to[i], t.end - t.begin));
}

/**
 * The tensors, each on a 64-byte boundary (realign), each checked against its stored CRC-32 when
 * there are checksums (computed over the bytes as read, before they moved).
 */
function verifiedTensors(
  path: string,
  placed: { chosen: readonly TensorEntry[]; first: number; span: Uint8Array; buffer: ArrayBufferLike },
  checksums: Readonly<Record<string, string>> | null,
  crcOf: (t: TensorEntry) => number,
): Map<string, LoadedTensor> {
  if (checksums)
    for (const t of placed.chosen) {
      const stored = checksums[t.name];
      if (stored === undefined) throw new CorruptFileError(path, `tensor ${JSON.stringify(t.name)} has no checksum in the metadata`);
      const actual = crcHex(crcOf(t));
      if (stored !== actual)
        throw new CorruptFileError(
          path,
          `tensor ${JSON.stringify(t.name)} fails its checksum (stored ${JSON.stringify(stored)}, computed "${actual}")`,
        );
    }
  const bytes = realign(placed);
  return new Map(placed.chosen.map((t, i) => [t.name, { ...t, bytes: bytes[i] }]));
}

/**
 * Reads the named tensors (in one pass over the span that holds them) into one SharedArrayBuffer.
 * With `checksums`, every tensor read must match its CRC-32 there.
 */
export async function readTensorsFrom(
  handle: fs.FileHandle,
  header: SafetensorsHeader,
  names: ReadonlySet<string>,
  checksums: Readonly<Record<string, string>> | null,
): Promise<Map<string, LoadedTensor>> {
  const placed = placeTensors(header, names);
  if (!placed) return new Map();
  const { chosen, first, span } = placed;
  // Read in chunks and checksum each chunk while the next one is being read (the read runs on a
  // libuv thread), so verification overlaps I/O and touches the bytes while they are in cache.
  const crcs = new Map<string, number>(chosen.map((t) => [t.name, 0]));
  // chosen is in file order (ascending begin), so each chunk resumes at the first tensor the
  // previous one did not finish: every tensor is visited once per chunk it overlaps, not per chunk.
  let next = 0;
  const absorb = (from: number, to: number) => {
    for (let i = next; i < chosen.length; i++) {
      const t = chosen[i];
      if (t.begin - first >= to) break;
      const a = Math.max(from, t.begin - first);
      const b = Math.min(to, t.end - first);
      if (a < b) crcs.set(t.name, crc32(span.subarray(a, b), crcs.get(t.name)));
      if (t.end - first <= to && i === next) next = i + 1;
    }
  };
  const read = (from: number) =>
    readExactly(handle, span.subarray(from, Math.min(span.length, from + CHUNK)), header.dataStart + first + from, header.path);
  let pending = span.length > 0 ? read(0) : null;
  for (let from = 0; pending; from += CHUNK) {
    await pending;
    pending = from + CHUNK < span.length ? read(from + CHUNK) : null;
    if (checksums) {
      try {
        absorb(from, Math.min(span.length, from + CHUNK));
      } catch (err) {
        await pending?.catch(() => undefined);
        throw err;
      }
    }
  }
  return verifiedTensors(header.path, placed, checksums, (t) => crcs.get(t.name)!);
}

/** readTensorsFrom for a whole file in memory: the tensors are copied into one SharedArrayBuffer too. */
export function tensorsOfBytes(
  bytes: Uint8Array,
  header: SafetensorsHeader,
  names: ReadonlySet<string>,
  checksums: Readonly<Record<string, string>> | null,
): Map<string, LoadedTensor> {
  const placed = placeTensors(header, names);
  if (!placed) return new Map();
  const { first, span } = placed;
  span.set(bytes.subarray(header.dataStart + first, header.dataStart + first + span.length));
  return verifiedTensors(header.path, placed, checksums, (t) => crc32(span.subarray(t.begin - first, t.end - first)));
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** A typed view of a tensor's bytes (a copy only when they are not aligned to the element size). */
export function typedView(t: LoadedTensor, path: string): Typed {
  const make = (ctor: { new (b: ArrayBufferLike, o: number, n: number): Typed; BYTES_PER_ELEMENT: number }) => {
    const n = t.bytes.byteLength / ctor.BYTES_PER_ELEMENT;
    if (t.bytes.byteOffset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(t.bytes.buffer, t.bytes.byteOffset, n);
    const copy = new ctor(allocateBuffer(t.bytes.byteLength, true), 0, n);
    new Uint8Array(copy.buffer).set(t.bytes);
    return copy;
  };
  switch (t.dtype) {
    case 'F32':
      return make(Float32Array);
    case 'F64':
      return make(Float64Array);
    case 'I32':
      return make(Int32Array);
    case 'I64':
      return make(BigInt64Array);
    case 'U8':
    case 'BOOL':
      return t.bytes;
    default:
      throw new UnsupportedFileError(
        'ERR_UNSUPPORTED_FORMAT',
        path,
        `${path}: tensor ${JSON.stringify(t.name)} has dtype ${t.dtype}, which this reader does not convert`,
      );
  }
}

/** IEEE half → float (exact: every half is a float). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Float tensors (F32, F16, BF16, F64) as float32 values on a SharedArrayBuffer. */
export function toFloat32(t: LoadedTensor, path: string): Float32Array {
  const n = t.bytes.byteLength / DTYPE_BYTES[t.dtype as Dtype];
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  switch (t.dtype) {
    case 'F32': {
      const v = typedView(t, path) as Float32Array;
      return v.buffer instanceof SharedArrayBuffer ? v : copyShared(v);
    }
    case 'F64': {
      const out = new Float32Array(allocateBuffer(n * 4, true));
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(allocateBuffer(n * 4, true));
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32's bits.
      const out = new Float32Array(allocateBuffer(n * 4, true));
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new UnsupportedFileError(
        'ERR_UNSUPPORTED_FORMAT',
        path,
        `${path}: tensor ${JSON.stringify(t.name)} has dtype ${t.dtype}; an embedding table needs F32, F16, BF16 or F64`,
      );
  }
}

function copyShared(v: Float32Array): Float32Array {
  const out = new Float32Array(allocateBuffer(v.byteLength, true));
  out.set(v);
  return out;
}

/**
 * The .npy format (numpy's NEP 1): magic "\x93NUMPY", version, a little-endian header length
 * (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict literal giving descr, fortran_order and shape,
 * then the raw elements. Only plain numeric dtypes are accepted (no structured or object arrays).
 */
import { allocateBuffer } from '../../core/shared-memory';
import { LimitExceededError } from '../../core/errors';
import type { ByteSource } from '../byte-source';
import { CorruptFileError, UnsupportedFileError } from '../file-errors';
import { INFLATE_RATIO_FLOOR } from '../limits';
import { type ByteStream, STREAM_CHUNK, pumpRange } from './zip';

export interface NpyHeader {
  /** numpy's type string, e.g. "<f4". */
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  /** Offset of the first element. */
  dataStart: number;
  /** Bytes of the elements (elements × item size). */
  dataBytes: number;
}

/** An array with its element bytes as stored. */
export interface NpyArray extends NpyHeader {
  data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const DESCR = /^([<>|=])?([fiub])(\d+)$/;
const SIZES: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
/** Magic, version and the longest header-length field (4 bytes in formats 2.0 and 3.0). */
const PREAMBLE = 12;

function parseDescr(descr: string, source: string): { kind: string; size: number; bigEndian: boolean } {
  const m = DESCR.exec(descr);
  if (!m || !SIZES[m[2]]?.includes(Number(m[3]))) {
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_FORMAT',
      source,
      `${source} holds an array of dtype ${JSON.stringify(descr)}; recbridge reads numeric arrays (f2, f4, f8, i1-i8, u1-u8, b1)`,
    );
  }
  return { kind: m[2], size: Number(m[3]), bigEndian: m[1] === '>' };
}

/** Where the header dict ends (= where the data starts), from the preamble, checked against the limit. */
function headerEnd(bytes: Uint8Array, streamSize: number, source: string, maxHeaderBytes: number): number {
  const corrupt = (detail: string) => new CorruptFileError(source, detail);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt('it does not start with the .npy magic "\\x93NUMPY"');
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_VERSION',
      source,
      `${source} is .npy format ${major}.${bytes[7]}; recbridge reads 1.0 to 3.0`,
    );
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw corrupt('truncated header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (start + headerLength > streamSize) throw corrupt(`the header claims ${headerLength} bytes but the file is shorter (truncated?)`);
  if (headerLength > maxHeaderBytes)
    throw new LimitExceededError(source, 'maxHeaderBytes', maxHeaderBytes, `its .npy header is ${headerLength} bytes`);
  return start + headerLength;
}

/**
 * The header of a .npy array from its first bytes (`bytes` must hold the whole header; a stream
 * reads it with readNpyHeader). Checked before any element is read: the dtype, at most maxDims
 * dimensions, and elements that fit in the `streamSize` bytes the array occupies.
 */
export function parseNpyHeader(bytes: Uint8Array, streamSize: number, source: string, maxHeaderBytes: number, maxDims: number): NpyHeader {
  const corrupt = (detail: string) => new CorruptFileError(source, detail);
  const dataStart = headerEnd(bytes, streamSize, source, maxHeaderBytes);
  if (bytes.length < dataStart) throw corrupt('truncated header');
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, dataStart - start).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    if (/['"]descr['"]\s*:\s*\[/.test(header))
      throw new UnsupportedFileError(
        'ERR_UNSUPPORTED_FORMAT',
        source,
        `${source} holds a structured array; recbridge reads plain numeric arrays`,
      );
    throw corrupt(`its header has no descr: ${JSON.stringify(header.trim())}`);
  }
  if (fortran === undefined || shapeText === undefined)
    throw corrupt(`its header lacks fortran_order or shape: ${JSON.stringify(header.trim())}`);
  const parts = shapeText.split(',').map((p) => p.trim().replace(/L$/, ''));
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > maxDims) throw new LimitExceededError(source, 'maxDims', maxDims, `its array has ${parts.length} dimensions`);
  const { size } = parseDescr(descr, source);
  let count = 1;
  const shape = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw corrupt(`its shape (${shapeText}) is not a tuple of integers`);
    const d = Number(p);
    count *= d;
    if (!Number.isSafeInteger(d) || !Number.isSafeInteger(count * size)) throw corrupt(`its shape (${shapeText}) is too large to address`);
    return d;
  });
  const dataBytes = count * size;
  if (dataStart + dataBytes > streamSize)
    throw corrupt(
      `shape (${shape.join(', ')}) of ${descr} needs ${dataBytes} bytes but ${streamSize - dataStart} follow the header (truncated?)`,
    );
  return { descr, shape, fortranOrder: fortran === 'True', dataStart, dataBytes };
}

/**
 * Reads just the header from the start of a stream: at most the preamble and maxHeaderBytes. A
 * small stream is read whole, so that a zip entry's CRC-32 is checked before its header is trusted.
 */
export async function readNpyHeader(stream: ByteStream, maxHeaderBytes: number, maxDims: number): Promise<NpyHeader> {
  const chunks: Uint8Array[] = [];
  let have = 0;
  const whole = stream.size <= HEADER_CHUNK;
  let need = PREAMBLE;
  const gathered = () => (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have));
  await stream.pump((chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    if (!whole && need === PREAMBLE && have >= PREAMBLE) need = headerEnd(gathered(), stream.size, stream.source, maxHeaderBytes);
    return whole || have < need;
  }, HEADER_CHUNK);
  return parseNpyHeader(gathered(), stream.size, stream.source, maxHeaderBytes, maxDims);
}

/** Small reads for headers: a peek at an entry inflates little more than its header. */
const HEADER_CHUNK = 16 << 10;

/**
 * The elements of an array whose header was read, as float32 in C (row-major) order on a
 * SharedArrayBuffer. A deflated entry that could inflate to much more than it occupies is first
 * inflated without being kept, to check its size and CRC-32: memory is only allocated for an array
 * the archive has proved it holds. Little-endian float32 in C order is read in place, without a copy.
 */
export async function readNpyFloat32(stream: ByteStream, header: NpyHeader): Promise<Float32Array> {
  const { kind, size, bigEndian } = parseDescr(header.descr, stream.source);
  if (stream.size > Math.max(INFLATE_RATIO_FLOOR, 2 * stream.storedSize)) await stream.pump(() => true);
  const inPlace = kind === 'f' && size === 4 && !bigEndian && (!header.fortranOrder || header.shape.length < 2);
  const data = new Uint8Array(allocateBuffer(header.dataBytes, inPlace));
  const { dataStart, dataBytes } = header;
  let at = 0;
  await stream.pump((chunk) => {
    const from = Math.max(0, dataStart - at);
    const to = Math.min(chunk.length, dataStart + dataBytes - at);
    if (from < to) data.set(chunk.subarray(from, to), at + from - dataStart);
    at += chunk.length;
    return true;
  });
  if (inPlace) return new Float32Array(data.buffer, 0, dataBytes / 4);
  return npyToFloat32({ ...header, data }, stream.source);
}

/** A whole .npy file (or any byte range holding one array) as a stream. */
export function fileStream(src: ByteSource): ByteStream {
  return {
    source: src.path,
    path: src.path,
    size: src.size,
    storedSize: src.size,
    async pump(sink, chunkBytes = STREAM_CHUNK) {
      await pumpRange(src, 0, src.size, sink, chunkBytes);
    },
  };
}

/** The array as float32 in C (row-major) order, on a SharedArrayBuffer. */
export function npyToFloat32(a: NpyArray, source: string): Float32Array {
  const { kind, size, bigEndian } = parseDescr(a.descr, source);
  const n = a.data.length / size;
  const dv = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const le = !bigEndian;
  const read: (i: number) => number =
    kind === 'f'
      ? size === 4
        ? (i) => dv.getFloat32(i * 4, le)
        : size === 8
          ? (i) => dv.getFloat64(i * 8, le)
          : (i) => halfBits(dv.getUint16(i * 2, le))
      : kind === 'b'
        ? (i) => a.data[i]
        : size === 8
          ? (i) => Number(kind === 'i' ? dv.getBigInt64(i * 8, le) : dv.getBigUint64(i * 8, le))
          : (i) => {
              const at = i * size;
              if (size === 1) return kind === 'i' ? dv.getInt8(at) : dv.getUint8(at);
              if (size === 2) return kind === 'i' ? dv.getInt16(at, le) : dv.getUint16(at, le);
              return kind === 'i' ? dv.getInt32(at, le) : dv.getUint32(at, le);
            };
  const out = new Float32Array(allocateBuffer(n * 4, true));
  if (!a.fortranOrder || a.shape.length < 2) {
    for (let i = 0; i < n; i++) out[i] = read(i);
    return out;
  }
  // Fortran order: the first index varies fastest. Walk the file in order and place each element.
  const dims = a.shape;
  const cStrides = new Array<number>(dims.length);
  for (let k = dims.length - 1, stride = 1; k >= 0; k--) {
    cStrides[k] = stride;
    stride *= dims[k];
  }
  const index = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = 0;
    for (let k = 0; k < dims.length; k++) at += index[k] * cStrides[k];
    out[at] = read(i);
    for (let k = 0; k < dims.length && ++index[k] === dims[k]; k++) index[k] = 0;
  }
  return out;
}

function halfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A .npy 1.0 file of little-endian float32 values (rows × dim when shape has two entries). */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // numpy pads the header with spaces and ends it with a newline so the data is 64-byte aligned.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, ' ')}\n`;
  const out = new Uint8Array(total + values.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), total);
  return out;
}

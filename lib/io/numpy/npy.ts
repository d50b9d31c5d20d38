/**
 * The .npy format (numpy's NEP 1): magic "\x93NUMPY", version, a little-endian header length
 * (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict literal giving descr, fortran_order and shape,
 * then the raw elements. Only plain numeric dtypes are accepted (no structured or object arrays).
 */
import { CorruptFileError, UnsupportedFileError } from '../file-errors';

export interface NpyArray {
  /** numpy's type string, e.g. "<f4". */
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  /** The element bytes as stored. */
  data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const DESCR = /^([<>|=])?([fiub])(\d+)$/;
const SIZES: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };

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

export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const corrupt = (detail: string) => new CorruptFileError(source, detail);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt('it does not start with the .npy magic "\\x93NUMPY"');
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw new UnsupportedFileError(
      'ERR_UNSUPPORTED_VERSION',
      source,
      `${source} is .npy format ${major}.${bytes[7]}; recbridge reads 1.0 to 3.0`,
    );
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw corrupt('truncated header');
  const headerLength = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (start + headerLength > bytes.length) throw corrupt(`the header claims ${headerLength} bytes but the file is shorter (truncated?)`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLength).toString(major === 3 ? 'utf8' : 'latin1');
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
  const shape = shapeText
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s !== '')
    .map((s) => {
      if (!/^\d+$/.test(s)) throw corrupt(`its shape (${shapeText}) is not a tuple of integers`);
      return Number(s);
    });
  const { size } = parseDescr(descr, source);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLength;
  if (dataStart + count * size > bytes.length)
    throw corrupt(
      `shape (${shape.join(', ')}) of ${descr} needs ${count * size} bytes but ${bytes.length - dataStart} follow the header (truncated?)`,
    );
  return { descr, shape, fortranOrder: fortran === 'True', data: bytes.subarray(dataStart, dataStart + count * size) };
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
  const out = new Float32Array(new SharedArrayBuffer(n * 4));
  if (!a.fortranOrder || a.shape.length < 2) {
    for (let i = 0; i < n; i++) out[i] = read(i);
    return out;
  }
  // Fortran order: the first index varies fastest. Walk the file in order and place each element.
  const dims = a.shape;
  const cStrides = dims.map((_, k) => dims.slice(k + 1).reduce((x, y) => x * y, 1));
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

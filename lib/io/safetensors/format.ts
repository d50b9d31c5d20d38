/**
 * The safetensors layout, from its public specification: an 8-byte little-endian header length N,
 * N bytes of JSON header, then the tensor bytes. The header maps each tensor name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the end of the header) and may
 * hold `__metadata__`, a string → string map. Here: validation of a parsed header and the dtype table.
 */
import { LimitExceededError } from '../../core/errors';
import { CorruptFileError, UnsupportedFileError } from '../file-errors';

/** Bytes per element of every dtype the specification lists that recbridge understands. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;

/**
 * Largest header written. The reference implementation refuses to read headers over 100 MB, so
 * recbridge writes nothing larger (readers take FileLimits.maxHeaderBytes, by default the same).
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** Tensor data (and so the header end) starts on this boundary in files recbridge writes. */
export const ALIGNMENT = 64;

/** Names of the filler tensors that files written by earlier releases carry between tensors; readers skip them. */
export const PADDING_PREFIX = '__padding__.';

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
  /** Tensors in file order (ascending begin). */
  tensors: TensorEntry[];
  /** The `__metadata__` map, or null when absent. */
  metadata: Record<string, string> | null;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses and checks a header: every entry well-typed, every range inside the data and disjoint. */
export function validateHeader(
  path: string,
  json: unknown,
  fileSize: number,
  dataStart: number,
  maxDims = Number.POSITIVE_INFINITY,
): SafetensorsHeader {
  const corrupt = (detail: string) => new CorruptFileError(path, detail);
  if (!isPlainObject(json)) throw corrupt('the header is not a JSON object');
  let metadata: Record<string, string> | null = null;
  const tensors: TensorEntry[] = [];
  const dataBytes = fileSize - dataStart;
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw)) throw corrupt('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') throw corrupt(`__metadata__.${k} is not a string`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const at = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(raw)) throw corrupt(`${at} is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype !== 'string') throw corrupt(`${at} has no dtype`);
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw new UnsupportedFileError(
        'ERR_UNSUPPORTED_FORMAT',
        path,
        `${path}: ${at} has dtype ${JSON.stringify(dtype)}, which recbridge cannot read (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw corrupt(`${at} has an invalid shape ${JSON.stringify(shape)}`);
    if (shape.length > maxDims) throw new LimitExceededError(path, 'maxDims', maxDims, `${at} has ${shape.length} dimensions`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw corrupt(`${at} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    let elements = 1;
    for (const d of shape as number[]) {
      elements *= d;
      if (!Number.isSafeInteger(elements)) throw corrupt(`${at} has a shape too large to address (${JSON.stringify(shape)})`);
    }
    const bytes = elements * DTYPE_BYTES[dtype as Dtype];
    if (end < begin || end - begin !== bytes)
      throw corrupt(`${at} spans bytes [${begin}, ${end}) but its shape ${JSON.stringify(shape)} of ${dtype} needs ${bytes}`);
    if (end > dataBytes)
      throw corrupt(`${at} ends at byte ${end} of the data but the file holds only ${dataBytes} data bytes (truncated?)`);
    tensors.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let last = 0;
  let lastName = '';
  for (const t of tensors) {
    if (t.begin < last && t.end > t.begin) throw corrupt(`tensors ${JSON.stringify(lastName)} and ${JSON.stringify(t.name)} overlap`);
    if (t.end > last) {
      last = t.end;
      lastName = t.name;
    }
  }
  if (last !== dataBytes)
    throw corrupt(`the tensors cover ${last} data bytes but the file holds ${dataBytes} (trailing bytes after the last tensor)`);
  return { path, fileSize, dataStart, tensors, metadata };
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Writing safetensors files, atomically. The header is padded with spaces (as the specification
 * allows) so the data starts on a 64-byte boundary. The specification wants the data section covered
 * without holes, and other readers load every tensor they find (PyTorch's strict load_state_dict
 * refuses unknown names), so nothing but the caller's tensors is written: tensors whose size is a
 * multiple of 64 bytes go first and so all start on 64-byte boundaries, the rest follow by element
 * size, largest first, so every tensor still starts on a multiple of its element size. Readers
 * re-align large tensors in memory (read.ts). Each tensor's CRC-32 goes into the metadata, and the
 * header carries its own checksum (see header-checksum.ts).
 */
import { types } from 'node:util';

import { writeFileAtomic } from '../../core/atomic-write';
import { crc32, crcHex } from '../crc32';
import { rangeError, typeError } from '../../core/validate';
import { UnsupportedFileError } from '../file-errors';
import { ALIGNMENT, DTYPE_BYTES, LITTLE_ENDIAN, MAX_HEADER_BYTES, PADDING_PREFIX, elementCount, type Dtype } from './format';
import { HEADER_CRC_KEY, HEADER_CRC_PLACEHOLDER, computeHeaderCrc, headerCrcPosition } from './header-checksum';

export const CHECKSUMS_KEY = 'recbridge.checksums';

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  /** Little-endian element bytes, row-major. */
  bytes: Uint8Array;
}

interface Placed extends TensorToWrite {
  begin: number;
}

/**
 * Tensors with their offsets, in the order described above (stable: the caller's order holds within
 * each class).
 */
export function place(tensors: readonly TensorToWrite[]): { placed: Placed[]; dataBytes: number } {
  const rank = (t: TensorToWrite) => (t.bytes.length % ALIGNMENT === 0 ? 0 : 16 - DTYPE_BYTES[t.dtype]);
  const ordered = tensors.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i);
  const placed: Placed[] = [];
  let at = 0;
  for (const { t } of ordered) {
    placed.push({ ...t, begin: at });
    at += t.bytes.length;
  }
  return { placed, dataBytes: at };
}

/** The 8-byte length and the padded header for the placed tensors, its checksum filled in. */
function encodeHeader(placed: readonly Placed[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { ...metadata, [HEADER_CRC_KEY]: HEADER_CRC_PLACEHOLDER } };
  for (const t of placed) header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.begin + t.bytes.length] };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / ALIGNMENT) * ALIGNMENT - 8;
  if (padded > MAX_HEADER_BYTES)
    throw rangeError('metadata', `a header under ${MAX_HEADER_BYTES} bytes (safetensors readers refuse larger ones)`, `${padded} bytes`);
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  const headerBytes = out.subarray(8);
  const position = headerCrcPosition(headerBytes);
  out.set(new TextEncoder().encode(computeHeaderCrc(headerBytes, position)), 8 + position);
  return out;
}

/**
 * Writes tensors and string metadata to path, atomically (file order: see place). Returns the file
 * size.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<number> {
  // Typed arrays are written as they sit in memory, which is the file's byte order only here.
  if (!LITTLE_ENDIAN)
    throw new UnsupportedFileError('ERR_UNSUPPORTED_FORMAT', path, 'recbridge writes safetensors files only on little-endian hosts');
  const names = new Set<string>();
  for (const [i, t] of tensors.entries()) {
    if (typeof t.name !== 'string' || t.name === '' || t.name === '__metadata__' || t.name.startsWith(PADDING_PREFIX)) {
      throw rangeError(`tensors[${i}].name`, `a non-empty name other than "__metadata__" not starting with "${PADDING_PREFIX}"`, t.name);
    }
    if (names.has(t.name)) throw rangeError(`tensors[${i}].name`, 'a name used once', t.name);
    names.add(t.name);
    if (!Object.hasOwn(DTYPE_BYTES, t.dtype))
      throw rangeError(`tensors[${i}].dtype`, `one of ${Object.keys(DTYPE_BYTES).join(', ')}`, t.dtype);
    if (!types.isUint8Array(t.bytes)) throw typeError(`tensors[${i}].bytes`, 'Uint8Array', t.bytes);
    const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.bytes.length !== expected)
      throw rangeError(
        `tensors[${i}].bytes`,
        `${expected} bytes for shape ${JSON.stringify(t.shape)} of ${t.dtype}`,
        `${t.bytes.length} bytes`,
      );
  }
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw typeError(`metadata.${k}`, 'string', v);
  const { placed } = place(tensors);
  const checksums: Record<string, string> = {};
  for (const t of placed) checksums[t.name] = crcHex(crc32(t.bytes));
  const head = encodeHeader(placed, { ...metadata, [CHECKSUMS_KEY]: JSON.stringify(checksums) });
  return writeFileAtomic(path, async (sink) => {
    await sink.write(head);
    for (const t of placed) if (t.bytes.length) await sink.write(t.bytes);
  });
}

/** Little-endian bytes of a typed array (a view: recbridge runs on little-endian hosts only). */
export function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * The header checksum of recbridge files: CRC-32 of the N header bytes (padding included) with the
 * eight hex digits of `__metadata__["recbridge.header_crc32"]` replaced by "00000000". Working on
 * the bytes as written (not on re-serialised JSON) lets any writer — Python's json.dumps with its
 * default separators included — produce a checkable file. This scheme never changes across format
 * versions, because it is checked before the version is read.
 */
import { crc32, crcHex } from '../crc32';

export const HEADER_CRC_KEY = 'recbridge.header_crc32';
export const HEADER_CRC_PLACEHOLDER = '00000000';

const FIELD = /"recbridge\.header_crc32"\s*:\s*"/g;

/** Byte offset of the checksum digits, or -1 when the field is absent, -2 when it occurs twice. */
export function headerCrcPosition(header: Uint8Array): number {
  // latin1 maps byte i to character i, so string positions are byte positions.
  const text = Buffer.from(header.buffer, header.byteOffset, header.byteLength).toString('latin1');
  const hits = [...text.matchAll(FIELD)];
  if (hits.length === 0) return -1;
  if (hits.length > 1) return -2;
  return hits[0].index! + hits[0][0].length;
}

/** The checksum of a header whose digits sit at position (they are treated as zeros). */
export function computeHeaderCrc(header: Uint8Array, position: number): string {
  const zeros = new TextEncoder().encode(HEADER_CRC_PLACEHOLDER);
  let c = crc32(header.subarray(0, position));
  c = crc32(zeros, c);
  c = crc32(header.subarray(position + 8), c);
  return crcHex(c);
}

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

const KEY_BYTES = Buffer.from(`"${HEADER_CRC_KEY}"`, 'latin1');

/** What a regular expression's \s matches among single bytes read as latin1. */
function isSpace(b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
}

/**
 * Byte offset of the checksum digits, or -1 when the field is absent, -2 when it occurs twice: the
 * matches of /"recbridge\.header_crc32"\s*:\s*"/g over the bytes, found on the bytes themselves
 * (a header can be 100 MB; no string copy of it is made).
 */
export function headerCrcPosition(header: Uint8Array): number {
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  let found = -1;
  for (let from = 0; ; ) {
    const at = bytes.indexOf(KEY_BYTES, from);
    if (at < 0) return found;
    let i = at + KEY_BYTES.length;
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (bytes[i] === 0x3a) {
      i++;
      while (i < bytes.length && isSpace(bytes[i])) i++;
      if (bytes[i] === 0x22) {
        if (found >= 0) return -2;
        found = i + 1;
        from = i + 1;
        continue;
      }
    }
    from = at + 1;
  }
}

/** The checksum of a header whose digits sit at position (they are treated as zeros). */
export function computeHeaderCrc(header: Uint8Array, position: number): string {
  const zeros = new TextEncoder().encode(HEADER_CRC_PLACEHOLDER);
  let c = crc32(header.subarray(0, position));
  c = crc32(zeros, c);
  c = crc32(header.subarray(position + 8), c);
  return crcHex(c);
}

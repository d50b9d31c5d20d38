/**
 * A minimal protocol-buffers *writer*: just enough of the wire format to emit ONNX models (and other
 * protobuf files) without a protobuf dependency or generated code.
 *
 * Large payloads (tensor bytes) are kept by reference until `finish()`, so a 512 MB initializer is
 * copied once into the output rather than once per nesting level.
 */
import { types } from 'node:util';

/** Wire types of the protobuf encoding (the low three bits of every field key). */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  I32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Field numbers must fit in 29 bits; 19000-19999 are reserved by protobuf itself. */
const MAX_FIELD = 2 ** 29 - 1;

/** Byte arrays at least this long are referenced, not copied, until finish(). */
const BY_REFERENCE = 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const utf8 = new TextEncoder();

/** Little-endian bytes of a typed array: a view when the host is little-endian, else a swapped copy. */
export function littleEndianBytes(values: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array): Uint8Array {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const width = values.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) return view;
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = view[i + width - 1 - b];
  }
  return out;
}

function checkField(field: number): void {
  if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD || (field >= 19000 && field <= 19999)) {
    throw new RangeError(`Expected a protobuf field number in [1, 2^29) outside 19000-19999 but received ${field}`);
  }
}

/**
 * Encodes one message. Write fields in any order (ONNX readers accept any); call `finish()` once for
 * the bytes, or pass the writer to a parent's `message()` to nest it.
 */
export class ProtoWriter {
  /** Finished segments, in order: copies of small writes and references to large byte arrays. */
  private readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  private flushed = 0;
  private consumed = false;

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  /** The field key: field number and wire type in one varint. */
  tag(field: number, wireType: WireType): this {
    checkField(field);
    // field < 2^29, so field * 8 stays below 2^32 and the number path of varint is exact.
    return this.rawVarint(field * 8 + wireType);
  }

  /**
   * A bare varint. Negative values take ten bytes (two's complement over 64 bits), which is how
   * protobuf encodes negative int32/int64 so that readers of either width agree.
   */
  rawVarint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`Expected a safe integer for a varint but received ${value}`);
      if (value >= 0 && value <= 0xffffffff) {
        this.reserve(5);
        // Division, not >>>, because the bit operators would truncate values of 2^31 and above.
        while (value > 0x7f) {
          this.buf[this.pos++] = (value % 128) | 0x80;
          value = Math.floor(value / 128);
        }
        this.buf[this.pos++] = value;
        return this;
      }
      value = BigInt(value);
    }
    if (value < -(1n << 63n) || value >= 1n << 64n) throw new RangeError(`Expected a 64-bit integer for a varint but received ${value}n`);
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  /** Bytes appended verbatim (no key, no length). Large arrays are kept by reference until finish(). */
  rawBytes(bytes: Uint8Array): this {
    this.checkLive();
    if (bytes.length >= BY_REFERENCE) {
      this.flush();
      this.chunks.push(bytes);
      this.flushed += bytes.length;
    } else {
      this.reserve(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    }
    return this;
  }

  /** int64, uint64, int32, uint32 and enum fields (all varint-encoded; negatives use ten bytes). */
  int(field: number, value: number | bigint): this {
    return this.tag(field, WireType.VARINT).rawVarint(value);
  }

  bool(field: number, value: boolean): this {
    return this.int(field, value ? 1 : 0);
  }

  /** A `float` field (fixed 32 bits, IEEE 754 little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WireType.I32).reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, value, true);
    this.pos += 4;
    return this;
  }

  /** A `fixed32` field (unsigned 32 bits, little-endian). */
  fixed32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new RangeError(`Expected an integer in [0, 2^32) for fixed32 but received ${value}`);
    this.tag(field, WireType.I32).reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setUint32(0, value, true);
    this.pos += 4;
    return this;
  }

  /** A `bytes` field. Large arrays are referenced, so do not modify them before finish(). */
  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.LEN).rawVarint(value.length).rawBytes(value);
  }

  /** A `string` field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /**
   * A nested message field. The child's segments move into this writer without copying, so the
   * child is spent afterwards and cannot be reused.
   */
  message(field: number, child: ProtoWriter): this {
    if (child === this) throw new Error('A ProtoWriter cannot be nested in itself');
    const parts = child.take();
    this.tag(field, WireType.LEN).rawVarint(parts.length);
    for (const chunk of parts.chunks) this.rawBytes(chunk);
    return this;
  }

  /** A packed `repeated float` field (one key, then 4 bytes per value). */
  packedFloats(field: number, values: Float32Array | ArrayLike<number>): this {
    const f32 = types.isFloat32Array(values) ? values : Float32Array.from(values as ArrayLike<number>);
    return this.bytes(field, littleEndianBytes(f32));
  }

  /** A packed `repeated int64` / `int32` / `uint64` / enum field (varints after one key and length). */
  packedInts(field: number, values: ArrayLike<number | bigint>): this {
    const body = new ProtoWriter();
    for (let i = 0; i < values.length; i++) body.rawVarint(values[i]);
    return this.message(field, body);
  }

  /** The encoded message as one contiguous array. The writer is spent afterwards. */
  finish(): Uint8Array {
    const parts = this.take();
    const out = new Uint8Array(parts.length);
    let at = 0;
    for (const chunk of parts.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  private checkLive(): void {
    if (this.consumed) throw new Error('This ProtoWriter was already finished or nested in another message');
  }

  private take(): { chunks: Uint8Array[]; length: number } {
    this.checkLive();
    this.flush();
    this.consumed = true;
    return { chunks: this.chunks, length: this.flushed };
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    // The flushed bytes now belong to chunks; later writes go to the rest of the buffer, or to a
    // fresh one when little is left.
    this.buf = this.buf.length - this.pos >= 64 ? this.buf.subarray(this.pos) : new Uint8Array(256);
    this.pos = 0;
  }

  private reserve(n: number): this {
    this.checkLive();
    if (this.pos + n <= this.buf.length) return this;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    return this;
  }
}

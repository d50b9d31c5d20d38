/**
 * Typed arrays on SharedArrayBuffers. Async native work (training epochs, encoders) reads and writes
 * such arrays in place while JS keeps running; an ArrayBuffer could be transferred (detached) in the
 * meantime and its memory freed under the kernel, but a SharedArrayBuffer cannot be detached at all.
 * So everything the library hands to async native code lives here, and the addon refuses the rest.
 */
import { RecbridgeError } from './errors';

type Ctor<T> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number; name: string };

/**
 * A new buffer of `bytes`, or ERR_OUT_OF_MEMORY: V8 reports a failed allocation as an uncoded
 * RangeError ("Array buffer allocation failed", "Invalid array buffer length"). Every large
 * allocation of the library goes through here.
 */
export function allocateBuffer(bytes: number, shared: true): SharedArrayBuffer;
export function allocateBuffer(bytes: number, shared: boolean): SharedArrayBuffer | ArrayBuffer;
export function allocateBuffer(bytes: number, shared: boolean): SharedArrayBuffer | ArrayBuffer {
  try {
    return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  } catch (err) {
    // By name, not instanceof: the error can come from another realm (a vm context, jest).
    if ((err as Error)?.name === 'RangeError') throw outOfMemory(bytes, err);
    throw err;
  }
}

function make<T>(ctor: Ctor<T>, n: number): T {
  return new ctor(allocateBuffer(n * ctor.BYTES_PER_ELEMENT, true));
}

/** ERR_OUT_OF_MEMORY for an allocation of `bytes` that failed, with what the caller can do. */
export function outOfMemory(bytes: number, cause?: unknown): RecbridgeError {
  return new RecbridgeError(
    'ERR_OUT_OF_MEMORY',
    `Could not allocate ${(bytes / 2 ** 30).toFixed(2)} GiB: the process is out of memory or past V8's array limit (use smaller tables, or shard the catalogue)`,
    cause === undefined ? undefined : { cause },
  );
}

export const sharedInt32 = (n: number): Int32Array => make(Int32Array, n);
export const sharedFloat32 = (n: number): Float32Array => make(Float32Array, n);
export const sharedUint8 = (n: number): Uint8Array => make(Uint8Array, n);

/** A copy of values on a SharedArrayBuffer. */
export function sharedCopy<T extends Int32Array | Float32Array | Uint8Array>(values: T): T {
  const ctor = values.constructor as unknown as Ctor<T>;
  const out = make(ctor, values.length) as unknown as T;
  out.set(values as never);
  return out;
}

/**
 * Typed arrays on SharedArrayBuffers. Async native work (training epochs, encoders) reads and writes
 * such arrays in place while JS keeps running; an ArrayBuffer could be transferred (detached) in the
 * meantime and its memory freed under the kernel, but a SharedArrayBuffer cannot be detached at all.
 * So everything the library hands to async native code lives here, and the addon refuses the rest.
 */
type Ctor<T> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };

function make<T>(ctor: Ctor<T>, n: number): T {
  return new ctor(new SharedArrayBuffer(n * ctor.BYTES_PER_ELEMENT));
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

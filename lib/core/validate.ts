/**
 * Argument checks for every public function. One message shape everywhere:
 * "Expected <what> for <argument> but received <value>".
 */
import { types } from 'node:util';

import { ArgumentRangeError, ArgumentTypeError, DetachedBufferError } from './errors';

/** A short, safe description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'symbol':
      return String(value);
    case 'function':
      return 'a function';
    default:
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      if (ArrayBuffer.isView(value)) {
        const ctor = (value as { constructor?: { name?: string } }).constructor?.name ?? 'typed array';
        return `a ${ctor} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
      }
      return `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'Object'}`;
  }
}

export function typeError(argument: string, expected: string, value: unknown): ArgumentTypeError {
  return new ArgumentTypeError(`Expected ${expected} for ${argument} but received ${describe(value)}`, argument);
}

export function rangeError(argument: string, expected: string, value: unknown): ArgumentRangeError {
  return new ArgumentRangeError(`Expected ${expected} for ${argument} but received ${describe(value)}`, argument);
}

/** A wrong length (code ERR_INVALID_ARG_VALUE): right type, wrong size. */
export function lengthError(argument: string, expected: string, value: unknown): ArgumentRangeError {
  return new ArgumentRangeError(`Expected ${expected} for ${argument} but received ${describe(value)}`, argument, 'ERR_INVALID_ARG_VALUE');
}

export function expectInteger(argument: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw typeError(argument, `integer in [${min}, ${max}]`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(argument, min === 1 && max >= 2 ** 31 - 1 ? 'positive integer' : `integer in [${min}, ${max}]`, value);
  }
  return value;
}

export function expectPositiveInteger(argument: string, value: unknown, max = 2 ** 31 - 1): number {
  return expectInteger(argument, value, 1, max);
}

export function expectBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw typeError(argument, 'boolean', value);
  return value;
}

/** An options bag: undefined becomes {}, anything but a plain object is rejected. */
export function expectOptions<T extends object>(argument: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw typeError(argument, 'options object', value);
  return value;
}

function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0 || view.buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(view.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

export function expectNotDetached(argument: string, view: ArrayBufferView): void {
  if (isDetached(view)) throw new DetachedBufferError(argument);
}

/** A Float32Array (from any realm), optionally of an exact length, whose buffer is attached. */
export function expectFloat32Array(argument: string, value: unknown, length?: number): Float32Array {
  if (!types.isFloat32Array(value)) throw typeError(argument, 'Float32Array', value);
  expectNotDetached(argument, value);
  if (length !== undefined && value.length !== length) {
    throw new ArgumentRangeError(
      `Expected ${argument} of length ${length} but it has length ${value.length}`,
      argument,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return value;
}

/** Accepts a Float32Array or an array of numbers (copied); optionally checks length and finiteness. */
export function toFloat32Array(argument: string, value: unknown, length?: number, finite = false): Float32Array {
  let out: Float32Array;
  if (types.isFloat32Array(value)) {
    out = expectFloat32Array(argument, value, length);
  } else if (Array.isArray(value)) {
    if (length !== undefined && value.length !== length) {
      throw new ArgumentRangeError(
        `Expected ${argument} of length ${length} but it has length ${value.length}`,
        argument,
        'ERR_INVALID_ARG_VALUE',
      );
    }
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'number') throw typeError(`${argument}[${i}]`, 'number', value[i]);
    }
    out = Float32Array.from(value as number[]);
  } else {
    throw typeError(argument, 'Float32Array or array of numbers', value);
  }
  if (finite) expectFinite(argument, out);
  return out;
}

export function expectFinite(argument: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // x - x is 0 for finite x and NaN for NaN and ±Infinity.
    if (x - x !== 0) throw rangeError(`${argument}[${i}]`, 'finite number', x);
  }
}

/**
 * Item indices: an Int32Array (used as is) or an array of integers (copied), every entry in
 * [0, bound). Returns an Int32Array the addon can read.
 */
export function toIndexArray(argument: string, value: unknown, bound: number): Int32Array {
  let out: Int32Array;
  if (types.isInt32Array(value)) {
    expectNotDetached(argument, value);
    out = value;
  } else if (Array.isArray(value) || types.isUint32Array(value)) {
    const src = value as ArrayLike<unknown>;
    out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const x = src[i];
      if (typeof x !== 'number') throw typeError(`${argument}[${i}]`, 'integer', x);
      if (!Number.isInteger(x) || x < 0 || x >= bound) throw rangeError(`${argument}[${i}]`, `integer in [0, ${bound})`, x);
      out[i] = x;
    }
    return out;
  } else {
    throw typeError(argument, 'Int32Array or array of integers', value);
  }
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    if (x < 0 || x >= bound) throw rangeError(`${argument}[${i}]`, `integer in [0, ${bound})`, x);
  }
  return out;
}

/** An AbortSignal (duck-typed so signals from any realm work) or undefined. */
export function expectSignal(argument: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as AbortSignal).aborted !== 'boolean' ||
    typeof (value as AbortSignal).addEventListener !== 'function'
  ) {
    throw typeError(argument, 'AbortSignal', value);
  }
  return value as AbortSignal;
}

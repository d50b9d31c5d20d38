/**
 * Errors thrown by recbridge. Argument problems are `TypeError` / `RangeError` subclasses (so generic
 * handlers keep working); everything else is a `RecbridgeError`. Every error has a stable `code`:
 * branch on `code` (or `name`), never on the message text.
 */

export type ErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_DETACHED_BUFFER'
  | 'ERR_ADDON_LOAD'
  | 'ERR_ISA_UNSUPPORTED'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_NATIVE'
  | 'ERR_OPTIONAL_DEPENDENCY'
  | 'ERR_BUSY'
  | 'ERR_MALFORMED_DATA'
  | 'ERR_DIVERGED'
  | 'ERR_CORRUPT_FILE'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_UNSUPPORTED_FORMAT'
  | 'ERR_NO_OVERLAP'
  | 'ERR_ALIGNMENT_UNCONFIRMED'
  | 'ERR_NO_SIDE_FEATURES'
  | 'ERR_DIMENSION_MISMATCH'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ABORT_ERR';

/** A wrong type for a named argument (`code: 'ERR_INVALID_ARG_TYPE'`). */
export class ArgumentTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE' as const;
  constructor(
    message: string,
    /** The argument (or option path, e.g. `options.exclude`) that was wrong. */
    readonly argument: string,
  ) {
    super(message);
    this.name = 'TypeError';
  }
}

/**
 * A value of the right type but outside what the argument accepts: out of range, NaN/Infinity,
 * wrong length (`code: 'ERR_OUT_OF_RANGE'` or `'ERR_INVALID_ARG_VALUE'`).
 */
export class ArgumentRangeError extends RangeError {
  constructor(
    message: string,
    readonly argument: string,
    readonly code: 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE' = 'ERR_OUT_OF_RANGE',
  ) {
    super(message);
    this.name = 'RangeError';
  }
}

/** Base class for state, resource and native failures. */
export class RecbridgeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecbridgeError';
  }
}

/** A buffer the call needs was transferred or detached (`code: 'ERR_DETACHED_BUFFER'`). */
export class DetachedBufferError extends RecbridgeError {
  constructor(readonly argument: string) {
    super('ERR_DETACHED_BUFFER', `The buffer behind ${argument} is detached (was it transferred to another thread?)`);
    this.name = 'DetachedBufferError';
  }
}

/**
 * Input that goes beyond a documented limit of the function reading it (`code: 'ERR_LIMIT_EXCEEDED'`):
 * nesting deeper, more tensors, dimensions or bytes than the limit allows. The input may be
 * well-formed; `limit` names the option that raises the limit, for input that is trusted.
 */
export class LimitExceededError extends RecbridgeError {
  constructor(
    /** Where the input came from (a path, or a path and the part of the file). */
    readonly source: string,
    /** The option that sets the limit, e.g. `maxJsonDepth`. */
    readonly limit: string,
    /** The limit in force. */
    readonly max: number,
    /** What is beyond it, without the source ("its header nests 100000 levels deep"). */
    detail: string,
  ) {
    super('ERR_LIMIT_EXCEEDED', `${source}: ${detail}, beyond ${limit} (${max}); raise options.${limit} if the input is trusted`);
    this.name = 'LimitExceededError';
  }
}

/** The operation was cancelled through its AbortSignal (`code: 'ABORT_ERR'`, like Node's own). */
export class AbortError extends RecbridgeError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('ABORT_ERR', message, options);
    this.name = 'AbortError';
  }
}

const KNOWN_NATIVE_CODES = new Set<string>([
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_OUT_OF_RANGE',
  'ERR_DETACHED_BUFFER',
  'ERR_ISA_UNSUPPORTED',
  'ERR_OUT_OF_MEMORY',
  'ERR_NATIVE',
]);

/**
 * Re-types an error thrown by the addon (which creates plain errors, in the addon's realm, with
 * `code` and, for argument problems, `argument` set natively) as one of ours, keeping its message.
 * lib/core/native.ts applies it to every binding call; the TS layer validates first, so this mostly
 * runs when lib/ was bypassed or a native resource failed. Errors that are already ours, or carry no
 * code the addon uses, pass through unchanged.
 */
export function fromNative(err: unknown): Error {
  if (!(err && typeof err === 'object' && 'code' in err)) return err as unknown as Error;
  if (err instanceof RecbridgeError || err instanceof ArgumentTypeError || err instanceof ArgumentRangeError) return err;
  const { code, message, argument: named } = err as { code: string; message: string; argument?: unknown };
  if (!KNOWN_NATIVE_CODES.has(code)) return err as unknown as Error;
  const argument = typeof named === 'string' ? named : 'argument';
  switch (code) {
    case 'ERR_INVALID_ARG_TYPE':
      return new ArgumentTypeError(message, argument);
    case 'ERR_OUT_OF_RANGE':
    case 'ERR_INVALID_ARG_VALUE':
      return new ArgumentRangeError(message, argument, code);
    case 'ERR_DETACHED_BUFFER':
      return new DetachedBufferError(argument);
    default:
      return new RecbridgeError(code as ErrorCode, message, { cause: err });
  }
}

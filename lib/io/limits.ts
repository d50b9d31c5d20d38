/**
 * The limits of the file readers: how much structure a file may ask recbridge to build before it
 * has proved anything. Files come from elsewhere (downloads, other teams, users), so each reader
 * checks these on the bytes, before it parses or allocates, and rejects with LimitExceededError
 * naming the option to raise. Defaults sit far above what any writer of these formats produces.
 */
import { expectOptions, expectPositiveInteger } from '../core/validate';

export interface FileLimits {
  /**
   * Largest header, in bytes: the JSON header of a safetensors file (default 100,000,000, the
   * reference implementation's limit) or the dict of a .npy array (default 10,000, numpy's own
   * `max_header_size`). The header is read into memory whole, so this bounds that read.
   */
  maxHeaderBytes?: number;
  /**
   * Deepest nesting of any JSON a reader parses: a safetensors header, the JSON inside a model's
   * metadata, a vocabulary tensor. Default 128 (serde_json's, which the reference safetensors
   * reader uses). Checked by a linear scan of the bytes before parsing.
   */
  maxJsonDepth?: number;
  /**
   * Most values (numbers, strings, arrays, objects, members) in one such JSON text, vocabularies
   * excepted (those hold one id per row of the model and are checked against its row count).
   * Parsing costs tens of bytes of memory per value, so this bounds the memory of a parse.
   * Default 250,000.
   */
  maxJsonValues?: number;
  /** Most tensors in a safetensors file, or arrays in an .npz archive. Default 10,000. */
  maxTensors?: number;
  /** Most dimensions of one tensor or array. Default 64 (numpy 2's NPY_MAXDIMS). */
  maxDims?: number;
  /**
   * Largest ratio of inflated to compressed size of a deflated .npz entry (entries that inflate
   * to at most 16 MiB are exempt). Float arrays deflate to about 90% of their size; a ratio of
   * 1000 is a decompression bomb. Default 100.
   */
  maxInflateRatio?: number;
  /** Longest line of an id list, in UTF-8 bytes (one id per line). Default 65,536. */
  maxIdBytes?: number;
}

export type ResolvedFileLimits = Required<FileLimits>;

/** The defaults, as documented on each field of FileLimits. */
export const DEFAULT_FILE_LIMITS: Readonly<ResolvedFileLimits> = Object.freeze({
  maxHeaderBytes: 100_000_000,
  maxJsonDepth: 128,
  maxJsonValues: 250_000,
  maxTensors: 10_000,
  maxDims: 64,
  maxInflateRatio: 100,
  maxIdBytes: 65_536,
});

/** The .npy default for maxHeaderBytes (numpy's max_header_size). */
export const NPY_MAX_HEADER_BYTES = 10_000;

/** Entries that inflate to at most this many bytes are not held to maxInflateRatio. */
export const INFLATE_RATIO_FLOOR = 16 << 20;

const LIMIT_NAMES = Object.keys(DEFAULT_FILE_LIMITS) as (keyof FileLimits)[];

/**
 * The limits an options bag sets (checked: positive safe integers), the others at their defaults.
 * A maxHeaderBytes the caller did not set stays undefined, because its default depends on the format.
 */
export function fileLimits(options: FileLimits): ResolvedFileLimits & { headerBytesSet: boolean } {
  const o = expectOptions('options', options);
  const out = { ...DEFAULT_FILE_LIMITS, headerBytesSet: o.maxHeaderBytes !== undefined };
  for (const name of LIMIT_NAMES) {
    const v = o[name];
    if (v !== undefined) out[name] = expectPositiveInteger(`options.${name}`, v, Number.MAX_SAFE_INTEGER);
  }
  return out;
}

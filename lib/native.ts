/**
 * The only module that loads the addon. It declares the binding's typed surface; everything else in
 * lib/ calls the addon through `native`. Arguments here are positional and already validated by the
 * caller; the addon re-checks lengths and ranges so that no call can touch memory out of bounds.
 */
import * as path from 'node:path';

import { RecbridgeError } from './errors';

export type IsaName = 'scalar' | 'avx2' | 'avx512';

export interface NativeCapabilities {
  isa: IsaName;
  detectedIsa: IsaName;
  supportedIsas: IsaName[];
  hardwareThreads: number;
  queryBlock: number;
  napiVersion: number;
}

export interface NativeBinding {
  readonly abiVersion: number;
  scoreItems(table: Float32Array, dim: number, query: Float32Array, items: Int32Array | null, out: Float32Array, threads: number): void;
  topK(
    table: Float32Array,
    dim: number,
    query: Float32Array,
    k: number,
    exclude: Int32Array | null,
    block: Int32Array | null,
    allow: Int32Array | null,
    threads: number,
    outIndices: Int32Array,
    outScores: Float32Array,
  ): number;
  /** completed is false when the token was cancelled before the end. Inputs are copied natively. */
  topKBatch(
    table: Float32Array,
    dim: number,
    queries: Float32Array,
    k: number,
    excludeOffsets: Int32Array | null,
    excludeIndices: Int32Array | null,
    block: Int32Array | null,
    allow: Int32Array | null,
    threads: number,
    cancel: CancelToken | null,
  ): Promise<{ completed: boolean; indices: Int32Array; scores: Float32Array; counts: Int32Array }>;
  /** A token async work polls; cancel(token) makes it stop at its next check. */
  createCancelToken(): CancelToken;
  cancel(token: CancelToken): void;
  /** Fills schedule with a permutation of its indices determined by (seed, epoch). */
  shuffleSchedule(schedule: Int32Array, seed: number, epoch: number): Promise<void>;
  mfChunk(spec: MfChunkSpec): Promise<MfChunkResult>;
  gather(table: Float32Array, dim: number, indices: Int32Array, out: Float32Array): void;
  /** mode: 0 sum, 1 mean, 2 weighted sum. */
  pool(table: Float32Array, dim: number, offsets: Int32Array, indices: Int32Array, weights: Float32Array | null, mode: number, out: Float32Array): void;
  capabilities(): NativeCapabilities;
  setIsa(isa: IsaName | null): void;
  /** The address of view's first element modulo 64. */
  byteAlignment(view: ArrayBufferView): number;
}

/** Opaque native cancellation token. */
export interface CancelToken {
  readonly __recbridgeCancelToken: unique symbol;
}

/** One trainable table as the native training loops read it. */
export interface NativeTrainParam {
  w: Float32Array;
  dim: number;
  /** Optimizer state: adagrad rows×dim, row-wise adagrad rows, adam 2·rows×dim + rows, sgd null. */
  state: Float32Array | null;
  /** Per-row frozen flags (1 = frozen) or null. */
  frozen: Uint8Array | null;
  /** Learning-rate multiplier; 0 freezes the whole table. */
  lrMult: number;
}

export interface MfChunkSpec {
  /** 0 sgd, 1 adagrad, 2 row-wise adagrad, 3 lazy adam. */
  optimizer: number;
  /** 0 bpr, 1 bce, 2 mse, 3 warp. */
  loss: number;
  user: NativeTrainParam;
  item: NativeTrainParam;
  bias: NativeTrainParam | null;
  users: Int32Array;
  items: Int32Array;
  /** Ratings (mse only). */
  values: Float32Array | null;
  posOffsets: Int32Array | null;
  posIndices: Int32Array | null;
  schedule: Int32Array;
  begin: number;
  end: number;
  lr: number;
  l2: number;
  eps: number;
  beta1: number;
  beta2: number;
  seed: number;
  epoch: number;
  chunk: number;
  threads: number;
  maxRejections: number;
  /** bce: negatives per positive, 1..8. */
  negatives: number;
  warpMaxTrials: number;
  margin: number;
  /** kind 0 uniform, 1 alias table (prob/alias per item), 2 in-batch (window). */
  sampler: { kind: number; prob?: Float32Array; alias?: Int32Array; window?: number };
  cancel: CancelToken | null;
}

export interface MfChunkResult {
  /** Sum of the loss over processed samples. */
  loss: number;
  samples: number;
  /** Samples skipped because an index was out of range (data changed under training). */
  invalid: number;
  diverged: boolean;
  cancelled: boolean;
}

const EXPECTED_ABI = 2;

function load(): NativeBinding {
  const root = path.resolve(__dirname, '..');
  let binding: NativeBinding;
  try {
    // node-gyp-build picks build/Release (a local build) or prebuilds/<platform>-<arch>/ (the npm package).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require('node-gyp-build')(root) as NativeBinding;
  } catch (err) {
    throw new RecbridgeError(
      'ERR_ADDON_LOAD',
      `recbridge could not load its native addon: ${(err as Error).message}. ` +
        'No prebuilt binary matched this platform; build one with "npm rebuild recbridge" (needs python3, make and a C++17 compiler).',
      { cause: err },
    );
  }
  if (binding.abiVersion !== EXPECTED_ABI) {
    throw new RecbridgeError(
      'ERR_ADDON_LOAD',
      `recbridge's native addon has ABI ${binding.abiVersion} but this JavaScript expects ${EXPECTED_ABI}: rebuild it ("npm rebuild recbridge").`,
    );
  }
  return binding;
}

export const native: NativeBinding = load();

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
  /** Resolves true when finished, false when cancel[0] became non-zero first. */
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
    outIndices: Int32Array,
    outScores: Float32Array,
    outCounts: Int32Array,
    cancel: Int32Array | null,
  ): Promise<boolean>;
  gather(table: Float32Array, dim: number, indices: Int32Array, out: Float32Array): void;
  /** mode: 0 sum, 1 mean, 2 weighted sum. */
  pool(table: Float32Array, dim: number, offsets: Int32Array, indices: Int32Array, weights: Float32Array | null, mode: number, out: Float32Array): void;
  capabilities(): NativeCapabilities;
  setIsa(isa: IsaName | null): void;
  /** The address of view's first element modulo 64. */
  byteAlignment(view: ArrayBufferView): number;
}

const EXPECTED_ABI = 1;

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

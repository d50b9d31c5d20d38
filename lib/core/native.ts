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
  /** Fills spec.records with the interactions in an order determined by (seed, epoch): mfRecordStride values each. */
  shuffleRecords(spec: MfRecordsSpec): Promise<void>;
  /** Trains records [begin, end) (record positions) filled by shuffleRecords from the same arrays. */
  mfChunk(spec: MfChunkSpec): Promise<MfChunkResult>;
  /** Two-tower in-batch softmax training on schedule[begin, end), in batches of spec.batchSize. */
  twoTowerChunk(spec: TwoTowerChunkSpec): Promise<TwoTowerChunkResult>;
  /** Forward pass of one tower: out rows = the tower's vectors for ids (or every entity). */
  twoTowerEncode(spec: TwoTowerEncodeSpec): Promise<{ invalid: number }>;
  /** Synchronous: mean loss of one batch; with grads, adds dLoss/dw into each param's grad buffer. */
  twoTowerLoss(spec: TwoTowerLossSpec): { loss: number; invalid: number };
  gather(table: Float32Array, dim: number, indices: Int32Array, out: Float32Array): void;
  /** mode: 0 sum, 1 mean, 2 weighted sum. */
  pool(table: Float32Array, dim: number, offsets: Int32Array, indices: Int32Array, weights: Float32Array | null, mode: number, out: Float32Array): void;
  capabilities(): NativeCapabilities;
  setIsa(isa: IsaName | null): void;
  /** The address of view's first element modulo 64. */
  byteAlignment(view: ArrayBufferView): number;
  /** Item-item neighbour graph from a user x item CSR (copied and checked natively). graph is null when cancelled. */
  knnBuild(spec: KnnBuildSpec): Promise<{ completed: boolean; graph: KnnGraphHandle | null }>;
  /** A graph from neighbour lists made elsewhere (copied and checked; row order does not matter). */
  knnFromArrays(rows: number, cols: number, offsets: Int32Array, indices: Int32Array, scores: Float32Array, threads: number): KnnGraphHandle;
  /** Copies of the lists, each row best first. */
  knnExport(graph: KnnGraphHandle, threads?: number): { rows: number; cols: number; offsets: Int32Array; indices: Int32Array; scores: Float32Array };
  /** [rows, cols, stored neighbours]. */
  knnShape(graph: KnnGraphHandle): [number, number, number];
  /** The best min(k, row length) neighbours of row, best first; returns the count. */
  knnRow(graph: KnnGraphHandle, row: number, k: number, exclude: Int32Array | null, outIndices: Int32Array, outScores: Float32Array): number;
  /** Top-k candidates for a history; history entries outside [0, rows) are skipped. Returns [count, skipped]. */
  knnRecommend(
    graph: KnnGraphHandle,
    history: Int32Array,
    weights: Float32Array | null,
    exclude: Int32Array | null,
    k: number,
    mean: boolean,
    shrink: number,
    excludeHistory: boolean,
    outIndices: Int32Array,
    outScores: Float32Array,
  ): [number, number];
  /** Dense aggregated scores of every candidate into out; returns the skipped count. */
  knnScores(graph: KnnGraphHandle, history: Int32Array, weights: Float32Array | null, mean: boolean, shrink: number, out: Float32Array): number;
  /** Query q's results are slots [q*k, q*k + counts[q]); skipped[q] history entries were out of range. */
  knnRecommendBatch(
    graph: KnnGraphHandle,
    historyOffsets: Int32Array,
    historyIndices: Int32Array,
    historyWeights: Float32Array | null,
    excludeOffsets: Int32Array | null,
    excludeIndices: Int32Array | null,
    k: number,
    mean: boolean,
    shrink: number,
    excludeHistory: boolean,
    threads: number,
    cancel: CancelToken | null,
  ): Promise<{ completed: boolean; indices: Int32Array; scores: Float32Array; counts: Int32Array; skipped: Int32Array }>;
  /** Quantized tables (kind 1 bf16: codes Uint16Array; kind 2 int8: codes Int8Array + per-row scales and code sums). */
  quantize(kind: number, codes: Uint16Array | Int8Array, scales: Float32Array | null, rowSums: Int32Array | null, dim: number, source: Float32Array, threads: number): void;
  quantScore(kind: number, codes: Uint16Array | Int8Array, scales: Float32Array | null, rowSums: Int32Array | null, dim: number, query: Float32Array, items: Int32Array | null, out: Float32Array, threads: number): void;
  /** Exact top-k of the quantized scores; rerank > 0 re-scores the best max(rerank, k) against f32Table. */
  quantTopK(
    kind: number,
    codes: Uint16Array | Int8Array,
    scales: Float32Array | null,
    rowSums: Int32Array | null,
    dim: number,
    query: Float32Array,
    k: number,
    exclude: Int32Array | null,
    block: Int32Array | null,
    allow: Int32Array | null,
    threads: number,
    rerank: number,
    f32Table: Float32Array | null,
    outIndices: Int32Array,
    outScores: Float32Array,
  ): number;
  quantInfo(): { kernels: string; bf16Vnni: boolean };
  quantUseExtensions(on: boolean): void;
}

/** Opaque native neighbour graph (immutable; freed by the garbage collector). */
export interface KnnGraphHandle {
  readonly __recbridgeKnnGraph: unique symbol;
}

export interface KnnBuildSpec {
  users: number;
  /** Items in the joint item space (cross-domain: source items, then target items). */
  items: number;
  /** User x item CSR: items strictly increasing within a user. */
  offsets: Int32Array;
  indices: Int32Array;
  /** Per-entry positive values, or null for ones. */
  values: Float32Array | null;
  /** 0 cosine, 1 tf-idf, 2 bm25. */
  weighting: number;
  k1: number;
  b: number;
  shrink: number;
  neighbours: number;
  /** Rows whose neighbours are built, and the item range they are drawn from (result indices are relative to candidateBegin). */
  queryBegin: number;
  queryEnd: number;
  candidateBegin: number;
  candidateEnd: number;
  threads: number;
  cancel: CancelToken | null;
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

/** The interactions of an MF epoch and its shuffled records. */
export interface MfRecordsSpec {
  /** 0 bpr, 1 bce, 2 mse, 3 warp. */
  loss: number;
  /** Rows of the item table (negatives are drawn below it). */
  numItems: number;
  /** kind 0 uniform, 1 alias table (prob/alias per item), 2 in-batch (window). */
  sampler: { kind: number; prob?: Float32Array; alias?: Int32Array; window?: number };
  maxRejections: number;
  users: Int32Array;
  items: Int32Array;
  /** Ratings (mse only). */
  values: Float32Array | null;
  /** The interactions grouped by user (Interactions.groupedByUser), for rejection of known positives. */
  posOffsets: Int32Array | null;
  posIndices: Int32Array | null;
  /** users.length × mfRecordStride(...) values, on shared memory. */
  records: Int32Array;
  seed: number;
  epoch: number;
}

/**
 * Values per MF training record (native train_mf.h, MfRecords): user and item, plus the rating
 * (mse), or with rejection of known positives either a negative drawn by the shuffle (bpr with the
 * uniform or alias sampler) or the user's range in the grouped lists.
 */
export function mfRecordStride(loss: number, rejectPositives: boolean, samplerKind: number): number {
  if (loss === 2) return 3;
  if (!rejectPositives) return 2;
  return loss === 0 && samplerKind !== 2 ? 3 : 4;
}

export interface MfChunkSpec extends Omit<MfRecordsSpec, 'seed' | 'epoch' | 'numItems'> {
  /** 0 sgd, 1 adagrad, 2 row-wise adagrad, 3 lazy adam. */
  optimizer: number;
  user: NativeTrainParam;
  item: NativeTrainParam;
  bias: NativeTrainParam | null;
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
  /** bce: negatives per positive, 1..8. */
  negatives: number;
  warpMaxTrials: number;
  margin: number;
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

/** A two-tower parameter: NativeTrainParam plus, for twoTowerLoss, a gradient buffer (w's length). */
export interface NativeTowerParam extends NativeTrainParam {
  grad?: Float32Array | null;
}

/** One tower as the two-tower kernels read it (at least one of embedding, features, dense). */
export interface NativeTowerSpec {
  /** Users or items. */
  entities: number;
  /** Width of the summed input vector (before the MLP). */
  dim: number;
  embedding: NativeTowerParam | null;
  /** Mean-pooled feature bags: entity e's features are indices[offsets[e] .. offsets[e+1]). */
  features: { table: NativeTowerParam; offsets: Int32Array; indices: Int32Array } | null;
  /** entities × dim dense values through a dim × dense.dim projection. */
  dense: { values: Float32Array; dim: number; weight: NativeTowerParam; bias: NativeTowerParam } | null;
  /** weight out × in, bias out × 1; ReLU between layers, none after the last. */
  layers: { weight: NativeTowerParam; bias: NativeTowerParam }[];
}

export interface TwoTowerScoringSpec {
  /** 0 dot, 1 cosine. */
  similarity: number;
  temperature: number;
  threads: number;
}

export interface TwoTowerChunkSpec extends TwoTowerScoringSpec {
  user: NativeTowerSpec;
  item: NativeTowerSpec;
  users: Int32Array;
  items: Int32Array;
  /** Per item: ln of its sampling probability (logQ correction), or null. */
  logQ: Float32Array | null;
  schedule: Int32Array;
  begin: number;
  end: number;
  batchSize: number;
  /** Embedding tables: 0 sgd, 1 adagrad (state rows×dim). */
  embOptimizer: number;
  lr: number;
  l2: number;
  eps: number;
  /** Dense layers: 0 sgd, 1 adam (state 2·rows×dim + rows). */
  denseOptimizer: number;
  denseLr: number;
  denseL2: number;
  beta1: number;
  beta2: number;
  denseEps: number;
  cancel: CancelToken | null;
}

export interface TwoTowerChunkResult {
  /** Sum of per-sample softmax cross-entropies. */
  loss: number;
  samples: number;
  /** Optimizer steps (batches) taken. */
  batches: number;
  /** Samples or feature indices skipped because an index was out of range. */
  invalid: number;
  diverged: boolean;
  cancelled: boolean;
}

export interface TwoTowerEncodeSpec {
  tower: NativeTowerSpec;
  ids: Int32Array | null;
  out: Float32Array;
  normalize: boolean;
  threads: number;
}

export interface TwoTowerLossSpec extends TwoTowerScoringSpec {
  user: NativeTowerSpec;
  item: NativeTowerSpec;
  users: Int32Array;
  items: Int32Array;
  logQ: Float32Array | null;
  grads: boolean;
}

const EXPECTED_ABI = 4;

function load(): NativeBinding {
  const root = path.resolve(__dirname, '..', '..');
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

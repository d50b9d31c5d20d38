/**
 * The only module that loads the addon. It declares the binding's typed surface; everything else in
 * lib/ calls the addon through `native`. Calls take one spec object (ids from native-constants.ts),
 * already validated by the caller; the addon re-checks lengths and ranges so that no call can touch
 * memory out of bounds, and its errors carry `code` and `argument`, which `native` turns into
 * recbridge's error classes for every function at once.
 */
import * as path from 'node:path';

import { RecbridgeError, fromNative } from './errors';
import type {
  AlsConfidence,
  AlsSolver,
  DenseOptimizer,
  KnnWeighting,
  MfLoss,
  OptimizerKind,
  PoolMode,
  QuantKind,
  SamplerKind,
  Similarity,
} from './native-constants';

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
  scoreItems(spec: ScoreItemsSpec): void;
  /** The best min(k, eligible) rows, best first, into outIndices/outScores; returns the count. */
  topK(spec: TopKSpec): number;
  /** completed is false when the token was cancelled before the end. Inputs are copied natively. */
  topKBatch(spec: TopKBatchSpec): Promise<{ completed: boolean; indices: Int32Array; scores: Float32Array; counts: Int32Array }>;
  /** A token async work polls; cancel(token) makes it stop at its next check. */
  createCancelToken(): CancelToken;
  cancel(token: CancelToken): void;
  /** Fills schedule with a permutation of its indices determined by (seed, epoch). */
  shuffleSchedule(schedule: Int32Array, seed: number, epoch: number): Promise<void>;
  /** Fills spec.records with the interactions in an order determined by (seed, epoch): mfRecordStride values each. */
  shuffleRecords(spec: MfRecordsSpec): Promise<void>;
  /** Trains records [begin, end) (record positions) filled by shuffleRecords from the same arrays. */
  mfChunk(spec: MfChunkSpec): Promise<MfChunkResult>;
  /** One implicit-ALS half-iteration: every unfrozen row of spec.x solved against the fixed spec.y. */
  alsSolve(spec: AlsSolveSpec): Promise<AlsSolveResult>;
  /** Two-tower in-batch softmax training on schedule[begin, end), in batches of spec.batchSize. */
  twoTowerChunk(spec: TwoTowerChunkSpec): Promise<TwoTowerChunkResult>;
  /** Forward pass of one tower: out rows = the tower's vectors for ids (or every entity). */
  twoTowerEncode(spec: TwoTowerEncodeSpec): Promise<{ invalid: number }>;
  /** Synchronous: mean loss of one batch; with grads, adds dLoss/dw into each param's grad buffer. */
  twoTowerLoss(spec: TwoTowerLossSpec): { loss: number; invalid: number };
  gather(spec: GatherSpec): void;
  pool(spec: PoolSpec): void;
  capabilities(): NativeCapabilities;
  setIsa(isa: IsaName | null): void;
  /** The address of view's first element modulo 64. */
  byteAlignment(view: ArrayBufferView): number;
  /** Item-item neighbour graph from a user x item CSR (copied and checked natively). graph is null when cancelled. */
  knnBuild(spec: KnnBuildSpec): Promise<{ completed: boolean; graph: KnnGraphHandle | null }>;
  /** A graph from neighbour lists made elsewhere (copied and checked; row order does not matter). */
  knnFromArrays(spec: KnnFromArraysSpec): KnnGraphHandle;
  /** Copies of the lists, each row best first. */
  knnExport(
    graph: KnnGraphHandle,
    threads?: number,
  ): { rows: number; cols: number; offsets: Int32Array; indices: Int32Array; scores: Float32Array };
  /** [rows, cols, stored neighbours]. */
  knnShape(graph: KnnGraphHandle): [number, number, number];
  /** The best min(k, row length) neighbours of spec.row, best first; returns the count. */
  knnRow(spec: KnnRowSpec): number;
  /** Top-k candidates for a history; history entries outside [0, rows) are skipped. Returns [count, skipped]. */
  knnRecommend(spec: KnnRecommendSpec): [number, number];
  /** Dense aggregated scores of every candidate into spec.out; returns the skipped count. */
  knnScores(spec: KnnScoresSpec): number;
  /** Query q's results are slots [q*k, q*k + counts[q]); skipped[q] history entries were out of range. */
  knnRecommendBatch(
    spec: KnnRecommendBatchSpec,
  ): Promise<{ completed: boolean; indices: Int32Array; scores: Float32Array; counts: Int32Array; skipped: Int32Array }>;
  /** spec.out (aCols × bCols, shared) (+)= AᵀB over the rows both CSRs share; without bOffsets B is A (the Gram matrix). */
  csrCrossProduct(spec: CsrCrossProductSpec): Promise<void>;
  /** Lower Cholesky factor in place (shared matrix): 0, or the failing pivot + 1 when not positive definite. */
  spdFactor(spec: SpdMatrixSpec): Promise<number>;
  /** spec.rhs (n × m, shared) ← (L Lᵀ)⁻¹ rhs for the factor from spdFactor. */
  spdSolve(spec: SpdSolveSpec): Promise<void>;
  /** The inverse of an SPD matrix in place (shared): 0, or the failing pivot + 1. */
  spdInverse(spec: SpdMatrixSpec): Promise<number>;
  /** Fills codes (and the int8 scales and row sums) from the float32 rows of spec.source. */
  quantize(spec: QuantizeSpec): void;
  quantScore(spec: QuantScoreSpec): void;
  /** Exact top-k of the quantized scores; rerank > 0 re-scores the best max(rerank, k) against f32Table. */
  quantTopK(spec: QuantTopKSpec): number;
  quantInfo(): { kernels: string; bf16Vnni: boolean };
  quantUseExtensions(on: boolean): void;
  /** Small MLP (native/kernels/mlp.h), synchronous: spec.acts = every layer's output for the rows of spec.x. */
  mlpForward(spec: MlpForwardSpec): void;
  /** Adds dLoss/dparams into spec.grads from spec.dOut; writes dLoss/dx into spec.dIn when given. */
  mlpBackward(spec: MlpBackwardSpec): void;
  /** One Adam step from spec.grads, which it zeroes. */
  mlpAdam(spec: MlpAdamSpec): void;
  /** Minibatch MSE regression over spec.order (one Adam step per batch); returns Σ squared error. */
  mlpFitMse(spec: MlpFitMseSpec): number;
  /** A symmetric sparse matrix (CSR over `nodes` rows), copied and checked natively, behind a handle. */
  graphCreate(spec: GraphCreateSpec): GraphHandle;
  /** out = mean of Â^l x for l = 0..layers; skipped counts out-of-range entries (none for a checked graph). */
  graphPropagate(spec: GraphPropagateSpec): Promise<{ skipped: number }>;
  /** The LightGCN BPR loss and its gradient for the layer-0 table into grad; with adam, also one update. */
  graphStep(spec: GraphStepSpec): Promise<{ loss: number; skipped: number }>;
}

/**
 * alsSolve: X's rows (x, updated in place) solved against Y (y), both rows × dim on shared memory.
 * Row r of X observed the Y rows indices[offsets[r] … offsets[r+1]) with values (null: all 1).
 */
export interface AlsSolveSpec {
  x: Float32Array;
  y: Float32Array;
  dim: number;
  offsets: Int32Array;
  indices: Int32Array;
  values: Float32Array | null;
  /** One flag per row of X (non-zero: left as is), or null. */
  frozen: Uint8Array | null;
  confidence: AlsConfidence;
  alpha: number;
  /** The log confidence's ε (> 0; ignored by the linear one). */
  eps: number;
  l2: number;
  solver: AlsSolver;
  cgSteps: number;
  threads: number;
  /** Also compute the objective at the solved X. */
  loss: boolean;
  cancel: CancelToken | null;
}

export interface AlsSolveResult {
  /** The whole objective (both tables' L2 included) when spec.loss, else 0. */
  loss: number;
  solved: number;
  /** Entries skipped for an out-of-range index (or rows with out-of-order offsets). */
  invalid: number;
  /** Some row's solve was not finite (that row was left as it was). */
  diverged: boolean;
  cancelled: boolean;
}

/** A float32 table: rows × dim values, row-major. */
export interface TableSpec {
  table: Float32Array;
  dim: number;
}

/** Which rows are candidates: exclude and block are dropped, allow (when given) is the only pool. */
export interface CandidateSpec {
  exclude: Int32Array | null;
  block: Int32Array | null;
  allow: Int32Array | null;
}

export interface ScoreItemsSpec extends TableSpec {
  query: Float32Array;
  /** Rows to score, or null for every row. */
  items: Int32Array | null;
  out: Float32Array;
  threads: number;
}

export interface TopKSpec extends TableSpec, CandidateSpec {
  query: Float32Array;
  k: number;
  threads: number;
  /** At least min(k, candidates) entries each. */
  outIndices: Int32Array;
  outScores: Float32Array;
}

export interface TopKBatchSpec extends TableSpec {
  /** nq × dim. */
  queries: Float32Array;
  k: number;
  /** Per-query exclusions (CSR over queries), or both null. */
  excludeOffsets: Int32Array | null;
  excludeIndices: Int32Array | null;
  block: Int32Array | null;
  allow: Int32Array | null;
  threads: number;
  cancel: CancelToken | null;
}

export interface GatherSpec extends TableSpec {
  indices: Int32Array;
  out: Float32Array;
}

export interface PoolSpec extends TableSpec {
  /** Bag b is indices[offsets[b] .. offsets[b+1]). */
  offsets: Int32Array;
  indices: Int32Array;
  /** Per index (weighted sum only). */
  weights: Float32Array | null;
  mode: PoolMode;
  out: Float32Array;
}

export interface KnnFromArraysSpec {
  rows: number;
  cols: number;
  /** Row r's neighbours are indices[offsets[r] .. offsets[r+1]) with their scores. */
  offsets: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
  threads: number;
}

export interface KnnRowSpec {
  graph: KnnGraphHandle;
  row: number;
  k: number;
  exclude: Int32Array | null;
  outIndices: Int32Array;
  outScores: Float32Array;
}

/** A history and how its neighbours are aggregated (sum, or a mean shrunk toward 0). */
export interface KnnHistorySpec {
  graph: KnnGraphHandle;
  history: Int32Array;
  weights: Float32Array | null;
  mean: boolean;
  shrink: number;
}

export interface KnnRecommendSpec extends KnnHistorySpec {
  exclude: Int32Array | null;
  k: number;
  excludeHistory: boolean;
  outIndices: Int32Array;
  outScores: Float32Array;
}

export interface KnnScoresSpec extends KnnHistorySpec {
  /** One score per candidate (graph columns). */
  out: Float32Array;
}

export interface KnnRecommendBatchSpec {
  graph: KnnGraphHandle;
  /** Histories, CSR over queries. */
  historyOffsets: Int32Array;
  historyIndices: Int32Array;
  historyWeights: Float32Array | null;
  /** Per-query exclusions (CSR over queries), or both null. */
  excludeOffsets: Int32Array | null;
  excludeIndices: Int32Array | null;
  k: number;
  mean: boolean;
  shrink: number;
  excludeHistory: boolean;
  threads: number;
  cancel: CancelToken | null;
}

/** A quantized table: bf16 codes (Uint16Array), or int8 codes (Int8Array) with per-row scales and code sums. */
export interface QuantTableSpec {
  kind: QuantKind;
  codes: Uint16Array | Int8Array;
  scales: Float32Array | null;
  rowSums: Int32Array | null;
  dim: number;
}

export interface QuantizeSpec extends QuantTableSpec {
  /** rows × dim float32 values. */
  source: Float32Array;
  threads: number;
}

export interface QuantScoreSpec extends QuantTableSpec {
  query: Float32Array;
  items: Int32Array | null;
  out: Float32Array;
  threads: number;
}

export interface QuantTopKSpec extends QuantTableSpec, CandidateSpec {
  query: Float32Array;
  k: number;
  threads: number;
  rerank: number;
  /** The float32 rows, for rerank. */
  f32Table: Float32Array | null;
  outIndices: Int32Array;
  outScores: Float32Array;
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
  weighting: KnnWeighting;
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

/** Opaque handle to a graph made by graphCreate. */
export interface GraphHandle {
  readonly __recbridgeGraph: unique symbol;
}

export interface GraphCreateSpec {
  nodes: number;
  /** nodes + 1 entries, non-decreasing from 0 to indices.length. */
  offsets: Int32Array;
  /** Column of each entry, in [0, nodes). */
  indices: Int32Array;
  /** Value of each entry (finite). */
  weights: Float32Array;
}

export interface GraphPropagateSpec {
  graph: GraphHandle;
  /** nodes × dim, on shared memory (as are out and work). */
  x: Float32Array;
  dim: number;
  layers: number;
  out: Float32Array;
  /** At least 2 · nodes · dim floats of scratch. */
  work: Float32Array;
  threads: number;
}

export interface GraphStepSpec {
  graph: GraphHandle;
  /** The layer-0 table, nodes × dim, on shared memory (as are grad, work and the Adam moments). */
  embeddings: Float32Array;
  dim: number;
  layers: number;
  /** BPR triples as node indices (copied natively). */
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  /** Per-triple loss weights, or null for 1. */
  weights: Float32Array | null;
  /** L2 on the layer-0 rows of the triples, per occurrence, divided by the triple count. */
  l2: number;
  /** Overwritten with dLoss/dembeddings. */
  grad: Float32Array;
  /** At least 3 · nodes · dim floats of scratch. */
  work: Float32Array;
  /** Applies dense Adam (step t ≥ 1) after the gradient; null leaves the embeddings alone. */
  adam: { m: Float32Array; v: Float32Array; lr: number; beta1: number; beta2: number; eps: number; step: number } | null;
  threads: number;
}

/** Opaque native cancellation token. */
export interface CancelToken {
  readonly __recbridgeCancelToken: unique symbol;
}

/** One trainable table as the native training loops read it. */
export interface NativeTrainParam {
  w: Float32Array;
  dim: number;
  /** Optimizer state of optimizerStateSize(optimizer, rows, dim) floats, or null (sgd). */
  state: Float32Array | null;
  /** Per-row frozen flags (1 = frozen) or null. */
  frozen: Uint8Array | null;
  /** Learning-rate multiplier; 0 freezes the whole table. */
  lrMult: number;
}

/** The interactions of an MF epoch and its shuffled records. */
export interface MfRecordsSpec {
  loss: MfLoss;
  /** Rows of the item table (negatives are drawn below it). */
  numItems: number;
  /** alias: prob and alias per item; in-batch: window. */
  sampler: { kind: SamplerKind; prob?: Float32Array; alias?: Int32Array; window?: number };
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

export interface MfChunkSpec extends Omit<MfRecordsSpec, 'seed' | 'epoch' | 'numItems'> {
  optimizer: OptimizerKind;
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
  similarity: Similarity;
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
  /** Embedding tables. */
  embOptimizer: OptimizerKind;
  lr: number;
  l2: number;
  eps: number;
  /** Dense layers. */
  denseOptimizer: DenseOptimizer;
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

/**
 * A small MLP: sizes = [input, hidden…, output] (ReLU between layers); params holds each layer's
 * weight (out × in, row-major) then bias, layer after layer.
 */
export interface MlpSpec {
  sizes: Int32Array;
  params: Float32Array;
}

export interface MlpForwardSpec extends MlpSpec {
  /** rows × sizes[0] */
  x: Float32Array;
  rows: number;
  /** rows × (sizes[1] + … + sizes[L]): layer l's output at rows × (sizes[1] + … + sizes[l]). */
  acts: Float32Array;
  threads: number;
}

export interface MlpBackwardSpec extends MlpForwardSpec {
  grads: Float32Array;
  /**
   * rows × sizes[L]; or { left (rows × a), right (rows × b) } with a·b = sizes[L]: row r of the
   * gradient is the outer product left[r] ⊗ right[r] (a net emitting an a × b matrix per row that
   * multiplies a vector), built natively.
   */
  dOut: Float32Array | { left: Float32Array; right: Float32Array };
  /** rows × sizes[0], or null when the input gradient is not needed. */
  dIn: Float32Array | null;
}

export interface MlpAdamConfig {
  /** Adam steps so far, this one included (1 for the first). */
  step: number;
  lr: number;
  /** Added to the weights' (not biases') gradients times the weight. */
  l2: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export interface MlpAdamSpec extends MlpSpec, MlpAdamConfig {
  grads: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export interface MlpFitMseSpec extends MlpAdamSpec {
  /** entities × sizes[0] and entities × sizes[L]. */
  x: Float32Array;
  y: Float32Array;
  /** Rows of x to train on, in this order, in minibatches of batch. */
  order: Int32Array;
  batch: number;
  /** Each training row's first dropCols inputs are zeroed with probability dropProb. */
  dropCols: number;
  dropProb: number;
  seed: number;
  threads: number;
}

/** Two CSRs over the same rows: the a* fields, and optionally the b* fields (absent: B is A). */
export interface CsrCrossProductSpec {
  rows: number;
  aOffsets: Int32Array;
  aIndices: Int32Array;
  aValues: Float32Array | null;
  aCols: number;
  bOffsets?: Int32Array;
  bIndices?: Int32Array;
  bValues?: Float32Array | null;
  bCols?: number;
  /** aCols × bCols floats on a SharedArrayBuffer. */
  out: Float32Array;
  accumulate: boolean;
  threads: number;
}

export interface SpdMatrixSpec {
  /** n × n floats, row-major, on a SharedArrayBuffer. */
  matrix: Float32Array;
  n: number;
  threads: number;
}

export interface SpdSolveSpec {
  /** The n × n factor from spdFactor (shared). */
  factor: Float32Array;
  n: number;
  /** n × m right-hand sides, row-major, solved in place (shared). */
  rhs: Float32Array;
  m: number;
  threads: number;
}

const EXPECTED_ABI = 7;

/** Functions whose result is a promise: their rejections are converted too. */
type AsyncName = {
  [K in keyof NativeBinding]: NativeBinding[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof NativeBinding];
const ASYNC: Record<AsyncName, true> = {
  topKBatch: true,
  shuffleSchedule: true,
  shuffleRecords: true,
  mfChunk: true,
  alsSolve: true,
  twoTowerChunk: true,
  twoTowerEncode: true,
  knnBuild: true,
  knnRecommendBatch: true,
  csrCrossProduct: true,
  spdFactor: true,
  spdSolve: true,
  spdInverse: true,
  graphPropagate: true,
  graphStep: true,
};

type Raw = (a?: unknown, b?: unknown, c?: unknown) => unknown;

function rethrow(err: unknown): never {
  throw fromNative(err);
}

// Plain closures, not a Proxy: topK runs in microseconds on small tables, and a fixed-arity call
// through a closure costs next to nothing. Every binding function takes at most three arguments.
function sync(fn: Raw): Raw {
  return (a, b, c) => {
    try {
      return fn(a, b, c);
    } catch (err) {
      throw fromNative(err);
    }
  };
}

// Bad arguments still throw synchronously (nothing was queued); failures in the work reject.
function async(fn: Raw): Raw {
  return (a, b, c) => {
    let promise: Promise<unknown>;
    try {
      promise = fn(a, b, c) as Promise<unknown>;
    } catch (err) {
      throw fromNative(err);
    }
    return promise.then(undefined, rethrow);
  };
}

/**
 * The synchronous single-query calls take their spec's fields positionally, in this order (the
 * addon's native/addon/hot_fields.h; it exports its copy as hotFieldOrder, checked at load): a
 * Node-API property read costs about a thousand instructions, a quarter of a top-K on a 1,000-row
 * table. Callers still pass one typed spec object; only the closures below know the positions.
 */
export const HOT_FIELD_ORDER = {
  topK: ['table', 'dim', 'query', 'k', 'exclude', 'block', 'allow', 'threads', 'outIndices', 'outScores'],
  quantTopK: [
    'kind',
    'codes',
    'scales',
    'rowSums',
    'dim',
    'query',
    'k',
    'exclude',
    'block',
    'allow',
    'threads',
    'rerank',
    'f32Table',
    'outIndices',
    'outScores',
  ],
  knnRecommend: ['graph', 'history', 'weights', 'exclude', 'k', 'mean', 'shrink', 'excludeHistory', 'outIndices', 'outScores'],
} as const satisfies { [K in HotName]: readonly (keyof Parameters<NativeBinding[K]>[0])[] };

type HotName = 'topK' | 'quantTopK' | 'knnRecommend';

/** The hot calls as the addon declares them (positional; see HOT_FIELD_ORDER). */
interface PositionalHotCalls {
  topK(...fields: unknown[]): number;
  quantTopK(...fields: unknown[]): number;
  knnRecommend(...fields: unknown[]): [number, number];
}

// Each hot call gets a closure of its own: a shared closure would be one call site for every
// function, so V8 would see many targets there and could not call straight into the addon.
function hotPaths(raw: PositionalHotCalls): Pick<NativeBinding, HotName> {
  return {
    topK(s) {
      try {
        return raw.topK(s.table, s.dim, s.query, s.k, s.exclude, s.block, s.allow, s.threads, s.outIndices, s.outScores);
      } catch (err) {
        throw fromNative(err);
      }
    },
    quantTopK(s) {
      try {
        return raw.quantTopK(
          s.kind,
          s.codes,
          s.scales,
          s.rowSums,
          s.dim,
          s.query,
          s.k,
          s.exclude,
          s.block,
          s.allow,
          s.threads,
          s.rerank,
          s.f32Table,
          s.outIndices,
          s.outScores,
        );
      } catch (err) {
        throw fromNative(err);
      }
    },
    knnRecommend(s) {
      try {
        return raw.knnRecommend(
          s.graph,
          s.history,
          s.weights,
          s.exclude,
          s.k,
          s.mean,
          s.shrink,
          s.excludeHistory,
          s.outIndices,
          s.outScores,
        );
      } catch (err) {
        throw fromNative(err);
      }
    },
  };
}

/** The binding with every function's errors, thrown or rejected, re-typed once by fromNative. */
export function wrapBinding(raw: NativeBinding): NativeBinding {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    out[name] = typeof value !== 'function' ? value : Object.hasOwn(ASYNC, name) ? async(value as Raw) : sync(value as Raw);
  }
  return Object.freeze({ ...out, ...hotPaths(raw as unknown as PositionalHotCalls) }) as unknown as NativeBinding;
}

function load(): NativeBinding {
  const root = path.resolve(__dirname, '..', '..');
  let binding: NativeBinding;
  try {
    // node-gyp-build picks build/Release (a local build) or prebuilds/<platform>-<arch>/ (the npm package).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require('node-gyp-build')(root) as NativeBinding;
  } catch (err) {
    const message = (err as Error).message;
    // node-gyp-build says "No native build was found" when nothing matched; any other message is a
    // binary that matched but could not be loaded (typically a C library older than it needs).
    const hint = /No native build was found/.test(message)
      ? 'No prebuilt binary matched this platform; build one with "npm rebuild recbridge" (needs python3, make and a C++17 compiler).'
      : 'A binary matched this platform but could not be loaded: the prebuilt binaries need glibc ≥ 2.32 and the C++ runtime of GCC ≥ 12; on an older system build from source with "npm rebuild recbridge --build-from-source" (needs python3, make and a C++17 compiler).';
    throw new RecbridgeError('ERR_ADDON_LOAD', `recbridge could not load its native addon: ${message}. ${hint}`, { cause: err });
  }
  if (binding.abiVersion !== EXPECTED_ABI) {
    throw new RecbridgeError(
      'ERR_ADDON_LOAD',
      `recbridge's native addon has ABI ${binding.abiVersion} but this JavaScript expects ${EXPECTED_ABI}: rebuild it ("npm rebuild recbridge").`,
    );
  }
  const order = (binding as unknown as { hotFieldOrder: unknown }).hotFieldOrder;
  if (JSON.stringify(order) !== JSON.stringify(HOT_FIELD_ORDER)) {
    throw new RecbridgeError(
      'ERR_ADDON_LOAD',
      `recbridge's native addon takes its single-query fields in another order (${JSON.stringify(order)}) than this JavaScript passes them: rebuild it ("npm rebuild recbridge").`,
    );
  }
  return wrapBinding(binding);
}

export const native: NativeBinding = load();

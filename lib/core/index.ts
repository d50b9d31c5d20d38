/** recbridge/core: embedding tables, exact top-K scoring, pooled lookups, configuration and errors. */
export { EmbeddingTable, MAX_DIM, MAX_ROWS, type CreateTableOptions, type SharedTableHandle } from './table';
export { ItemSet, type IndexList } from './item-set';
export {
  scoreItems,
  topK,
  topKBatch,
  TopKBatchResult,
  type ScoreOptions,
  type TopKOptions,
  type TopKResult,
  type TopKBatchOptions,
} from './scoring';
export { gather, pool, type Bags, type CsrBags, type PoolMode, type PoolOptions } from './lookup';
export { capabilities, configure, setIsa, MAX_THREADS, type Capabilities, type ConfigureOptions, type IsaName } from './config';
export {
  RecbridgeError,
  ArgumentTypeError,
  ArgumentRangeError,
  DetachedBufferError,
  AbortError,
  LimitExceededError,
  type ErrorCode,
} from './errors';
export { uniformGenerator, normalGenerator } from './random';
export type { Csr, WeightedCsr } from './csr';
export { crossProduct, choleskyFactor, choleskySolve, spdInverse, MAX_SPD_SIZE, type SparseRows, type SpdOptions } from './spd';

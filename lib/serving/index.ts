/** Serving: Recommender (sync single requests, async batches, fallbacks, swaps), quantized tables, a worker pool. */
export {
  Recommender,
  type RecommenderOptions,
  type RecommenderSource,
  type RecommendOptions,
  type RecommendBatchOptions,
  type RecommendUser,
  type Recommendation,
  type Strategy as RecommendStrategy,
  type ItemList,
} from './recommender';
export {
  QuantizedTable,
  quantizedKernels,
  setQuantizedExtensions,
  type QuantizationKind,
  type QuantizedTopKOptions,
  type SharedQuantizedHandle,
} from './quantized';
export { RecommenderPool, type RecommenderPoolOptions } from './pool';
export { SharedIds, type SharedIdsHandle } from './shared-ids';
export type { SharedSnapshotHandle } from './snapshot';

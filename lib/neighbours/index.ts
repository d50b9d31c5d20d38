/** Neighbourhood models: item-item within a catalogue, across two catalogues, and blended with embeddings. */
export {
  ItemKnn,
  CrossDomainItemKnn,
  type ItemKnnRecommendOptions,
  type ItemKnnBatchOptions,
  type CrossDomainFitOptions,
  type NeighbourConfig,
} from './item-knn';
export {
  NeighbourBatchResult,
  type NeighbourArrays,
  type NeighbourBatchOptions,
  type NeighbourList,
  type NeighbourRecommendOptions,
  type Recommendations,
} from './graph';
export type { AggregationOptions, BatchExclusions, HistoryInput, SimilarityName, SimilarityOptions } from './options';
export { evaluateItemKnn, type NeighbourEvaluationOptions, type NeighbourMetrics } from './evaluate';
export {
  blendScores,
  normalizeScores,
  tuneBlendWeight,
  HybridRecommender,
  type BlendNormalization,
  type BlendOptions,
  type HybridInit,
  type HybridRecommendOptions,
  type TuneBlendOptions,
  type TuneBlendResult,
} from './hybrid';
export { Ease, EASE_DEFAULTS, type EaseOptions } from './ease';

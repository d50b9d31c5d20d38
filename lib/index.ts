/**
 * recbridge: transfer learning for recommender systems in Node.js.
 * This entry point exports the native scoring core; training, transfer, evaluation, serving and
 * model I/O build on it.
 */
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
  type ErrorCode,
} from './errors';
export { uniformGenerator, normalGenerator } from './random';
export { Parameter, matchesPattern, type OptimizerStateKind } from './models/parameter';
export { Model } from './models/model';
export { MatrixFactorization, type MatrixFactorizationOptions } from './models/matrix-factorization';
export { TwoTower, type TwoTowerOptions, type TowerOptions } from './models/two-tower';
export { Interactions, type InteractionsInit } from './train/interactions';
export { Vocabulary, type VocabularyJSON, type JoinedRows, type LinkTable } from './data/vocabulary';
export {
  loadInteractions,
  parseInteractions,
  type LoadInteractionsOptions,
  type ParseInteractionsOptions,
  type LoadedInteractions,
  type InteractionsFormat,
} from './data/load-interactions';
export { splitByUser } from './data/split';
export { leaveOneOut, type LeaveOneOutOptions } from './data/leave-one-out';
export { temporalSplit, type TemporalSplitOptions } from './data/temporal-split';
export { coldStartSplit, type ColdStartSplit, type ColdStartSplitOptions } from './data/cold-start-split';
export { saveInteractions, saveSplit, type SaveFormat, type SaveInteractionsOptions, type SplitParts } from './data/save-interactions';
export { loadLinks, parseLinks, type LoadLinksOptions, type ParseLinksOptions, type LoadedLinks } from './data/load-links';
export {
  SideFeatures,
  type Feature,
  type FeatureKind,
  type FeatureInit,
  type FeatureValue,
  type CategoricalFeature,
  type MultiFeature,
  type DenseFeature,
  type CombinedBags,
} from './data/side-features';
export { loadFeatures, parseFeatures, type LoadFeaturesOptions, type ParseFeaturesOptions, type LoadedFeatures, type FeatureType } from './data/load-features';
export {
  trainTwoTower,
  evaluateTwoTower,
  itemLogQ,
  type TwoTowerFitOptions,
  type TwoTowerOptimizerOptions,
  type TwoTowerOptimizerType,
  type DenseOptimizerOptions,
  type EmbeddingOptimizerOptions,
} from './train/two-tower-trainer';
export {
  Trainer,
  type FitOptions,
  type FitReport,
  type EpochReport,
  type OptimizerOptions,
  type OptimizerType,
  type MfLossName,
  type SamplerOptions,
  type Progress,
  type ValidationOptions,
} from './train/trainer';
export {
  evaluateRanking,
  evaluateSlices,
  type RankingMetrics,
  type RankingModel,
  type RankingOptions,
  type CutoffMetrics,
  type PerUserMetrics,
  type SliceOptions,
  type SliceMetrics,
  type EvaluationProgress,
  type UserMetricName,
} from './eval/ranking';
export { evaluateSampled, evaluateSampledScores, type CandidateScorer, type SampledOptions, type SampledMetrics, type SampledCutoffMetrics } from './eval/sampled';
export { activityBuckets } from './eval/slices';
export { summarize, meanStd, type MeanStd, type Summary } from './eval/summarize';
export { PopularityModel, RandomModel, type RandomModelOptions } from './eval/baselines';
export { renderReport, type ReportSpec, type ReportSection, type ReportTable } from './report/html';
export { lineChart, barChart, learningCurves, type Chart, type Series, type LineChartSpec, type BarChartSpec, type TrainingLog } from './report/charts';
export { escapeHtml } from './report/escape';
export * from './io';
export {
  ItemKnn,
  CrossDomainItemKnn,
  NeighbourBatchResult,
  evaluateItemKnn,
  blendScores,
  normalizeScores,
  tuneBlendWeight,
  HybridRecommender,
  type ItemKnnRecommendOptions,
  type ItemKnnBatchOptions,
  type CrossDomainFitOptions,
  type NeighbourConfig,
  type NeighbourArrays,
  type NeighbourBatchOptions,
  type NeighbourList,
  type NeighbourRecommendOptions,
  type Recommendations,
  type AggregationOptions,
  type BatchExclusions,
  type Histories,
  type SimilarityName,
  type SimilarityOptions,
  type NeighbourEvaluationOptions,
  type NeighbourMetrics,
  type BlendNormalization,
  type BlendOptions,
  type HybridInit,
  type HybridRecommendOptions,
  type TuneBlendOptions,
  type TuneBlendResult,
} from './neighbours';
export * from './transfer';
export * from './serving';

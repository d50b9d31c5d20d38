/** recbridge/eval: full-ranking and sampled metrics, slices, summaries over seeds, baselines. */
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
} from './ranking';
export {
  evaluateSampled,
  evaluateSampledScores,
  type CandidateScorer,
  type SampledOptions,
  type SampledMetrics,
  type SampledCutoffMetrics,
} from './sampled';
export { activityBuckets } from './slices';
export { evaluateScoreRows, topOfScores, type ScoreRowsOptions } from './score-rows';
export { summarize, meanStd, type MeanStd, type Summary } from './summarize';
export {
  pairedBootstrap,
  pairedVerdict,
  MIN_SEEDS_FOR_CLAIMS,
  type PairedVerdict,
  type PairedBootstrapOptions,
  type PairedDifference,
  type UserValues,
} from './paired-bootstrap';
export { PopularityModel, RandomModel, type RandomModelOptions } from './baselines';

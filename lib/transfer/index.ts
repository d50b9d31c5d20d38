/** Transfer learning: domains, alignment, phase schedules, strategies, fold-in and the lift report. */
export { Domain, entityFeatures, type DomainInit, type EntityFeatures } from './domain';
export {
  Alignment,
  alignDomains,
  looksLikeIntegerRange,
  type AlignOptions,
  type AlignmentReport,
  type OverlapShare,
  type RowPairs,
} from './align';
export { runSchedule, type Phase, type PhaseReport, type ScheduleOptions } from './schedule';
export { coldUserSplit, fixedSplit, type ColdSplitOptions, type FixedSplit, type TransferSplit } from './cold-split';
export {
  TransferContext,
  DEFAULT_SETTINGS,
  DEFAULT_PROTOCOL,
  type EarlyStopping,
  type TrainSettings,
  type TransferProtocol,
} from './context';
export type { FewShotCurve } from './few-shot';
export { UserVectorsModel, toMatrixFactorization } from './user-vectors-model';
export { foldIn, foldInUsers, foldInItems, historiesFrom, type FoldInOptions } from './fold-in';
export { ContentToCf, featureMatrix, type ContentToCfOptions } from './content-to-cf';
export { fitEmbeddingMap, type EmbeddingMap, type MappingOptions } from './strategies/mapping';
export type { AlsTransferOptions } from './strategies/als';
export type { BridgeOptions } from './strategies/bridge';
export type { FineTuneOptions } from './strategies/fine-tune';
export type { JointOptions } from './strategies/joint';
export type { EaseCrossOptions } from './strategies/ease-cross';
export type { GraphOptions } from './strategies/graph';
export { towerTransferModels, type ItemEmbeddings, type TowerTransferModels, type TowerTransferOptions } from './tower-transfer';
export type { AutoModel, AutoSelection } from './strategies/auto';
export type { FusedEvaluation, FusionOptions } from './strategies/fusion';
export { FUSION_NORMALIZATIONS, type FusionNormalization } from './score-fusion';
export {
  STRATEGY_NAMES,
  strategyByName,
  alsTransfer,
  auto,
  bridge,
  contentToCf,
  ease,
  easeCross,
  fineTune,
  graph,
  fusion,
  hybrid,
  joint,
  mapping,
  neighbours,
  popularity,
  targetOnly,
  type CustomEvaluation,
  towersSharedItems,
  towersSharedUsers,
  type Strategy,
} from './strategies';
export {
  transfer,
  LIFT_METRICS,
  LIFT_BASELINES,
  SLICES,
  type LiftReport,
  type LiftBaseline,
  type PairedLift,
  type StrategyResult,
  type SliceSummary,
  type TransferOptions,
} from './lift';
export { formatLiftTable } from './lift-table';
export { syntheticDomains, type SyntheticOptions, type SyntheticDomains } from './synthetic';
export { renderLiftReport } from './lift-report';
export { copyParameters, type CopyParametersOptions, type CopiedParameter } from './copy-parameters';

/** recbridge/data: interactions, vocabularies, loaders for interaction, feature and link files, and splits. */
export { Interactions, type InteractionsInit } from './interactions';
export { Vocabulary, type VocabularyJSON, type JoinedRows, type LinkTable } from './vocabulary';
export {
  loadInteractions,
  parseInteractions,
  type LoadInteractionsOptions,
  type ParseInteractionsOptions,
  type LoadedInteractions,
  type InteractionsFormat,
} from './load-interactions';
export type { ColumnRef } from './interaction-columns';
export type { DelimitedOptions } from './delimited-options';
export type { FieldDelimiter } from './sniff';
export { splitByUser } from './split';
export { leaveOneOut, type LeaveOneOutOptions } from './leave-one-out';
export { temporalSplit, type TemporalSplitOptions } from './temporal-split';
export { coldStartSplit, type ColdStartSplit, type ColdStartSplitOptions } from './cold-start-split';
export { saveInteractions, saveSplit, type SaveFormat, type SaveInteractionsOptions, type SplitParts } from './save-interactions';
export { loadLinks, parseLinks, type LoadLinksOptions, type ParseLinksOptions, type LoadedLinks } from './load-links';
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
} from './side-features';
export {
  loadFeatures,
  parseFeatures,
  type LoadFeaturesOptions,
  type ParseFeaturesOptions,
  type LoadedFeatures,
  type FeatureType,
} from './load-features';

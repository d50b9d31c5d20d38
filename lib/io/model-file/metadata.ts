/**
 * What recbridge keeps in a model file's `__metadata__` (every value a string, as safetensors
 * requires; structured values are JSON text) and how its tensors are named:
 *
 *   recbridge.format_version  "1"
 *   recbridge.kind            "matrix-factorization" | "two-tower"
 *   recbridge.config          the model's options without its arrays (feature bags and dense
 *                             inputs are tensors, see below)
 *   recbridge.parameters      { [name]: { trainable, lrMultiplier, frozenRows, optimizer } }
 *   recbridge.epochs_trained  integer
 *   recbridge.vocabularies    { users?, items? }: each the external ids in row order, or, for
 *                             vocabularies too large for a header that other safetensors readers
 *                             accept, { tensor: "vocabulary.<side>", count } naming a U8 tensor
 *                             that holds the same JSON array as UTF-8
 *   recbridge.provenance      what the caller passed (any JSON), or null
 *   recbridge.saved_by        { library, node, savedAt }
 *   recbridge.checksums       { [tensor]: CRC-32 as 8 hex digits } for every tensor
 *   recbridge.header_crc32    checksum of the header itself (see header-checksum.ts)
 *
 * Tensors: each parameter under its own name ([rows, dim] F32, e.g. "item.embedding", readable by
 * PyTorch as is); "frozen.<param>" U8 [rows] when some rows are frozen; "optimizer.<param>" F32
 * (the layout of Parameter.optimizerState); "inputs.<side>.features.offsets" / ".indices" I32 and
 * "inputs.<side>.dense.values" F32 [entities, dim] for two-tower inputs.
 */
import type { OptimizerStateKind } from '../../models/parameter';

/** The format this release writes. Readers accept this version and older ones. */
export const FORMAT_VERSION = 1;

export const KEY = {
  version: 'recbridge.format_version',
  kind: 'recbridge.kind',
  config: 'recbridge.config',
  parameters: 'recbridge.parameters',
  epochs: 'recbridge.epochs_trained',
  vocabularies: 'recbridge.vocabularies',
  provenance: 'recbridge.provenance',
  savedBy: 'recbridge.saved_by',
} as const;

export type ModelKind = 'matrix-factorization' | 'two-tower';
export const MODEL_KINDS: readonly ModelKind[] = ['matrix-factorization', 'two-tower'];

export interface ParameterRecord {
  trainable: boolean;
  lrMultiplier: number;
  /** A "frozen.<name>" tensor holds the per-row flags. */
  frozenRows: boolean;
  /** The kind of the "optimizer.<name>" tensor, or null when no state was saved. */
  optimizer: OptimizerStateKind | null;
}

export const OPTIMIZER_KINDS: readonly OptimizerStateKind[] = ['adagrad', 'rowwise-adagrad', 'adam'];

export const frozenTensor = (param: string) => `frozen.${param}`;
export const optimizerTensor = (param: string) => `optimizer.${param}`;
export const bagTensors = (side: string) => ({ offsets: `inputs.${side}.features.offsets`, indices: `inputs.${side}.features.indices` });
export const denseTensor = (side: string) => `inputs.${side}.dense.values`;
export const vocabularyTensor = (side: string) => `vocabulary.${side}`;

/** Vocabularies whose JSON exceeds this go into a tensor (safetensors readers cap headers at 100 MB). */
export const INLINE_VOCABULARY_BYTES = 16 << 20;

/** A vocabulary entry of the metadata: the ids, or where they are. */
export type VocabularyRecord = string[] | { tensor: string; count: number };

/** JSON-safe tower options (arrays replaced by their sizes). */
export interface TowerConfig {
  idEmbedding: boolean;
  features?: { vocabulary: number };
  dense?: { dim: number };
  mlp?: number[];
}

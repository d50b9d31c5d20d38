/**
 * The ids the addon understands and the layouts it checks: the TypeScript side of
 * native/kernels/constants.h. Each object mirrors the C++ enum of the same name, its keys being the
 * enumerators in kebab-case (RowwiseAdagrad → 'rowwise-adagrad'); test/native/native-constants.test.ts
 * fails when the two disagree, and checks optimizerStateSize and mfRecordStride against the addon's
 * own length checks. lib/ passes these to the binding, never bare numbers.
 */

type Values<T> = T[keyof T];

export const MfLoss = { bpr: 0, bce: 1, mse: 2, warp: 3 } as const;
export type MfLoss = Values<typeof MfLoss>;

/** Matrix factorization and two-tower embedding tables. */
export const OptimizerKind = { sgd: 0, adagrad: 1, 'rowwise-adagrad': 2, adam: 3 } as const;
export type OptimizerKind = Values<typeof OptimizerKind>;

/** Two-tower dense layers (projection and MLP); Adam keeps OptimizerKind.adam's state layout. */
export const DenseOptimizer = { sgd: 0, adam: 1 } as const;
export type DenseOptimizer = Values<typeof DenseOptimizer>;

export const SamplerKind = { uniform: 0, alias: 1, 'in-batch': 2 } as const;
export type SamplerKind = Values<typeof SamplerKind>;

/** Two-tower scores. */
export const Similarity = { dot: 0, cosine: 1 } as const;
export type Similarity = Values<typeof Similarity>;

export const KnnWeighting = { cosine: 0, 'tf-idf': 1, bm25: 2 } as const;
export type KnnWeighting = Values<typeof KnnWeighting>;

export const PoolMode = { sum: 0, mean: 1, 'weighted-sum': 2 } as const;
export type PoolMode = Values<typeof PoolMode>;

export const QuantKind = { bf16: 1, int8: 2 } as const;
export type QuantKind = Values<typeof QuantKind>;

/** Implicit ALS: confidence of an observed value (1 + α·v, or 1 + α·ln(1 + v/ε)) and the row solver. */
export const AlsConfidence = { linear: 0, log: 1 } as const;
export type AlsConfidence = Values<typeof AlsConfidence>;

export const AlsSolver = { cg: 0, cholesky: 1 } as const;
export type AlsSolver = Values<typeof AlsSolver>;

/**
 * Floats of optimizer state for a rows × dim table. Layouts: adagrad one accumulator per weight;
 * rowwise-adagrad one per row; adam first moments (rows × dim), second moments (rows × dim), then
 * each row's step count (rows); sgd none.
 */
export function optimizerStateSize(kind: OptimizerKind, rows: number, dim: number): number {
  switch (kind) {
    case OptimizerKind.adagrad:
      return rows * dim;
    case OptimizerKind['rowwise-adagrad']:
      return rows;
    case OptimizerKind.adam:
      return 2 * rows * dim + rows;
    default:
      return 0;
  }
}

/**
 * Values per MF training record (native train_mf.h, MfRecords): user and item, plus the rating
 * (mse), or with rejection of known positives either a negative drawn by the shuffle (bpr with the
 * uniform or alias sampler) or the user's range in the grouped lists.
 */
export function mfRecordStride(loss: MfLoss, rejectPositives: boolean, samplerKind: SamplerKind): number {
  if (loss === MfLoss.mse) return 3;
  if (!rejectPositives) return 2;
  return loss === MfLoss.bpr && samplerKind !== SamplerKind['in-batch'] ? 3 : 4;
}

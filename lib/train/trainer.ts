/**
 * Trainer: owns the epochs. Each epoch shuffles a schedule natively, then trains it in chunks on the
 * native thread pool (one promise per chunk, so the event loop stays free and progress, abort and
 * divergence are handled between chunks). Early stopping evaluates a validation set after each
 * epoch and can restore the best weights.
 */
import { resolveThreads } from '../core/config';
import { evaluateRanking } from '../eval/ranking';
import type { MatrixFactorization } from '../models/matrix-factorization';
import type { OptimizerStateKind, Parameter } from '../models/parameter';
import { native, type NativeTrainParam } from '../core/native';
import { MfLoss, OptimizerKind, SamplerKind, mfRecordStride } from '../core/native-constants';
import { sharedInt32 } from '../core/shared-memory';
import { expectBoolean, expectInteger, expectOptions, expectPositiveInteger, expectSignal, rangeError, typeError } from '../core/validate';
import { runEpochs, type FitReport, type Progress } from './epoch-loop';

export type { EpochReport, FitReport, Progress, ValidationMetric } from './epoch-loop';
export type { ValidationOptions } from './fit-options';
import { checkData, resolveValidation, type ValidationOptions } from './fit-options';
import type { Interactions } from '../data/interactions';
import { aliasTable, popularityWeights } from './sampler';
import { trainTwoTower, type TwoTowerFitOptions } from './two-tower-trainer';
import type { TwoTower } from '../models/two-tower';

export type OptimizerType = 'sgd' | 'adagrad' | 'rowwise-adagrad' | 'adam';

export interface OptimizerOptions {
  /**
   * 'sgd' (plain SGD with L2), 'adagrad' (per element), 'rowwise-adagrad' (one accumulator per row)
   * or 'adam' (lazy: only touched rows update their moments, each row bias-corrected by its own
   * step count; TensorFlow's ε̂ form).
   */
  type: OptimizerType;
  /** Learning rate, > 0. Defaults: sgd 0.05, adagrad and rowwise-adagrad 0.1, adam 0.01. */
  lr?: number;
  /** Adam's moment decay rates. Defaults 0.9 and 0.999. */
  beta1?: number;
  beta2?: number;
  /** L2 regularisation on the rows a step touches, ≥ 0. Default 0. */
  l2?: number;
  /** Adagrad's denominator guard. Default 1e-8. */
  eps?: number;
}

export type MfLossName = 'bpr' | 'bce' | 'mse' | 'warp';

export interface SamplerOptions {
  /**
   * 'uniform' (default): every item equally likely. 'popularity': ∝ count^alpha in the training
   * data (items never seen are never drawn). 'in-batch': the item of another interaction within
   * `window` schedule positions, i.e. popularity-proportional like in-batch negatives.
   */
  type: 'uniform' | 'popularity' | 'in-batch';
  /** popularity exponent. Default 0.75. */
  alpha?: number;
  /** in-batch window. Default 1024. */
  window?: number;
}

export interface FitOptions {
  /**
   * Matrix-factorization losses: 'bpr' (default; pairwise, one sampled negative), 'bce' (binary
   * cross-entropy: the positive plus `negatives` sampled negatives), 'mse' (explicit ratings in
   * data.values), 'warp' (hinge on the first margin violator weighted by ln of the estimated rank).
   */
  loss?: MfLossName;
  /** bce: sampled negatives per positive, 1..8. Default 4. */
  negatives?: number;
  /** How negatives are drawn (bpr, bce, warp). Default uniform. */
  sampler?: SamplerOptions;
  /** warp: sampling trials before giving up on a positive (default 100) and the margin (default 1). */
  warp?: { maxTrials?: number; margin?: number };
  /** Default: sgd, or adagrad for 'warp' (plain SGD diverges under WARP's rank-weighted steps). */
  optimizer?: OptimizerOptions;
  /** Epochs, ≥ 1. Default 10. */
  epochs?: number;
  /** Threads for the native epochs. Default: configure().threads. threads: 1 is bit-reproducible. */
  threads?: number;
  /** Seed of shuffling and negative sampling. Default 0. */
  seed?: number;
  /** Resample negatives that are known positives of the user (up to 20 tries). Default true. */
  rejectPositives?: boolean;
  /** Samples per native call (progress granularity). Default max(2^16, samples / 20). */
  chunkSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => unknown;
  validation?: ValidationOptions;
}

const OPTIMIZERS: Record<OptimizerType, { state: OptimizerStateKind | null; lr: number }> = {
  sgd: { state: null, lr: 0.05 },
  adagrad: { state: 'adagrad', lr: 0.1 },
  'rowwise-adagrad': { state: 'rowwise-adagrad', lr: 0.1 },
  adam: { state: 'adam', lr: 0.01 },
};

function positiveNumber(argument: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(argument, 'number', value);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw rangeError(argument, allowZero ? 'finite number ≥ 0' : 'finite number > 0', value);
  }
  return value;
}

function beta(argument: string, value: unknown, fallback: number): number {
  const b = positiveNumber(argument, value, fallback, true);
  if (b >= 1) throw rangeError(argument, 'number in [0, 1)', value);
  return b;
}

interface ResolvedOptions {
  loss: MfLossName;
  negatives: number;
  sampler: { type: SamplerOptions['type']; alpha: number; window: number };
  warp: { maxTrials: number; margin: number };
  optimizer: { type: OptimizerType; lr: number; l2: number; eps: number; beta1: number; beta2: number };
  epochs: number;
  threads: number;
  seed: number;
  rejectPositives: boolean;
  chunkSize: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((p: Progress) => void) | undefined;
  validation: Required<ValidationOptions> | null;
}

function resolveOptions(options: FitOptions | undefined): ResolvedOptions {
  const o = expectOptions('options', options);
  const loss = o.loss ?? 'bpr';
  if (typeof loss !== 'string' || !Object.hasOwn(MfLoss, loss)) throw rangeError('options.loss', '"bpr", "bce", "mse" or "warp"', loss);
  const sampler = expectOptions('options.sampler', o.sampler);
  const samplerType = sampler.type ?? 'uniform';
  if (!['uniform', 'popularity', 'in-batch'].includes(samplerType))
    throw rangeError('options.sampler.type', '"uniform", "popularity" or "in-batch"', samplerType);
  const warp = expectOptions('options.warp', o.warp);
  const opt = expectOptions('options.optimizer', o.optimizer);
  // Plain SGD diverges under WARP's rank-weighted updates on skewed data; Adagrad's per-weight steps do not.
  const type = opt.type ?? (loss === 'warp' ? 'adagrad' : 'sgd');
  if (typeof type !== 'string' || !Object.hasOwn(OPTIMIZERS, type))
    throw rangeError('options.optimizer.type', '"sgd", "adagrad", "rowwise-adagrad" or "adam"', type);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'function', o.onProgress);
  return {
    loss,
    negatives: o.negatives === undefined ? 4 : expectInteger('options.negatives', o.negatives, 1, 8),
    sampler: {
      type: samplerType,
      alpha: positiveNumber('options.sampler.alpha', sampler.alpha, 0.75, true),
      window: sampler.window === undefined ? 1024 : expectInteger('options.sampler.window', sampler.window, 2, 1e9),
    },
    warp: {
      maxTrials: warp.maxTrials === undefined ? 100 : expectInteger('options.warp.maxTrials', warp.maxTrials, 1, 100_000),
      margin: positiveNumber('options.warp.margin', warp.margin, 1, true),
    },
    optimizer: {
      type,
      lr: positiveNumber('options.optimizer.lr', opt.lr, OPTIMIZERS[type].lr),
      l2: positiveNumber('options.optimizer.l2', opt.l2, 0, true),
      eps: positiveNumber('options.optimizer.eps', opt.eps, 1e-8),
      beta1: beta('options.optimizer.beta1', opt.beta1, 0.9),
      beta2: beta('options.optimizer.beta2', opt.beta2, 0.999),
    },
    epochs: o.epochs === undefined ? 10 : expectPositiveInteger('options.epochs', o.epochs, 1_000_000),
    threads: resolveThreads('options.threads', o.threads),
    seed: o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1),
    rejectPositives: o.rejectPositives === undefined ? true : expectBoolean('options.rejectPositives', o.rejectPositives),
    chunkSize: o.chunkSize === undefined ? undefined : expectPositiveInteger('options.chunkSize', o.chunkSize),
    signal: expectSignal('options.signal', o.signal),
    onProgress: o.onProgress,
    validation: resolveValidation(o.validation),
  };
}

function trainParam(p: Parameter, state: OptimizerStateKind | null): NativeTrainParam {
  const view = p.trainingView();
  return { w: p.table.data, dim: p.table.dim, state: state ? p.optimizerState(state) : null, frozen: view.frozen, lrMult: view.lrMult };
}

async function train(model: MatrixFactorization, data: Interactions, o: ResolvedOptions): Promise<FitReport> {
  if (o.loss === 'mse' && !data.values) throw typeError('data', 'Interactions with values (ratings) for the mse loss', data);
  const positives = o.rejectPositives && o.loss !== 'mse' ? data.groupedByUser() : null;
  const sampler =
    o.sampler.type === 'popularity'
      ? { kind: SamplerKind.alias, ...aliasTable(popularityWeights(data.itemCounts(), o.sampler.alpha)) }
      : o.sampler.type === 'in-batch'
        ? { kind: SamplerKind['in-batch'], window: o.sampler.window }
        : { kind: SamplerKind.uniform };
  const optimizer = OPTIMIZERS[o.optimizer.type];
  const validation = o.validation;
  const loss = MfLoss[o.loss];
  const arrays = {
    loss,
    sampler,
    maxRejections: 20,
    users: data.users,
    items: data.items,
    values: o.loss === 'mse' ? data.values : null,
    posOffsets: positives?.offsets ?? null,
    posIndices: positives?.indices ?? null,
    // Each epoch's samples, shuffled natively with what the training step needs (read in place by
    // native threads, so on shared memory). 8-16 bytes per interaction.
    records: sharedInt32(data.size * mfRecordStride(loss, positives !== null, sampler.kind)),
  };
  return runEpochs({
    model,
    size: data.size,
    chunk: o.chunkSize ?? Math.max(65_536, Math.ceil(data.size / 20)),
    epochs: o.epochs,
    seed: o.seed,
    signal: o.signal,
    onProgress: o.onProgress,
    shuffle: (epoch) => native.shuffleRecords({ ...arrays, numItems: model.items, seed: o.seed, epoch }),
    trainChunk: ({ begin, end, epoch, chunk, cancel }) =>
      native.mfChunk({
        ...arrays,
        optimizer: OptimizerKind[o.optimizer.type],
        user: trainParam(model.userEmbedding, optimizer.state),
        item: trainParam(model.itemEmbedding, optimizer.state),
        bias: model.itemBias ? trainParam(model.itemBias, optimizer.state) : null,
        begin,
        end,
        lr: o.optimizer.lr,
        l2: o.optimizer.l2,
        eps: o.optimizer.eps,
        beta1: o.optimizer.beta1,
        beta2: o.optimizer.beta2,
        seed: o.seed,
        epoch,
        chunk,
        threads: o.threads,
        negatives: o.negatives,
        warpMaxTrials: o.warp.maxTrials,
        margin: o.warp.margin,
        cancel,
      }),
    divergence: (epoch, reason = 'a score became NaN or infinite') =>
      `Training diverged in epoch ${epoch} (${reason}) with ${o.loss} and ${o.optimizer.type} lr=${o.optimizer.lr}, l2=${o.optimizer.l2}. ` +
      'Try a learning rate 3-10x lower, an l2 of 1e-4 or more, or the adagrad optimizer; the model now holds the diverged weights (call reset() or restore a copy).',
    validation: validation && {
      metric: validation.metric,
      patience: validation.patience,
      restoreBest: validation.restoreBest,
      evaluate: () => evaluateRanking(model, validation.data, { k: validation.k, exclude: data, threads: o.threads }),
    },
  });
}

// biome-ignore lint/complexity/noStaticOnlyClass: Trainer.fit is the public entry point (overloads per model kind, room for instance options later).
export class Trainer {
  /**
   * Trains from a fresh start: the model is reset (weights re-drawn from its seed, optimizer state
   * cleared, epoch count 0), so the same model, data and options give the same result.
   * MatrixFactorization trains with FitOptions (bpr, bce, mse, warp); TwoTower with
   * TwoTowerFitOptions (in-batch softmax).
   */
  static async fit(model: MatrixFactorization, data: Interactions, options?: FitOptions): Promise<FitReport>;
  static async fit(model: TwoTower, data: Interactions, options?: TwoTowerFitOptions): Promise<FitReport>;
  static async fit(
    model: MatrixFactorization | TwoTower,
    data: Interactions,
    options?: FitOptions | TwoTowerFitOptions,
  ): Promise<FitReport> {
    return Trainer.run(model, data, options, true);
  }

  /** Continues training on (possibly new) data: weights, optimizer state and epoch count carry on. */
  static async fitPartial(model: MatrixFactorization, data: Interactions, options?: FitOptions): Promise<FitReport>;
  static async fitPartial(model: TwoTower, data: Interactions, options?: TwoTowerFitOptions): Promise<FitReport>;
  static async fitPartial(
    model: MatrixFactorization | TwoTower,
    data: Interactions,
    options?: FitOptions | TwoTowerFitOptions,
  ): Promise<FitReport> {
    return Trainer.run(model, data, options, false);
  }

  private static async run(
    model: MatrixFactorization | TwoTower,
    data: Interactions,
    options: FitOptions | TwoTowerFitOptions | undefined,
    fresh: boolean,
  ): Promise<FitReport> {
    // Two-tower models train with in-batch softmax (lib/train/two-tower-trainer.ts).
    if ((model as { kind?: string } | null)?.kind === 'two-tower') {
      return trainTwoTower(model as TwoTower, data, options as TwoTowerFitOptions, fresh);
    }
    if (!model || typeof model !== 'object' || (model as { kind?: string }).kind !== 'matrix-factorization') {
      throw typeError('model', 'MatrixFactorization', model);
    }
    const mf = model as MatrixFactorization;
    const checked = checkData(mf, data, 'data');
    const o = resolveOptions(options as FitOptions | undefined);
    if (o.validation) checkData(mf, o.validation.data, 'options.validation.data');
    const release = mf.acquire(fresh ? 'fit' : 'fitPartial');
    try {
      if (fresh) mf.reset();
      return await train(mf, checked, o);
    } finally {
      release();
    }
  }
}

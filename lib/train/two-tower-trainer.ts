/**
 * Training for TwoTower with in-batch sampled softmax. Mirrors Trainer (lib/train/trainer.ts): the
 * host owns epochs; each epoch shuffles a schedule natively and trains it in chunks of batches on
 * the native pool, one promise per chunk, so progress, abort and divergence are handled between
 * chunks; early stopping evaluates a validation set after each epoch and can restore the best
 * weights.
 */
import { types } from 'node:util';

import { resolveThreads } from '../core/config';
import { sharedCopy, sharedFloat32, sharedInt32 } from '../core/shared-memory';
import { evaluateRanking, type RankingMetrics, type RankingModel, type RankingOptions } from '../eval/ranking';
import type { TwoTower, TowerStateKinds } from '../models/two-tower';
import { native } from '../core/native';
import { DenseOptimizer, OptimizerKind, Similarity } from '../core/native-constants';
import {
  expectFinite,
  expectInteger,
  expectOptions,
  expectPositiveInteger,
  expectSignal,
  lengthError,
  rangeError,
  typeError,
} from '../core/validate';
import type { Interactions } from '../data/interactions';
import { runEpochs, type FitReport, type Progress } from './epoch-loop';
import { checkData, resolveValidation, type ValidationOptions } from './fit-options';

export type TwoTowerOptimizerType = 'sgd' | 'adagrad' | 'adam';

export interface TwoTowerOptimizerOptions {
  /**
   * What trains the embedding tables (id and feature embeddings, sparse row updates) and, unless
   * `denseOptimizer` is given, the dense layers (projection and MLP):
   * - 'sgd': SGD for both. Default lr 0.05.
   * - 'adagrad': per-element Adagrad for embeddings, SGD for dense layers. Default lr 0.1.
   * - 'adam': Adam for dense layers and Adagrad for embeddings (Adam's bias correction assumes
   *   every step touches the weight, which sparse rows do not). Default lr 0.01.
   */
  type: TwoTowerOptimizerType;
  /** Learning rate, > 0 (also the dense layers' rate unless denseOptimizer sets one). */
  lr?: number;
  /** L2 regularisation, ≥ 0: on the embedding rows a batch touches. Default 0. */
  l2?: number;
  /** Adagrad's denominator guard, > 0. Default 1e-8. */
  eps?: number;
}

/** Overrides what trains the embedding tables (id and feature embeddings, sparse row updates). */
export interface EmbeddingOptimizerOptions {
  /**
   * 'sgd', 'adagrad' (per element), 'rowwise-adagrad' (one accumulator per row) or 'adam' (lazy:
   * only a batch's rows update their moments, bias-corrected by each row's own step count; β₁ and β₂
   * are denseOptimizer's).
   */
  type: 'sgd' | 'adagrad' | 'rowwise-adagrad' | 'adam';
}

export interface DenseOptimizerOptions {
  /** 'sgd' or 'adam' (bias-corrected, per-row step counts, state kept in the parameter). */
  type: 'sgd' | 'adam';
  /** Learning rate, > 0. Default: optimizer.lr. */
  lr?: number;
  /** L2 added to the gradient, ≥ 0. Default 0. */
  l2?: number;
  /** Adam's β₁ and β₂ in [0, 1). Defaults 0.9 and 0.999. */
  beta1?: number;
  beta2?: number;
  /** Adam's ε, > 0. Default 1e-8. */
  eps?: number;
}

export interface TwoTowerFitOptions {
  /** Only 'softmax' (in-batch sampled softmax) for two-tower models. */
  loss?: 'softmax';
  /** Default { type: 'adam' } (Adam for dense layers, Adagrad for embeddings, lr 0.01). */
  optimizer?: TwoTowerOptimizerOptions;
  /** Overrides the dense layers' optimizer (see optimizer.type for the default). */
  denseOptimizer?: DenseOptimizerOptions;
  /** Overrides the embedding tables' optimizer (see optimizer.type for the default). */
  embeddingOptimizer?: EmbeddingOptimizerOptions;
  /**
   * logQ correction: subtract ln q(item) from every logit, q = the item's share of the training
   * interactions (true, the default), or a Float32Array of ln q per item, or false for none.
   */
  logQ?: boolean | Float32Array;
  /** Interactions per batch (the in-batch negatives are the other B-1 items). Default 1024. */
  batchSize?: number;
  /** Epochs, ≥ 1. Default 10. */
  epochs?: number;
  /** Threads for the native batches. Default: configure().threads. threads: 1 is bit-reproducible. */
  threads?: number;
  /** Seed of the shuffling. Default 0. */
  seed?: number;
  /** Batches per native call (progress granularity). Default: about 20 calls per epoch. */
  chunkBatches?: number;
  signal?: AbortSignal;
  /** Called after every chunk; loss is the mean softmax cross-entropy of this epoch so far. */
  onProgress?: (progress: Progress) => unknown;
  validation?: ValidationOptions;
}

interface Resolved {
  embedding: EmbeddingOptimizerOptions['type'];
  lr: number;
  l2: number;
  eps: number;
  dense: { type: 'sgd' | 'adam'; lr: number; l2: number; beta1: number; beta2: number; eps: number };
  logQ: boolean | Float32Array;
  batchSize: number;
  epochs: number;
  threads: number;
  seed: number;
  chunkBatches: number | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((p: Progress) => void) | undefined;
  validation: Required<ValidationOptions> | null;
  description: string;
}

const DEFAULT_LR: Record<TwoTowerOptimizerType, number> = { sgd: 0.05, adagrad: 0.1, adam: 0.01 };

function num(argument: string, value: unknown, fallback: number, min: number, max: number, minInclusive = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(argument, 'number', value);
  if (!Number.isFinite(value) || value > max || value < min || (!minInclusive && value === min)) {
    throw rangeError(argument, `finite number ${minInclusive ? '≥' : '>'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`, value);
  }
  return value;
}

function resolve(model: TwoTower, options: TwoTowerFitOptions | undefined): Resolved {
  const o = expectOptions('options', options);
  if (o.loss !== undefined && o.loss !== 'softmax') throw rangeError('options.loss', '"softmax" (two-tower models)', o.loss);
  const opt = expectOptions('options.optimizer', o.optimizer);
  const type = opt.type ?? 'adam';
  if (typeof type !== 'string' || !Object.hasOwn(DEFAULT_LR, type))
    throw rangeError('options.optimizer.type', '"sgd", "adagrad" or "adam"', type);
  const lr = num('options.optimizer.lr', opt.lr, DEFAULT_LR[type], 0, 1e6, false);
  const d = o.denseOptimizer === undefined ? null : expectOptions('options.denseOptimizer', o.denseOptimizer);
  const denseType = d ? d.type : type === 'adam' ? 'adam' : 'sgd';
  if (denseType !== 'sgd' && denseType !== 'adam') throw rangeError('options.denseOptimizer.type', '"sgd" or "adam"', denseType);
  let logQ: boolean | Float32Array = true;
  if (o.logQ !== undefined) {
    if (typeof o.logQ === 'boolean') logQ = o.logQ;
    else if (types.isFloat32Array(o.logQ)) {
      const q = o.logQ;
      if (q.length !== model.items) throw lengthError('options.logQ', `length ${model.items} (one per item)`, q);
      expectFinite('options.logQ', q);
      logQ = sharedCopy(q);
    } else throw typeError('options.logQ', 'boolean or Float32Array', o.logQ);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'function', o.onProgress);
  const dense = {
    type: denseType,
    lr: num('options.denseOptimizer.lr', d?.lr, lr, 0, 1e6, false),
    l2: num('options.denseOptimizer.l2', d?.l2, 0, 0, 1e6),
    beta1: num('options.denseOptimizer.beta1', d?.beta1, 0.9, 0, 0.999999),
    beta2: num('options.denseOptimizer.beta2', d?.beta2, 0.999, 0, 0.999999),
    eps: num('options.denseOptimizer.eps', d?.eps, 1e-8, 0, 1, false),
  };
  const l2 = num('options.optimizer.l2', opt.l2, 0, 0, 1e6);
  const e = o.embeddingOptimizer === undefined ? undefined : expectOptions('options.embeddingOptimizer', o.embeddingOptimizer);
  const embType = e?.type ?? (type === 'sgd' ? 'sgd' : 'adagrad');
  if (typeof embType !== 'string' || !Object.hasOwn(OptimizerKind, embType)) {
    throw rangeError('options.embeddingOptimizer.type', '"sgd", "adagrad", "rowwise-adagrad" or "adam"', embType);
  }
  return {
    embedding: embType,
    lr,
    l2,
    eps: num('options.optimizer.eps', opt.eps, 1e-8, 0, 1, false),
    dense,
    logQ,
    batchSize: o.batchSize === undefined ? 1024 : expectPositiveInteger('options.batchSize', o.batchSize, 65_536),
    epochs: o.epochs === undefined ? 10 : expectPositiveInteger('options.epochs', o.epochs, 1_000_000),
    threads: resolveThreads('options.threads', o.threads),
    seed: o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1),
    chunkBatches: o.chunkBatches === undefined ? undefined : expectPositiveInteger('options.chunkBatches', o.chunkBatches),
    signal: expectSignal('options.signal', o.signal),
    onProgress: o.onProgress,
    validation: resolveValidation(o.validation),
    description: `${type} lr=${lr}, l2=${l2}, dense ${denseType} lr=${dense.lr}`,
  };
}

/** ln(share of the interactions) per item; items never seen get ln(1/n) (they never appear in a batch). */
export function itemLogQ(data: Interactions, items: number): Float32Array {
  const counts = data.itemCounts();
  const out = sharedFloat32(items);
  const n = data.size;
  for (let i = 0; i < items; i++) out[i] = Math.log(Math.max(i < counts.length ? counts[i] : 0, 1) / n);
  return out;
}

/**
 * Full-ranking metrics for a two-tower model: both towers are encoded, then evaluateRanking runs
 * on the tables (training items masked through options.exclude, as for matrix factorization).
 */
export async function evaluateTwoTower(model: TwoTower, test: Interactions, options?: RankingOptions): Promise<RankingMetrics> {
  const threads = resolveThreads('options.threads', options?.threads);
  const users = await model.encode('user', threads);
  const items = await model.encode('item', threads);
  const encoded: RankingModel = {
    users: model.users,
    items: model.items,
    encodeItems: () => items,
    userQuery: (u: number) => users.row(u),
  };
  return evaluateRanking(encoded, test, options);
}

async function train(model: TwoTower, data: Interactions, o: Resolved): Promise<FitReport> {
  const n = data.size;
  const B = o.batchSize;
  const batchesPerEpoch = Math.ceil(n / B);
  const logQ = o.logQ === true ? itemLogQ(data, model.items) : o.logQ === false ? null : o.logQ;
  const states: TowerStateKinds = { embedding: o.embedding === 'sgd' ? null : o.embedding, dense: o.dense.type === 'adam' ? 'adam' : null };
  const validation = o.validation;
  const schedule = sharedInt32(n); // read in place by native threads: must not be detachable
  return runEpochs({
    model,
    size: n,
    chunk: (o.chunkBatches ?? Math.max(1, Math.ceil(batchesPerEpoch / 20))) * B,
    epochs: o.epochs,
    seed: o.seed,
    signal: o.signal,
    onProgress: o.onProgress,
    shuffle: (epoch) => native.shuffleSchedule(schedule, o.seed, epoch),
    trainChunk: ({ begin, end, cancel }) =>
      native.twoTowerChunk({
        user: model.nativeTower('user', states),
        item: model.nativeTower('item', states),
        users: data.users,
        items: data.items,
        logQ,
        schedule,
        begin,
        end,
        batchSize: B,
        similarity: Similarity[model.similarity],
        temperature: model.temperature,
        embOptimizer: OptimizerKind[o.embedding],
        lr: o.lr,
        l2: o.l2,
        eps: o.eps,
        denseOptimizer: DenseOptimizer[o.dense.type],
        denseLr: o.dense.lr,
        denseL2: o.dense.l2,
        beta1: o.dense.beta1,
        beta2: o.dense.beta2,
        denseEps: o.dense.eps,
        threads: o.threads,
        cancel,
      }),
    divergence: (epoch, reason = 'a logit became NaN or infinite') =>
      `Training diverged in epoch ${epoch} (${reason}) with ${o.description}. ` +
      'Try a learning rate 3-10x lower, a higher temperature, cosine similarity, or the adam optimizer; ' +
      'the model holds the weights from before the failing batch (call reset() to start over).',
    validation: validation && {
      metric: validation.metric,
      patience: validation.patience,
      restoreBest: validation.restoreBest,
      evaluate: () => evaluateTwoTower(model, validation.data, { k: validation.k, exclude: data, threads: o.threads }),
    },
  });
}

/**
 * Trains a TwoTower with in-batch sampled softmax. `fresh` (default true) resets the model first
 * (weights re-drawn from its seed, optimizer state cleared, epoch count 0), so the same model, data
 * and options give the same result with threads: 1; `fresh: false` continues (fitPartial).
 */
export async function trainTwoTower(model: TwoTower, data: Interactions, options?: TwoTowerFitOptions, fresh = true): Promise<FitReport> {
  if (!model || typeof model !== 'object' || (model as { kind?: string }).kind !== 'two-tower') throw typeError('model', 'TwoTower', model);
  const checked = checkData(model, data, 'data');
  const o = resolve(model, options);
  if (o.validation) checkData(model, o.validation.data, 'options.validation.data');
  const release = model.acquire(fresh ? 'fit' : 'fitPartial');
  try {
    if (fresh) model.reset();
    return await train(model, checked, o);
  } finally {
    release();
  }
}

/**
 * AlsTrainer: implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008) for
 * MatrixFactorization, with the conjugate-gradient row solver of Takács et al. (2011) or an exact
 * Cholesky solve. Each iteration solves every user row against the fixed item table, then every item
 * row against the fixed user table (native, multi-threaded over rows). The model stays a plain
 * MatrixFactorization, so evaluation, saving, serving and fold-in work unchanged.
 */
import { resolveThreads } from '../core/config';
import { native } from '../core/native';
import { AlsConfidence, AlsSolver } from '../core/native-constants';
import { sharedFloat32, sharedInt32, sharedUint8 } from '../core/shared-memory';
import { expectBoolean, expectInteger, expectOptions, expectPositiveInteger, expectSignal, rangeError, typeError } from '../core/validate';
import type { Interactions } from '../data/interactions';
import { evaluateRanking } from '../eval/ranking';
import type { MatrixFactorization } from '../models/matrix-factorization';
import type { Parameter } from '../models/parameter';
import { type EpochReport, type FitReport, type Progress, runEpochs } from './epoch-loop';
import { checkData, resolveValidation, type ValidationOptions } from './fit-options';

export interface AlsFitOptions {
  /** Full iterations (a user half then an item half), ≥ 1. Default 15. */
  iterations?: number;
  /** Confidence slope α ≥ 0: an observed value v weighs 1 + α·v (or see `confidence`). Default 10. */
  alpha?: number;
  /**
   * 'linear' (default): c = 1 + α·v; 'log': c = 1 + α·ln(1 + v/ε), which tames heavy counts.
   * v is the interaction's value (data.values, ≥ 0) or 1, repeated (user, item) pairs summed.
   */
  confidence?: 'linear' | 'log';
  /** ε of the log confidence, > 0 (same unit as the values). Default 1. */
  eps?: number;
  /** L2 penalty λ ≥ 0 on every user and item vector. Default 0.05. */
  l2?: number;
  /** 'cg' (default): cgSteps conjugate-gradient steps per row, warm-started from the row; 'cholesky': exact, O(d³) per row. */
  solver?: 'cg' | 'cholesky';
  /** Conjugate-gradient steps per row and half-iteration, 1..1000. Default 3. */
  cgSteps?: number;
  /** Threads (rows are solved in parallel; results do not depend on the count). Default: configure().threads. */
  threads?: number;
  /**
   * Measure the objective after each iteration (EpochReport.loss, per interaction). It costs one
   * more pass over the interactions; false skips it and reports loss 0. Default true.
   */
  trainingLoss?: boolean;
  /** Early stopping on a held-out set after each iteration (see ValidationOptions). */
  validation?: ValidationOptions;
  signal?: AbortSignal;
  /** Called after each half-iteration: samples counts the interactions the halves so far visited. */
  onProgress?: (progress: Progress) => unknown;
  /** Called after each iteration (after its validation) with its report. */
  onEpoch?: (report: EpochReport) => unknown;
}

interface ResolvedAls {
  iterations: number;
  alpha: number;
  confidence: AlsConfidence;
  eps: number;
  l2: number;
  solver: AlsSolver;
  cgSteps: number;
  threads: number;
  trainingLoss: boolean;
  validation: Required<ValidationOptions> | null;
  signal: AbortSignal | undefined;
  onProgress: ((p: Progress) => unknown) | undefined;
  onEpoch: ((r: EpochReport) => unknown) | undefined;
}

function finiteAtLeast(argument: string, value: unknown, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(argument, 'number', value);
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0))
    throw rangeError(argument, positive ? 'finite number > 0' : 'finite number ≥ 0', value);
  return value;
}

function resolveAlsOptions(options: AlsFitOptions | undefined): ResolvedAls {
  const o = expectOptions('options', options);
  const confidence = o.confidence ?? 'linear';
  if (confidence !== 'linear' && confidence !== 'log') throw rangeError('options.confidence', '"linear" or "log"', confidence);
  const solver = o.solver ?? 'cg';
  if (solver !== 'cg' && solver !== 'cholesky') throw rangeError('options.solver', '"cg" or "cholesky"', solver);
  for (const name of ['onProgress', 'onEpoch'] as const)
    if (o[name] !== undefined && typeof o[name] !== 'function') throw typeError(`options.${name}`, 'function', o[name]);
  return {
    iterations: o.iterations === undefined ? 15 : expectPositiveInteger('options.iterations', o.iterations, 100_000),
    alpha: finiteAtLeast('options.alpha', o.alpha, 10, false),
    confidence: AlsConfidence[confidence],
    eps: finiteAtLeast('options.eps', o.eps, 1, true),
    l2: finiteAtLeast('options.l2', o.l2, 0.05, false),
    solver: AlsSolver[solver],
    cgSteps: o.cgSteps === undefined ? 3 : expectInteger('options.cgSteps', o.cgSteps, 1, 1000),
    threads: resolveThreads('options.threads', o.threads),
    trainingLoss: o.trainingLoss === undefined ? true : expectBoolean('options.trainingLoss', o.trainingLoss),
    validation: resolveValidation(o.validation),
    signal: expectSignal('options.signal', o.signal),
    onProgress: o.onProgress,
    onEpoch: o.onEpoch,
  };
}

/** One side's observations as CSR with summed values (null when every value is 1). */
export interface AlsSide {
  offsets: Int32Array;
  indices: Int32Array;
  values: Float32Array | null;
}

/**
 * The interactions grouped both ways, on shared memory: by user (items ascending) and by item (users
 * ascending), repeated (user, item) pairs merged into one entry whose value is their sum. Values
 * must be ≥ 0 (they are confidence weights).
 */
export function alsMatrices(data: Interactions, users: number, items: number): { byUser: AlsSide; byItem: AlsSide } {
  const n = data.size;
  const v = data.values;
  if (v) for (let k = 0; k < n; k++) if (!(v[k] >= 0)) throw rangeError(`data.values[${k}]`, 'number ≥ 0 (a confidence weight)', v[k]);
  // Positions grouped by user (a counting sort: one sequential pass, one scattered write each).
  const start = new Int32Array(users + 1);
  for (let k = 0; k < n; k++) start[data.users[k] + 1]++;
  for (let u = 0; u < users; u++) start[u + 1] += start[u];
  const fill = start.slice(0, users);
  const grouped = new Int32Array(n);
  for (let k = 0; k < n; k++) grouped[fill[data.users[k]]++] = k;
  // Within a user, sort by item with the position riding along: key = item · len + j (exact in a
  // double for any table that fits in memory), so a numeric typed-array sort does it.
  const offsets = sharedInt32(users + 1);
  const merged = new Int32Array(n);
  const values = new Float32Array(n);
  let m = 0;
  let repeats = false;
  let keys = new Float64Array(16);
  for (let u = 0; u < users; u++) {
    const b = start[u];
    const len = start[u + 1] - b;
    if (keys.length < len) keys = new Float64Array(Math.max(len, 2 * keys.length));
    const row = keys.subarray(0, len);
    for (let j = 0; j < len; j++) row[j] = data.items[grouped[b + j]] * len + j;
    row.sort();
    let prev = -1;
    for (let j = 0; j < len; j++) {
      const i = Math.floor(row[j] / len);
      const value = v ? v[grouped[b + (row[j] - i * len)]] : 1;
      if (i === prev) {
        values[m - 1] += value;
        repeats = true;
        continue;
      }
      merged[m] = i;
      values[m++] = value;
      prev = i;
    }
    offsets[u + 1] = m;
  }
  const byUser: AlsSide = {
    offsets,
    indices: shareCopy(sharedInt32(m), merged.subarray(0, m)),
    values: v || repeats ? shareCopy(sharedFloat32(m), values.subarray(0, m)) : null,
  };
  // By item: a stable counting sort of the merged entries by item keeps users ascending.
  const itemOffsets = sharedInt32(items + 1);
  for (let k = 0; k < m; k++) itemOffsets[byUser.indices[k] + 1]++;
  for (let i = 0; i < items; i++) itemOffsets[i + 1] += itemOffsets[i];
  const itemFill = itemOffsets.slice(0, items);
  const itemUsers = sharedInt32(m);
  const itemValues = byUser.values ? sharedFloat32(m) : null;
  for (let u = 0; u < users; u++) {
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const at = itemFill[byUser.indices[k]]++;
      itemUsers[at] = u;
      if (itemValues) itemValues[at] = byUser.values![k];
    }
  }
  return { byUser, byItem: { offsets: itemOffsets, indices: itemUsers, values: itemValues } };
}

function shareCopy<T extends Int32Array | Float32Array>(out: T, from: T): T {
  out.set(from);
  return out;
}

/** Frozen flags for an ALS half: the parameter's own, or every row when it is not trainable. */
function frozenFlags(p: Parameter): Uint8Array | null {
  const view = p.trainingView();
  if (view.lrMult > 0) return view.frozen;
  const all = sharedUint8(p.rows);
  all.fill(1);
  return all;
}

async function trainAls(model: MatrixFactorization, data: Interactions, o: ResolvedAls): Promise<FitReport> {
  const { byUser, byItem } = alsMatrices(data, model.users, model.items);
  const n = data.size;
  const validation = o.validation;
  const half = (x: Parameter, y: Parameter, side: AlsSide, loss: boolean, cancel: Parameters<typeof native.alsSolve>[0]['cancel']) =>
    native.alsSolve({
      x: x.table.data,
      y: y.table.data,
      dim: model.dim,
      offsets: side.offsets,
      indices: side.indices,
      values: side.values,
      frozen: frozenFlags(x),
      confidence: o.confidence,
      alpha: o.alpha,
      eps: o.eps,
      l2: o.l2,
      solver: o.solver,
      cgSteps: o.cgSteps,
      threads: o.threads,
      loss,
      cancel,
    });
  return runEpochs({
    model,
    // Two "chunks" per epoch, each visiting every interaction once: users, then items.
    size: 2 * n,
    chunk: n,
    epochs: o.iterations,
    seed: 0,
    signal: o.signal,
    onProgress: o.onProgress,
    onEpoch: o.onEpoch,
    shuffle: async () => {},
    trainChunk: async ({ chunk, cancel }) => {
      const users = chunk === 0;
      const r = users
        ? await half(model.userEmbedding, model.itemEmbedding, byUser, false, cancel)
        : await half(model.itemEmbedding, model.userEmbedding, byItem, o.trainingLoss, cancel);
      // The objective is measured after the item half; per interaction, like the SGD losses.
      return { loss: users ? 0 : r.loss, samples: users ? 0 : n, invalid: r.invalid, diverged: r.diverged, cancelled: r.cancelled };
    },
    divergence: (epoch) =>
      `ALS diverged in iteration ${epoch} (a solved vector became NaN or infinite) with alpha=${o.alpha}, l2=${o.l2}. ` +
      'Try a larger l2, a smaller alpha, or check data.values for huge entries; the model holds the last finite vectors.',
    validation: validation && {
      metric: validation.metric,
      patience: validation.patience,
      restoreBest: validation.restoreBest,
      evaluate: () => evaluateRanking(model, validation.data, { k: validation.k, exclude: data, threads: o.threads }),
    },
  });
}

function checkModel(model: unknown): MatrixFactorization {
  if (!model || typeof model !== 'object' || (model as { kind?: string }).kind !== 'matrix-factorization')
    throw typeError('model', 'MatrixFactorization', model);
  return model as MatrixFactorization;
}

// biome-ignore lint/complexity/noStaticOnlyClass: mirrors Trainer (fit and fitPartial as static entry points).
export class AlsTrainer {
  /**
   * Trains from a fresh start: the model is reset (weights re-drawn from its seed, epoch count 0)
   * first. Item biases are not trained by ALS (reset leaves them at zero).
   */
  static async fit(model: MatrixFactorization, data: Interactions, options?: AlsFitOptions): Promise<FitReport> {
    return AlsTrainer.run(model, data, options, true);
  }

  /**
   * Continues from the model's current vectors (warm start: CG starts each row where it is), e.g.
   * after a transfer put source vectors in. Frozen rows and non-trainable tables are left bit for bit.
   */
  static async fitPartial(model: MatrixFactorization, data: Interactions, options?: AlsFitOptions): Promise<FitReport> {
    return AlsTrainer.run(model, data, options, false);
  }

  private static async run(model: MatrixFactorization, data: Interactions, options: AlsFitOptions | undefined, fresh: boolean) {
    const mf = checkModel(model);
    const checked = checkData(mf, data, 'data');
    const o = resolveAlsOptions(options);
    if (o.validation) checkData(mf, o.validation.data, 'options.validation.data');
    const release = mf.acquire(fresh ? 'fit' : 'fitPartial');
    try {
      if (fresh) mf.reset();
      return await trainAls(mf, checked, o);
    } finally {
      release();
    }
  }
}

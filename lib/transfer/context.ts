/**
 * Everything the strategies of one transfer run share: the alignment, the split, the training
 * settings, and the two models most strategies start from (a source model trained on every source
 * row, and a target-only model trained on the target training rows), trained once and cached.
 */
import { evaluateRanking, type RankingMetrics, type RankingModel } from '../eval/ranking';
import { MatrixFactorization } from '../models/matrix-factorization';
import type { Interactions } from '../data/interactions';
import { Trainer, type FitOptions, type MfLossName, type OptimizerOptions, type FitReport } from '../train/trainer';
import type { Alignment } from './align';
import { flagsOf, rowsByUserFlag, type TransferSplit } from './cold-split';
import { normalisedPopularity } from './user-vectors-model';

export interface TrainSettings {
  /** Embedding width of every model. Default 64. */
  dim: number;
  /** Most epochs of any training (early stopping usually ends sooner). Default 100. */
  epochs: number;
  /** Early-stopping patience in epochs. Default 5. */
  patience: number;
  loss: MfLossName;
  negatives: number;
  optimizer: OptimizerOptions;
  threads?: number;
  /** Metric for early stopping and choices (higher is better). Default 'ndcg'. */
  metric: 'recall' | 'ndcg' | 'hit' | 'mrr' | 'precision';
  k: number;
}

export const DEFAULT_SETTINGS: TrainSettings = {
  dim: 64,
  epochs: 100,
  patience: 5,
  loss: 'bpr',
  negatives: 4,
  optimizer: { type: 'adagrad', lr: 0.05, l2: 0.01 },
  metric: 'ndcg',
  k: 10,
};

/**
 * Where the target-only model's early stopping gets its validation rows: warm users' held-out rows,
 * the cold-validation users' rows (these users must have revealed target rows, coldShots ≥ 1, or
 * the model has no vector of theirs to score), or nowhere (a fixed `settings.epochs`).
 */
export type EarlyStopping = 'warm-validation' | 'cold-validation' | 'none';

/** How a transfer run is evaluated; the lift report states it. */
export interface TransferProtocol {
  /** Mask each test user's validation rows (and training rows) when ranking at test. Default true. */
  maskValidation: boolean;
  /** Default 'warm-validation'. */
  earlyStopping: EarlyStopping;
}

export const DEFAULT_PROTOCOL: TransferProtocol = { maskValidation: true, earlyStopping: 'warm-validation' };

export class TransferContext {
  private source: Promise<MatrixFactorization> | null = null;
  private target: Promise<MatrixFactorization> | null = null;
  private readonly memos = new Map<string, Promise<unknown>>();
  /** Target popularity from the training rows, normalised to [0, 1]. */
  readonly popularity: Float32Array;
  /** Validation rows of the validation-cold users only (for choices made for cold users). */
  readonly coldValidation: Interactions;
  /** Validation rows of warm users only. */
  readonly warmValidation: Interactions;
  /** Target users with training rows. */
  readonly hasTrainRows: Uint8Array;

  constructor(
    readonly alignment: Alignment,
    readonly split: TransferSplit,
    readonly settings: TrainSettings,
    readonly seed: number,
    readonly signal?: AbortSignal,
    readonly protocol: TransferProtocol = DEFAULT_PROTOCOL,
  ) {
    const target = alignment.target;
    this.popularity = normalisedPopularity(split.train, target.numItems);
    const coldVal = flagsOf(split.coldValidationUsers, target.numUsers);
    this.coldValidation = rowsByUserFlag(split.validation, coldVal, true);
    this.warmValidation = rowsByUserFlag(split.validation, split.isCold, false);
    this.hasTrainRows = new Uint8Array(target.numUsers);
    for (const u of split.train.users) this.hasTrainRows[u] = 1;
  }

  /**
   * Whether user u is served by transfer rather than by the target-only model: a cold user (even one
   * with a few revealed target rows, coldShots) or a user without target training rows.
   */
  needsTransfer(u: number): boolean {
    return this.split.isCold[u] === 1 || this.hasTrainRows[u] === 0;
  }

  get sourceData(): Interactions {
    return this.alignment.source.interactions;
  }

  /** Fit options with the run's settings (loss, optimizer, threads, seed, signal) and any overrides. */
  fitOptions(extra: FitOptions = {}): FitOptions {
    const s = this.settings;
    return {
      loss: s.loss,
      negatives: s.negatives,
      optimizer: s.optimizer,
      threads: s.threads,
      seed: this.seed,
      signal: this.signal,
      epochs: s.epochs,
      ...extra,
    };
  }

  /** Trains an MF model from scratch with early stopping on `validation`. */
  async fitMf(model: MatrixFactorization, data: Interactions, validation: Interactions | null, extra: FitOptions = {}): Promise<FitReport> {
    const s = this.settings;
    const v =
      validation && validation.size > 0
        ? { data: validation, metric: s.metric, k: s.k, patience: s.patience, restoreBest: true }
        : undefined;
    return Trainer.fit(model, data, this.fitOptions({ validation: v, ...extra }));
  }

  newMf(
    users: number,
    items: number,
    seedOffset = 0,
    extra: Partial<ConstructorParameters<typeof MatrixFactorization>[0]> = {},
  ): MatrixFactorization {
    return new MatrixFactorization({ users, items, dim: this.settings.dim, seed: this.seed * 7 + seedOffset, ...extra });
  }

  /**
   * The source model: every source row trains (cold users keep their source history), for a fixed
   * number of epochs chosen on a held-out 10% of source rows.
   */
  sourceModel(): Promise<MatrixFactorization> {
    this.source ??= (async () => {
      const data = this.sourceData;
      const model = this.newMf(this.alignment.source.numUsers, this.alignment.source.numItems, 1);
      const holdout = holdOut(data, 0.1, this.seed);
      const probe = await this.fitMf(model, holdout.train, holdout.validation);
      // Retrain on everything for the epoch count the holdout picked.
      await Trainer.fit(model, data, this.fitOptions({ epochs: Math.max(1, probe.bestEpoch) }));
      return model;
    })();
    return this.source;
  }

  /**
   * The source model of another context on the same alignment and seed (the source side does not
   * depend on the target split), so that runs differing only in the split train it once.
   */
  shareSourceModel(other: TransferContext): void {
    this.source = other.sourceModel();
  }

  /** The validation rows the protocol's early stopping uses (null: a fixed epoch count). */
  get earlyStoppingValidation(): Interactions | null {
    const where = this.protocol.earlyStopping;
    return where === 'none' ? null : where === 'cold-validation' ? this.coldValidation : this.warmValidation;
  }

  /** The target-only model: trained on the target training rows, early-stopped as the protocol says. */
  targetModel(): Promise<MatrixFactorization> {
    this.target ??= (async () => {
      const target = this.alignment.target;
      const model = this.newMf(target.numUsers, target.numItems, 2);
      await this.fitMf(model, this.split.train, this.earlyStoppingValidation);
      return model;
    })();
    return this.target;
  }

  /** The result of `make` computed once per context (strategies that build on one another share it). */
  memo<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.memos.set(key, p);
    }
    return p;
  }

  /**
   * A strategy's result for this context, run once: the lift loop, fusion and auto all ask for
   * strategies by name and share the models the report trained.
   */
  run<T>(strategy: { name: string; run(ctx: TransferContext): Promise<T> }): Promise<T> {
    return this.memo(`strategy:${strategy.name}`, () => strategy.run(this));
  }

  /** Metrics of a model on validation rows, masking the training rows. */
  validate(model: RankingModel, validation: Interactions): Promise<RankingMetrics> {
    return evaluateRanking(model, validation, { k: this.settings.k, exclude: this.split.train, threads: this.settings.threads });
  }
}

/** A seeded per-interaction holdout (for choosing epochs where no user-level split exists). */
function holdOut(data: Interactions, fraction: number, seed: number): { train: Interactions; validation: Interactions } {
  let state = (seed * 2654435761 + 12345) >>> 0;
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < data.size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    (state / 2 ** 32 < fraction ? validation : train).push(i);
  }
  return { train: data.subset(Int32Array.from(train)), validation: data.subset(Int32Array.from(validation)) };
}

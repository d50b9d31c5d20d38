/**
 * The epoch loop every trainer shares: per epoch a native shuffle of the trainer's samples, then chunks of
 * native training (one promise each, so the event loop stays free), with progress, cancellation,
 * divergence and invalid-index checks between chunks, and early stopping on a validation metric
 * with best-weights restore. Trainers supply only their native chunk call and their evaluation.
 */
import { invoke } from '../core/callback';
import { AbortError, RecbridgeError } from '../core/errors';
import type { RankingMetrics } from '../eval/ranking';
import type { Parameter } from '../models/parameter';
import { native, type CancelToken } from '../core/native';

export interface Progress {
  epoch: number;
  epochs: number;
  /** Samples done in this epoch, and the epoch's total. */
  samples: number;
  totalSamples: number;
  /** Mean loss over this epoch's samples so far. */
  loss: number;
  samplesPerSecond: number;
  /** Estimated seconds left in the whole fit (excluding validation). */
  etaSeconds: number;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  validation?: RankingMetrics;
}

export interface FitReport {
  epochs: EpochReport[];
  /** Epoch (1-based within this call) with the best validation metric (the last one without validation). */
  bestEpoch: number;
  /** Its validation metric, or null without validation. */
  bestMetric: number | null;
  /** Epoch whose weights the model holds at the end (bestEpoch when restoreBest, else the last). */
  weightsFromEpoch: number;
  stoppedEarly: boolean;
}

export type ValidationMetric = 'recall' | 'ndcg' | 'hit' | 'mrr' | 'precision';

/** What a native training chunk reports. */
export interface ChunkOutcome {
  loss: number;
  samples: number;
  invalid: number;
  diverged: boolean;
  cancelled: boolean;
}

/** A model the loop can snapshot and count epochs for. */
export interface TrainableModel {
  epochsTrained: number;
  parameters(): Parameter[];
}

export interface EpochLoop {
  model: TrainableModel;
  /** Interactions per epoch. */
  size: number;
  /** Samples per native call (progress granularity). */
  chunk: number;
  epochs: number;
  seed: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => unknown;
  /** Called after each epoch (and its validation) with the epoch's report. */
  onEpoch?: (report: EpochReport) => unknown;
  /** Puts the samples in the (seed, epoch) order that the epoch's chunks then train. */
  shuffle(epoch: number): Promise<void>;
  /** Trains samples [begin, end) of the model's epoch `epoch` (chunk index `chunk`). */
  trainChunk(args: { begin: number; end: number; epoch: number; chunk: number; cancel: CancelToken }): Promise<ChunkOutcome>;
  /** The ERR_DIVERGED message for a divergence in epoch `epoch` (1-based): what happened, what to try. */
  divergence(epoch: number, reason?: string): string;
  validation: null | { metric: ValidationMetric; patience: number; restoreBest: boolean; evaluate(): Promise<RankingMetrics> };
}

/** A copy of every parameter's values and optimizer state; calling the result puts them back. */
export function snapshot(model: TrainableModel): () => void {
  const saved = model
    .parameters()
    .map((p) => ({ p, w: p.table.data.slice(), state: p.state ? { kind: p.state.kind, values: p.state.values.slice() } : null }));
  const epochs = model.epochsTrained;
  return () => {
    for (const { p, w, state } of saved) {
      p.table.data.set(w);
      if (state) p.optimizerState(state.kind).set(state.values);
      else p.resetOptimizerState();
    }
    model.epochsTrained = epochs;
  };
}

/**
 * Divergence caught before anything overflows: a chunk whose mean loss is LOSS_GROWTH times the
 * lowest chunk mean seen in this fit (floored, so a loss near zero cannot make noise look like
 * growth). Healthy training never does this; a diverging one (WARP under plain SGD, a learning rate
 * far too high) does so within an epoch, while the weights are still finite.
 */
const LOSS_GROWTH = 1e4;
const LOSS_FLOOR = 1e-3;

class LossGrowth {
  private lowest = Number.POSITIVE_INFINITY;
  private last = 0;

  exploded(loss: number, samples: number): boolean {
    if (samples <= 0) return false;
    const mean = loss / samples;
    this.last = mean;
    if (mean < this.lowest) this.lowest = mean;
    return mean > LOSS_GROWTH * Math.max(this.lowest, LOSS_FLOOR);
  }

  describe(): string {
    return `the mean loss of a chunk grew from ${this.lowest.toPrecision(3)} to ${this.last.toPrecision(3)}`;
  }
}

export async function runEpochs(loop: EpochLoop): Promise<FitReport> {
  const { model, size: n, chunk, signal } = loop;
  const token = native.createCancelToken();
  const onAbort = () => native.cancel(token);
  signal?.addEventListener('abort', onAbort, { once: true });
  const report: FitReport = { epochs: [], bestEpoch: 0, bestMetric: null, weightsFromEpoch: 0, stoppedEarly: false };
  let restoreBest: (() => void) | null = null;
  let sinceBest = 0;
  const started = process.hrtime.bigint();
  let samplesDone = 0;
  const growth = new LossGrowth();
  try {
    for (let e = 0; e < loop.epochs; e++) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const epoch = model.epochsTrained;
      const epochStart = process.hrtime.bigint();
      await loop.shuffle(epoch);
      let loss = 0;
      let samples = 0;
      for (let begin = 0, c = 0; begin < n; begin += chunk, c++) {
        const end = Math.min(n, begin + chunk);
        // Parameters are re-read by trainChunk every chunk: freezing or learning-rate multipliers
        // changed from a progress callback take effect at the next chunk.
        const r = await loop.trainChunk({ begin, end, epoch, chunk: c, cancel: token });
        loss += r.loss;
        samples += r.samples;
        samplesDone += end - begin;
        if (r.cancelled) throw new AbortError(undefined, { cause: signal?.reason });
        if (r.diverged) throw new RecbridgeError('ERR_DIVERGED', loop.divergence(e + 1));
        if (growth.exploded(r.loss, r.samples)) throw new RecbridgeError('ERR_DIVERGED', loop.divergence(e + 1, growth.describe()));
        if (r.invalid)
          throw new RecbridgeError(
            'ERR_NATIVE',
            `${r.invalid} samples had out-of-range indices during training: was the data modified while training?`,
          );
        if (loop.onProgress) {
          const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
          const rate = samplesDone / Math.max(elapsed, 1e-9);
          await invoke(loop.onProgress, {
            epoch: e + 1,
            epochs: loop.epochs,
            samples: end,
            totalSamples: n,
            loss: samples ? loss / samples : 0,
            samplesPerSecond: rate,
            etaSeconds: (loop.epochs * n - samplesDone) / rate,
          });
        }
      }
      model.epochsTrained++;
      const seconds = Number(process.hrtime.bigint() - epochStart) / 1e9;
      const er: EpochReport = { epoch: e + 1, loss: samples ? loss / samples : 0, samples, seconds, samplesPerSecond: samples / seconds };
      report.epochs.push(er);
      if (!loop.validation) {
        report.bestEpoch = e + 1;
        if (loop.onEpoch) await invoke(loop.onEpoch, er);
        continue;
      }
      er.validation = await loop.validation.evaluate();
      if (loop.onEpoch) await invoke(loop.onEpoch, er);
      const value = er.validation[loop.validation.metric];
      if (report.bestMetric === null || value > report.bestMetric) {
        report.bestMetric = value;
        report.bestEpoch = e + 1;
        sinceBest = 0;
        if (loop.validation.restoreBest) restoreBest = snapshot(model);
      } else if (++sinceBest > loop.validation.patience) {
        report.stoppedEarly = true;
        break;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  report.weightsFromEpoch = report.epochs.length;
  if (restoreBest && report.bestEpoch !== report.epochs.length) {
    restoreBest();
    report.weightsFromEpoch = report.bestEpoch;
  }
  return report;
}

/**
 * Phase schedules: training as a list of phases (source → target, target → both, gradual
 * unfreezing…), each with its own data, epochs, loss weight and the parameters that train in it.
 * Freezing is data on the parameters (see Parameter), so a phase only sets flags, trains, and puts
 * the flags back: phases never leak their freezing into the next one. A schedule trains matrix
 * factorization (FitOptions: bpr, bce, warp…) or a TwoTower (TwoTowerFitOptions: in-batch softmax);
 * the options of its phases are those of the model they train.
 */
import { resolveIndexList, type IndexList } from '../core/item-set';
import { MatrixFactorization } from '../models/matrix-factorization';
import { matchesPattern, type Parameter } from '../models/parameter';
import type { TwoTower } from '../models/two-tower';
import { Interactions } from '../data/interactions';
import { Trainer, type FitOptions, type FitReport } from '../train/trainer';
import type { TwoTowerFitOptions } from '../train/two-tower-trainer';
import { expectOptions, rangeError, typeError } from '../core/validate';

/** What a schedule trains. */
export type ScheduleModel = MatrixFactorization | TwoTower;

export interface Phase {
  /** A label for reports. Default `phase <n>`. */
  name?: string;
  /** The model this phase trains. Default: the schedule's model (two models may share a table). */
  model?: ScheduleModel;
  data: Interactions;
  /** Epochs (the phase may stop earlier with options.validation). Default: the schedule's epochs. */
  epochs?: number;
  /**
   * Weight of this phase's loss, applied as a step-size scale: for SGD exactly a loss weight; for
   * Adagrad and Adam (which normalise gradient scale away) it is the only form a weight can take.
   * Default 1.
   */
  lossWeight?: number;
  /**
   * Patterns of the parameters that train; every other parameter is frozen. Default ['*']. This
   * overrides each parameter's own `trainable` flag for the phase; rows frozen with freezeRows stay
   * frozen.
   */
  train?: string[];
  /**
   * Learning-rate multipliers by pattern, e.g. { 'user.*': 0.1 } (gradual unfreezing). They replace
   * the parameter's own multiplier for the phase (which applies otherwise); lossWeight scales both.
   */
  lrMultipliers?: Record<string, number>;
  /** Rows kept frozen in this phase, by parameter name (e.g. pre-trained rows while new ones learn). */
  freezeRows?: Record<string, IndexList>;
  /** Fit options for this phase, over the schedule's (TwoTowerFitOptions when it trains a TwoTower). */
  fit?: FitOptions | TwoTowerFitOptions;
}

export interface PhaseReport {
  name: string;
  /** Names of the parameters that trained. */
  trainable: string[];
  report: FitReport;
}

/** Fit options every phase starts from (FitOptions for matrix factorization, TwoTowerFitOptions for a TwoTower). */
export type ScheduleOptions = (FitOptions | TwoTowerFitOptions) & {
  /** Called before each phase starts. */
  onPhase?: (name: string, index: number) => void;
};

export async function runSchedule(model: ScheduleModel, phases: readonly Phase[], options?: ScheduleOptions): Promise<PhaseReport[]> {
  if (!isScheduleModel(model)) throw typeError('model', 'MatrixFactorization or TwoTower', model);
  if (!Array.isArray(phases) || phases.length === 0) throw typeError('phases', 'a non-empty array of phases', phases);
  const { onPhase, ...defaults } = expectOptions('options', options);
  // Check every phase before training any, so a typo in phase 3 does not waste phases 1 and 2.
  const plans = phases.map((raw, k) => planPhase(raw, k, model));
  const reports: PhaseReport[] = [];
  for (const [k, plan] of plans.entries()) {
    onPhase?.(plan.name, k);
    const restore = applyPlan(plan);
    try {
      const fit = { ...defaults, ...plan.fit, epochs: plan.epochs ?? plan.fit.epochs ?? defaults.epochs };
      const report =
        plan.model instanceof MatrixFactorization
          ? await Trainer.fitPartial(plan.model, plan.data, fit as FitOptions)
          : await Trainer.fitPartial(plan.model, plan.data, fit as TwoTowerFitOptions);
      reports.push({ name: plan.name, trainable: plan.trainable.map((p) => p.name), report });
    } finally {
      restore();
    }
  }
  return reports;
}

function isScheduleModel(model: unknown): model is ScheduleModel {
  return model instanceof MatrixFactorization || (model as { kind?: string } | null)?.kind === 'two-tower';
}

interface Plan {
  name: string;
  model: ScheduleModel;
  data: Interactions;
  epochs: number | undefined;
  fit: FitOptions | TwoTowerFitOptions;
  trainable: Parameter[];
  multipliers: Map<Parameter, number>;
  rows: Array<{ p: Parameter; rows: IndexList }>;
}

function planPhase(raw: Phase, k: number, fallback: ScheduleModel): Plan {
  const at = `phases[${k}]`;
  const phase = expectOptions(at, raw);
  const model = phase.model ?? fallback;
  if (!isScheduleModel(model)) throw typeError(`${at}.model`, 'MatrixFactorization or TwoTower', model);
  if (!(phase.data instanceof Interactions)) throw typeError(`${at}.data`, 'Interactions', phase.data);
  const params = model.parameters();
  const find = (argument: string, pattern: unknown): Parameter[] => {
    if (typeof pattern !== 'string') throw typeError(argument, 'parameter name pattern', pattern);
    const hit = params.filter((p) => matchesPattern(p.name, pattern));
    if (hit.length === 0) throw rangeError(argument, `a pattern matching one of ${params.map((p) => p.name).join(', ')}`, pattern);
    return hit;
  };
  const patterns = phase.train ?? ['*'];
  if (!Array.isArray(patterns)) throw typeError(`${at}.train`, 'array of parameter name patterns', patterns);
  const trainable = new Set<Parameter>();
  patterns.forEach((p, j) => find(`${at}.train[${j}]`, p).forEach((x) => trainable.add(x)));
  const weight = phase.lossWeight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)
    throw rangeError(`${at}.lossWeight`, 'finite number > 0', weight);
  const multipliers = new Map<Parameter, number>();
  for (const p of trainable) multipliers.set(p, p.lrMultiplier * weight);
  for (const [pattern, m] of Object.entries(expectOptions(`${at}.lrMultipliers`, phase.lrMultipliers))) {
    if (typeof m !== 'number' || !Number.isFinite(m) || m < 0)
      throw rangeError(`${at}.lrMultipliers[${JSON.stringify(pattern)}]`, 'finite number ≥ 0', m);
    for (const p of find(`${at}.lrMultipliers`, pattern)) if (trainable.has(p)) multipliers.set(p, m * weight);
  }
  const rows = Object.entries(expectOptions(`${at}.freezeRows`, phase.freezeRows)).map(([name, list]) => {
    const p = params.find((x) => x.name === name);
    if (!p) throw rangeError(`${at}.freezeRows`, `parameter names among ${params.map((x) => x.name).join(', ')}`, name);
    // Resolved now, so a bad row fails before any phase trains.
    return { p, rows: resolveIndexList(`${at}.freezeRows[${JSON.stringify(name)}]`, list, p.rows) as IndexList };
  });
  if (phase.epochs !== undefined && (!Number.isInteger(phase.epochs) || phase.epochs < 1))
    throw rangeError(`${at}.epochs`, 'integer ≥ 1', phase.epochs);
  return {
    name: phase.name ?? `phase ${k + 1}`,
    model,
    data: phase.data,
    epochs: phase.epochs,
    fit: expectOptions(`${at}.fit`, phase.fit),
    trainable: [...trainable],
    multipliers,
    rows,
  };
}

/** Sets the phase's flags; the returned function puts the previous ones back. */
function applyPlan(plan: Plan): () => void {
  const params = plan.model.parameters();
  const saved = params.map((p) => ({ p, trainable: p.trainable, lr: p.lrMultiplier, frozen: frozenRows(p) }));
  try {
    for (const p of params) {
      p.trainable = plan.multipliers.has(p);
      if (plan.multipliers.has(p)) p.lrMultiplier = plan.multipliers.get(p)!;
    }
    for (const { p, rows } of plan.rows) p.freezeRows(rows);
  } catch (err) {
    restore();
    throw err;
  }
  return restore;
  function restore(): void {
    for (const s of saved) {
      s.p.trainable = s.trainable;
      s.p.lrMultiplier = s.lr;
      s.p.unfreezeRows();
      if (s.frozen.length) s.p.freezeRows(s.frozen);
    }
  }
}

function frozenRows(p: Parameter): Int32Array {
  if (p.frozenRowCount === 0) return new Int32Array(0);
  const out: number[] = [];
  for (let r = 0; r < p.rows; r++) if (p.isRowFrozen(r)) out.push(r);
  return Int32Array.from(out);
}

/**
 * transfer(): the whole comparison in one call. For each seed: one cold-user split, one source model
 * and one target-only model shared by every strategy, then each strategy's target user vectors are
 * scored by full ranking (training and validation rows masked) on cold users, warm users and all.
 * The report gives mean ± std over seeds per slice, and each strategy's lift over the baselines as a
 * paired bootstrap over the test users (lib/eval/paired-bootstrap.ts); it calls a difference real
 * only when enough seeds were run and the interval excludes 0.
 */
import { invoke } from '../core/callback';
import { meanStd, type MeanStd } from '../eval/summarize';
import { RecbridgeError } from '../core/errors';
import {
  alignValues,
  bootstrapMeans,
  MIN_SEEDS_FOR_CLAIMS,
  pairedVerdict,
  resolveBootstrapOptions,
  summarizeDifference,
  type PairedDifference,
  type PairedVerdict,
  type ResolvedBootstrapOptions,
} from '../eval/paired-bootstrap';
import { evaluateRanking, type RankingMetrics, type RankingModel } from '../eval/ranking';
import { formatDifference } from '../report/format';
import { evaluateSampled, evaluateSampledScores, type SampledMetrics } from '../eval/sampled';
import { Interactions } from '../data/interactions';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { alignDomains, type AlignOptions, type AlignmentReport } from './align';
import { coldUserSplit, fixedSplit, rowsByUserFlag, type FixedSplit } from './cold-split';
import { DEFAULT_PROTOCOL, DEFAULT_SETTINGS, TransferContext, type TrainSettings, type TransferProtocol } from './context';
import { eligibleColdUsers, resolveFewShot, summariseCurve, type FewShotCurve } from './few-shot';
import { Domain } from './domain';
import { auto, BASELINES, STRATEGY_NAMES, strategyByName, type CustomEvaluation, type Strategy } from './strategies';

export const SLICES = ['cold', 'warm', 'all'] as const;
export type SliceName = (typeof SLICES)[number];
export const LIFT_METRICS = ['recall', 'ndcg', 'hit', 'mrr'] as const;
export type LiftMetric = (typeof LIFT_METRICS)[number];

export const SAMPLED_METRICS = ['hit', 'ndcg', 'mrr'] as const;
export type SampledMetric = (typeof SAMPLED_METRICS)[number];

/** The baselines every strategy is compared with, pair by pair. */
export const LIFT_BASELINES = ['popularity', 'target-only', 'neighbours'] as const;
export type LiftBaseline = (typeof LIFT_BASELINES)[number];

/** A strategy minus a baseline on the same users (PairedDifference), and what the report makes of it. */
export interface PairedLift extends PairedDifference {
  verdict: PairedVerdict;
}

export interface SliceSummary {
  /** Users evaluated in this slice (per seed; the mean over seeds). */
  users: number;
  metrics: Record<LiftMetric, MeanStd>;
}

export interface StrategyResult {
  strategy: string;
  summary: string;
  slices: Record<SliceName, SliceSummary>;
  /** Per seed, per slice metrics (the raw runs behind the summary). */
  runs: Array<Record<SliceName, RankingMetrics>>;
  /** With options.sampled: HR, NDCG and MRR of each test item ranked against N sampled negatives. */
  sampled?: Record<SliceName, Record<SampledMetric, MeanStd>>;
  sampledRuns?: Array<Record<SliceName, SampledMetrics | null>>;
  /**
   * This strategy minus each baseline (not itself), per slice and metric, paired over the same test
   * users. A slice is null when some seed had no test user in it, or the strategy's evaluation did
   * not report per-user metrics.
   */
  lift: Partial<Record<LiftBaseline, Record<SliceName, Record<LiftMetric, PairedLift> | null>>>;
  /**
   * Mean wall time of the strategy per seed (excluding the shared source and target-only models, and
   * the strategies it reuses that the report ran before it).
   */
  seconds: number;
  /** Per seed, what the strategy chose on validation (fusion's blends, auto's pick), when it says. */
  choices?: string[];
}

export interface LiftReport {
  source: string;
  target: string;
  alignment: AlignmentReport;
  seeds: number[];
  k: number;
  settings: TrainSettings;
  /** How test ranking masks rows and where the target-only model's early stopping validates. */
  protocol: TransferProtocol;
  coldFraction: number;
  coldShots: number;
  /**
   * True when no cold test user had target training rows (zero-shot): target-only then serves every
   * cold user by popularity, so its cold-user numbers are popularity's, not a second baseline.
   */
  coldTargetOnlyIsPopularity: boolean;
  /** Strategies of the default list left out because they cannot run on these domains, and why. */
  skipped: Array<{ strategy: string; reason: string }>;
  /** With options.fewShot: cold users' NDCG@k and HR@k per strategy at each number of revealed target rows. */
  fewShot: FewShotCurve | null;
  /** Negatives per test item of the sampled protocol, or null when it was off. */
  sampledNegatives: number | null;
  /** How the paired lifts were computed, and the seeds claims need. */
  bootstrap: ResolvedBootstrapOptions & { minSeeds: number };
  results: StrategyResult[];
  /**
   * The strategy with the best mean cold-user NDCG@k, and whether it is better than the baselines:
   * only with at least MIN_SEEDS_FOR_CLAIMS seeds and a paired interval above 0.
   */
  best: {
    strategy: string;
    /** Mean cold-user NDCG@k gaps (the `mean` of the paired differences in `vs`). */
    overPopularity: number;
    overTargetOnly: number;
    /** The gap to the neighbourhood baseline (negative: the learned strategy loses to it). */
    overNeighbours: number | null;
    /** Cold-user NDCG@k minus each baseline, paired (null without per-user metrics). */
    vs: Record<LiftBaseline, PairedLift | null>;
    /** Better than popularity and target-only (both verdicts `better`). */
    significant: boolean;
    /** Better than the neighbourhood baseline too (null without it). */
    beatsNeighbours: boolean | null;
    /** The conclusion in one or two sentences, for tables and reports. */
    claim: string;
  } | null;
  seconds: number;
}

export interface TransferOptions {
  /**
   * Strategy names (see STRATEGY_NAMES) or Strategy objects. Default: every strategy the domains
   * allow (towers-shared-items needs item content or aligned items).
   */
  strategies?: Array<string | Strategy>;
  /** Seeds, or how many (0, 1, …). Default 3. */
  seeds?: number | number[];
  /** Share of aligned users made cold in the target. Default 0.2. */
  coldFraction?: number;
  /** Target rows of each cold user revealed to training (few-shot). Default 0. */
  coldShots?: number;
  /**
   * Warm users' per-user split (train, validation, test). Default [0.8, 0.1, 0.1]. The validation
   * share may be 0 (e.g. [0.9, 0, 0.1]) when protocol.earlyStopping is not 'warm-validation'.
   */
  ratios?: number[];
  /**
   * How the comparison is evaluated (stated in the report):
   * - `maskValidation` (default true): test ranking masks each user's training and validation rows;
   *   false masks training rows only (as some published protocols do).
   * - `earlyStopping` (default 'warm-validation'): where the target-only model's early stopping gets
   *   validation rows: warm users' held-out rows, 'cold-validation' users' rows (they need revealed
   *   rows: coldShots ≥ 1, and no 0 in fewShot), or 'none' (a fixed settings.epochs).
   */
  protocol?: { maskValidation?: boolean; earlyStopping?: TransferProtocol['earlyStopping'] };
  /**
   * Few-shot curve: the comparison rerun with each number of cold users' target rows revealed to
   * training (e.g. [0, 1, 3, 5]), reporting cold users' NDCG@k and HR@k per strategy. Each count
   * other than coldShots costs one more run of every strategy. The points are over the same cold
   * test users (those with more target rows than the largest count). Default: off. Not with `split`.
   */
  fewShot?: number[];
  align?: AlignOptions;
  /** Model and training settings shared by every strategy. */
  settings?: Partial<TrainSettings>;
  /**
   * Also the sampled protocol of many cross-domain papers: each test item against `negatives` items
   * the user has not interacted with (seeded), HR@k, NDCG@k and MRR. Default: off.
   */
  sampled?: { negatives?: number; seed?: number };
  /**
   * The paired bootstrap of each strategy against each baseline: `resamples` (default 2000) and its
   * `seed` (default 0). The interval is 95%.
   */
  bootstrap?: { resamples?: number; seed?: number };
  /**
   * A given split instead of the seeded cold-user split (coldFraction and coldShots then do not
   * apply): the target's train/validation/test rows, or the cold users. See fixedSplit.
   */
  split?: FixedSplit;
  /**
   * Also the row `auto`: per seed, the strategy or blend (a fusion of the neighbourhood model with
   * the two best other strategies) with the best metric on the cold validation users, from the
   * models the report trained. Its model carries the pick (AutoSelection). Default false.
   */
  auto?: boolean;
  /** Called with each strategy's model of each seed (to keep one, e.g. to save it). */
  onModel?: (event: { seed: number; strategy: string; model: RankingModel | CustomEvaluation }) => unknown;
  /** Called as work starts: per seed, per strategy (and per few-shot count other than coldShots: `shots`). */
  onProgress?: (event: { seed: number; strategy: string; shots?: number; index: number; total: number }) => unknown;
  signal?: AbortSignal;
}

export async function transfer(source: Domain, target: Domain, options?: TransferOptions): Promise<LiftReport> {
  const started = performance.now();
  if (!(source instanceof Domain)) throw typeError('source', 'Domain', source);
  if (!(target instanceof Domain)) throw typeError('target', 'Domain', target);
  const o = expectOptions('options', options);
  const requested = resolveStrategies(o.strategies);
  const seeds = resolveSeeds(o.seeds);
  const settings = resolveSettings(o.settings);
  const boot = resolveBootstrap(o.bootstrap);
  const protocol = resolveProtocol(o);
  const shots = resolveFewShot(o.fewShot, o.split !== undefined);
  if (protocol.earlyStopping === 'cold-validation') {
    const zeroShot = o.split !== undefined || (o.coldShots ?? 0) === 0 || (shots?.includes(0) ?? false);
    if (zeroShot)
      throw rangeError(
        'options.protocol.earlyStopping',
        `'warm-validation' or 'none' here: 'cold-validation' needs cold users with revealed target rows (coldShots ≥ 1, no 0 in fewShot, no given split), since at 0 shots the target-only model has no vector of theirs to validate`,
        protocol.earlyStopping,
      );
  }
  const alignment = alignDomains(source, target, o.align);
  if (alignment.users.source.length === 0)
    throw new RecbridgeError('ERR_NO_OVERLAP', 'The cold-user comparison needs users present in both domains; the domains share none');
  // Named strategies must run; the default list leaves out the ones these domains cannot feed.
  const skipped: LiftReport['skipped'] = [];
  const strategies = requested.filter((s) => {
    try {
      s.check?.(alignment);
      return true;
    } catch (err) {
      if (o.strategies !== undefined) throw err;
      skipped.push({ strategy: s.name, reason: (err as Error).message });
      return false;
    }
  });
  // Baselines come first once, even when asked for by name.
  const all = [...BASELINES, ...strategies.filter((s) => !BASELINES.some((b) => b.name === s.name))];
  if (o.auto !== undefined && typeof o.auto !== 'boolean') throw typeError('options.auto', 'boolean', o.auto);
  if (o.auto) all.push(auto(all.slice()));
  const choices = all.map(() => [] as string[]);
  const runs = all.map(() => [] as Array<Record<SliceName, RankingMetrics>>);
  // Per strategy, per seed, per slice: each test user's metrics at k (null: not available).
  const perUser = all.map(() => [] as Array<Record<SliceName, UserMetricsAtK | null>>);
  const sampledRuns = all.map(() => [] as Array<Record<SliceName, SampledMetrics | null>>);
  const sampled =
    o.sampled === undefined ? null : { negatives: expectOptions('options.sampled', o.sampled).negatives ?? 999, seed: o.sampled.seed ?? 0 };
  const seconds = all.map(() => 0);
  const coldShots = o.coldShots ?? 0;
  // Few-shot points: per shot count, per strategy, per seed, cold NDCG@k and HR@k on the same users.
  const curve = shots?.map(() => all.map(() => [] as Array<{ ndcg: number; hit: number; users: number }>));
  const passes = 1 + (shots?.filter((n) => n !== coldShots).length ?? 0);
  let zeroShot = true;
  let step = 0;
  for (const seed of seeds) {
    const split = o.split
      ? fixedSplit(alignment, o.split, { ratios: o.ratios, seed })
      : coldUserSplit(alignment, { coldFraction: o.coldFraction, coldShots: o.coldShots, ratios: o.ratios, seed });
    const ctx = new TransferContext(alignment, split, settings, seed, o.signal, protocol);
    if (split.coldTestUsers.some((u) => ctx.hasTrainRows[u])) zeroShot = false;
    const exclude = protocol.maskValidation ? Interactions.concat([split.train, split.validation]) : split.train;
    const curveUsers = shots ? eligibleColdUsers(alignment.target.interactions, split.coldTestUsers, Math.max(...shots)) : null;
    const slices: Record<SliceName, Interactions> = {
      cold: rowsByUserFlag(split.test, split.isCold, true),
      warm: rowsByUserFlag(split.test, split.isCold, false),
      all: split.test,
    };
    // The shared models are trained before timing the strategies that reuse them.
    await ctx.sourceModel();
    await ctx.targetModel();
    for (const [s, strategy] of all.entries()) {
      if (o.signal?.aborted) throw new RecbridgeError('ABORT_ERR', 'transfer() was aborted');
      await invoke(o.onProgress, { seed, strategy: strategy.name, index: step++, total: seeds.length * all.length * passes });
      const t0 = performance.now();
      const model = await ctx.run(strategy);
      const choice = (model as { choice?: unknown }).choice;
      if (typeof choice === 'string') choices[s].push(choice);
      await invoke(o.onModel, { seed, strategy: strategy.name, model });
      seconds[s] += (performance.now() - t0) / 1000 / seeds.length;
      const result = {} as Record<SliceName, RankingMetrics>;
      const users = {} as Record<SliceName, UserMetricsAtK | null>;
      for (const name of SLICES) {
        result[name] = await evaluateModel(model, slices[name], exclude, settings, true);
        users[name] = atK(result[name], settings.k);
        // The typed arrays stay out of the report: they would bloat (and mangle) its JSON.
        delete result[name].perUser;
      }
      runs[s].push(result);
      perUser[s].push(users);
      if (sampled) {
        const one = {} as Record<SliceName, SampledMetrics | null>;
        for (const name of SLICES) {
          const opts = { negatives: sampled.negatives, seed: sampled.seed + seed, k: settings.k, exclude };
          one[name] = !slices[name].size
            ? null
            : 'evaluate' in model
              ? await evaluateSampledScores(model.scorer(), slices[name], opts)
              : await evaluateSampled(model, slices[name], opts);
        }
        sampledRuns[s].push(one);
      }
      const main = shots?.indexOf(coldShots) ?? -1;
      if (curve && main >= 0) curve[main]![s]!.push(await curvePoint(model, split.test, curveUsers!, exclude, settings));
    }
    // The other points of the few-shot curve: the same cold users with more (or fewer) rows revealed.
    for (const [p, n] of (shots ?? []).entries()) {
      if (n === coldShots) continue;
      const nSplit = coldUserSplit(alignment, { coldFraction: o.coldFraction, coldShots: n, ratios: o.ratios, seed });
      const nCtx = new TransferContext(alignment, nSplit, settings, seed, o.signal, protocol);
      nCtx.shareSourceModel(ctx);
      const nExclude = protocol.maskValidation ? Interactions.concat([nSplit.train, nSplit.validation]) : nSplit.train;
      for (const [s, strategy] of all.entries()) {
        if (o.signal?.aborted) throw new RecbridgeError('ABORT_ERR', 'transfer() was aborted');
        await invoke(o.onProgress, { seed, strategy: strategy.name, shots: n, index: step++, total: seeds.length * all.length * passes });
        const model = await nCtx.run(strategy);
        curve![p]![s]!.push(await curvePoint(model, nSplit.test, curveUsers!, nExclude, settings));
      }
    }
  }
  const lifts = pairedLifts(
    all.map((x) => x.name),
    perUser,
    seeds.length,
    boot,
  );
  const results: StrategyResult[] = all.map((strategy, s) => ({
    strategy: strategy.name,
    summary: strategy.summary,
    slices: Object.fromEntries(SLICES.map((name) => [name, summarise(runs[s].map((r) => r[name]))])) as Record<SliceName, SliceSummary>,
    runs: runs[s],
    ...(sampled
      ? {
          sampled: Object.fromEntries(
            SLICES.map((name) => [
              name,
              Object.fromEntries(SAMPLED_METRICS.map((m) => [m, meanStd(sampledRuns[s].map((r) => r[name]?.[m] ?? NaN))])),
            ]),
          ) as Record<SliceName, Record<SampledMetric, MeanStd>>,
          sampledRuns: sampledRuns[s],
        }
      : {}),
    lift: lifts[s],
    seconds: seconds[s],
    ...(choices[s].length ? { choices: choices[s] } : {}),
  }));
  return {
    source: source.name,
    target: target.name,
    alignment: alignment.report,
    seeds,
    k: settings.k,
    settings,
    protocol,
    coldFraction: o.coldFraction ?? 0.2,
    coldShots,
    coldTargetOnlyIsPopularity: zeroShot,
    skipped,
    fewShot:
      shots && curve
        ? summariseCurve(
            shots,
            all.map((x) => x.name),
            curve,
          )
        : null,
    sampledNegatives: sampled?.negatives ?? null,
    bootstrap: { ...boot, minSeeds: MIN_SEEDS_FOR_CLAIMS },
    results,
    best: bestOverBaselines(results, seeds.length, settings.k),
    seconds: (performance.now() - started) / 1000,
  };
}

/** A model's full-ranking metrics on test rows, masking `exclude` (empty test rows: NaN metrics). */
async function evaluateModel(
  model: RankingModel | CustomEvaluation,
  test: Interactions,
  exclude: Interactions,
  settings: TrainSettings,
  perUser: boolean,
): Promise<RankingMetrics> {
  if (!test.size) return emptyMetrics();
  if ('evaluate' in model) return model.evaluate(test, exclude, settings.k, { perUser });
  return evaluateRanking(model, test, { k: settings.k, exclude, threads: settings.threads, perUser });
}

/** Cold NDCG@k and HR@k over the curve's users (flagged) in `test`. */
async function curvePoint(
  model: RankingModel | CustomEvaluation,
  test: Interactions,
  users: Uint8Array,
  exclude: Interactions,
  settings: TrainSettings,
): Promise<{ ndcg: number; hit: number; users: number }> {
  const m = await evaluateModel(model, rowsByUserFlag(test, users, true), exclude, settings, false);
  return { ndcg: m.ndcg, hit: m.hit, users: m.users };
}

function resolveProtocol(o: Partial<TransferOptions>): TransferProtocol {
  const p = expectOptions('options.protocol', o.protocol);
  const maskValidation = p.maskValidation ?? DEFAULT_PROTOCOL.maskValidation;
  if (typeof maskValidation !== 'boolean') throw typeError('options.protocol.maskValidation', 'boolean', maskValidation);
  const earlyStopping = p.earlyStopping ?? DEFAULT_PROTOCOL.earlyStopping;
  if (!['warm-validation', 'cold-validation', 'none'].includes(earlyStopping))
    throw rangeError('options.protocol.earlyStopping', "'warm-validation', 'cold-validation' or 'none'", earlyStopping);
  if (Array.isArray(o.ratios) && o.ratios[1] === 0 && earlyStopping === 'warm-validation')
    throw rangeError(
      'options.ratios',
      "a validation share above 0 with protocol.earlyStopping 'warm-validation' (or choose 'cold-validation' or 'none')",
      o.ratios,
    );
  return { maskValidation, earlyStopping };
}

function emptyMetrics(): RankingMetrics {
  return { users: 0, recall: NaN, precision: NaN, ndcg: NaN, hit: NaN, mrr: NaN } as RankingMetrics;
}

function summarise(runs: RankingMetrics[]): SliceSummary {
  const metrics = Object.fromEntries(LIFT_METRICS.map((m) => [m, meanStd(runs.map((r) => r[m]))])) as Record<LiftMetric, MeanStd>;
  return { users: runs.reduce((s, r) => s + r.users, 0) / runs.length, metrics };
}

/** One slice's per-user metrics of one run at the report's k. */
interface UserMetricsAtK {
  users: Int32Array;
  values: Record<LiftMetric, Float32Array>;
}

function atK(m: RankingMetrics, k: number): UserMetricsAtK | null {
  const at = m.perUser?.byK[k];
  if (!m.perUser || !at) return null;
  return { users: m.perUser.users, values: Object.fromEntries(LIFT_METRICS.map((x) => [x, at[x]])) as Record<LiftMetric, Float32Array> };
}

/**
 * Every strategy minus every baseline, per slice and metric, from one bootstrap per slice over every
 * model's per-user metrics (one draw of users per replicate serves every model; see bootstrapMeans).
 */
function pairedLifts(
  names: string[],
  perUser: Array<Array<Record<SliceName, UserMetricsAtK | null>>>,
  seeds: number,
  boot: ResolvedBootstrapOptions,
): StrategyResult['lift'][] {
  const out: StrategyResult['lift'][] = names.map(() => ({}));
  const baselines = LIFT_BASELINES.filter((b) => names.includes(b));
  for (const b of baselines) for (const [s, name] of names.entries()) if (name !== b) out[s][b] = { cold: null, warm: null, all: null };
  for (const slice of SLICES) {
    const have = names.map((_, s) => s).filter((s) => perUser[s].every((r) => r[slice]));
    const first = have[0];
    if (first === undefined || !baselines.some((b) => have.includes(names.indexOf(b)))) continue;
    const strata = Array.from({ length: seeds }, (_, seed) => {
      const ref = perUser[first][seed][slice]!;
      return have.flatMap((s) => {
        const mine = perUser[s][seed][slice]!;
        return LIFT_METRICS.map((m) =>
          alignValues(
            `${names[first]} (${slice}, seed ${seed})`,
            { users: ref.users, values: ref.values[m] },
            `${names[s]} (${slice}, seed ${seed})`,
            { users: mine.users, values: mine.values[m] },
          ),
        );
      });
    });
    const means = bootstrapMeans(strata, boot);
    const series = (s: number, m: number) => have.indexOf(s) * LIFT_METRICS.length + m;
    for (const b of baselines) {
      const bi = names.indexOf(b);
      if (!have.includes(bi)) continue;
      for (const s of have) {
        if (s === bi) continue;
        out[s][b]![slice] = Object.fromEntries(
          LIFT_METRICS.map((m, j) => {
            const d = summarizeDifference(means, series(s, j), series(bi, j), boot);
            return [m, { ...d, verdict: pairedVerdict(d) }];
          }),
        ) as Record<LiftMetric, PairedLift>;
      }
    }
  }
  return out;
}

function bestOverBaselines(results: StrategyResult[], seeds: number, k: number): LiftReport['best'] {
  const byName = new Map(results.map((r) => [r.strategy, r]));
  const mean = (name: string) => byName.get(name)?.slices.cold.metrics.ndcg.mean ?? null;
  const candidates = results.filter((r) => !(LIFT_BASELINES as readonly string[]).includes(r.strategy));
  if (!candidates.length) return null;
  const best = candidates.reduce((a, b) => (b.slices.cold.metrics.ndcg.mean > a.slices.cold.metrics.ndcg.mean ? b : a));
  const m = best.slices.cold.metrics.ndcg.mean;
  const vs = Object.fromEntries(LIFT_BASELINES.map((b) => [b, best.lift[b]?.cold?.ndcg ?? null])) as Record<
    LiftBaseline,
    PairedLift | null
  >;
  const knn = mean('neighbours');
  return {
    strategy: best.strategy,
    overPopularity: m - mean('popularity')!,
    overTargetOnly: m - mean('target-only')!,
    overNeighbours: knn === null ? null : m - knn,
    vs,
    significant: vs.popularity?.verdict === 'better' && vs['target-only']?.verdict === 'better',
    beatsNeighbours: byName.has('neighbours') ? vs.neighbours?.verdict === 'better' : null,
    claim: claimOf(best.strategy, vs, seeds, k),
  };
}

function claimOf(strategy: string, vs: Record<LiftBaseline, PairedLift | null>, seeds: number, k: number): string {
  const metric = `cold-user NDCG@${k}`;
  if (seeds < MIN_SEEDS_FOR_CLAIMS) {
    return (
      `No claim: ${seeds} seed${seeds === 1 ? ' was' : 's were'} run, and the report calls a strategy better than a baseline only with at least ` +
      `${MIN_SEEDS_FOR_CLAIMS} seeds and a paired 95% interval that excludes 0. ${strategy} has the best mean ${metric}; ` +
      `run at least ${MIN_SEEDS_FOR_CLAIMS} seeds to test it.`
    );
  }
  const phrase = (b: LiftBaseline) => {
    const d = vs[b];
    if (!d) return `not compared with ${b} (no per-user metrics)`;
    const what = d.verdict === 'better' ? 'better than' : d.verdict === 'worse' ? 'worse than' : 'not shown different from';
    return `${what} ${b} (${formatDifference(d)})`;
  };
  const present = LIFT_BASELINES.filter((b) => b !== 'neighbours' || vs.neighbours);
  return `${strategy} (best mean ${metric}) is ${present.map(phrase).join('; ')}: paired 95% intervals over test users, ${seeds} seeds.`;
}

function resolveStrategies(value: TransferOptions['strategies']): Strategy[] {
  if (value === undefined) return STRATEGY_NAMES.filter((n) => !BASELINES.some((b) => b.name === n)).map((n) => strategyByName(n)!);
  if (!Array.isArray(value) || value.length === 0)
    throw typeError('options.strategies', 'a non-empty array of strategy names or Strategy objects', value);
  return value.map((s, k) => {
    if (typeof s === 'string') {
      const found = strategyByName(s);
      if (!found) throw rangeError(`options.strategies[${k}]`, `one of ${STRATEGY_NAMES.join(', ')}`, s);
      return found;
    }
    if (!s || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.run !== 'function')
      throw typeError(`options.strategies[${k}]`, 'strategy name or { name, summary, run }', s);
    return s;
  });
}

function resolveBootstrap(value: TransferOptions['bootstrap']): ResolvedBootstrapOptions {
  const o = expectOptions('options.bootstrap', value) as Record<string, unknown>;
  // The report's text and claims are about 95% intervals; another level would contradict them.
  if (o.confidence !== undefined)
    throw rangeError('options.bootstrap.confidence', 'no value (the lift report uses 95% intervals)', o.confidence);
  return resolveBootstrapOptions('options.bootstrap', o);
}

function resolveSeeds(value: TransferOptions['seeds']): number[] {
  if (value === undefined) return [0, 1, 2];
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 100)
      throw rangeError('options.seeds', 'integer in [1, 100] or an array of seeds', value);
    return Array.from({ length: value }, (_, i) => i);
  }
  if (!Array.isArray(value) || value.length === 0 || value.some((s) => !Number.isInteger(s) || s < 0 || s > 1_000_000)) {
    throw rangeError('options.seeds', 'a non-empty array of integer seeds in [0, 1000000]', value);
  }
  return value.slice();
}

function resolveSettings(value: Partial<TrainSettings> | undefined): TrainSettings {
  const s = { ...DEFAULT_SETTINGS, ...expectOptions('options.settings', value) };
  if (!Number.isInteger(s.dim) || s.dim < 1 || s.dim > 4096) throw rangeError('options.settings.dim', 'integer in [1, 4096]', s.dim);
  if (!Number.isInteger(s.epochs) || s.epochs < 1) throw rangeError('options.settings.epochs', 'integer ≥ 1', s.epochs);
  if (!Number.isInteger(s.patience) || s.patience < 0) throw rangeError('options.settings.patience', 'integer ≥ 0', s.patience);
  if (!Number.isInteger(s.k) || s.k < 1) throw rangeError('options.settings.k', 'integer ≥ 1', s.k);
  if (!['recall', 'ndcg', 'hit', 'mrr', 'precision'].includes(s.metric))
    throw rangeError('options.settings.metric', '"recall", "ndcg", "hit", "mrr" or "precision"', s.metric);
  if (!['bpr', 'bce', 'warp'].includes(s.loss))
    throw rangeError('options.settings.loss', '"bpr", "bce" or "warp" (implicit feedback)', s.loss);
  if (!Number.isInteger(s.negatives) || s.negatives < 1 || s.negatives > 8)
    throw rangeError('options.settings.negatives', 'integer in [1, 8]', s.negatives);
  expectOptions('options.settings.optimizer', s.optimizer);
  if (s.threads !== undefined && (!Number.isInteger(s.threads) || s.threads < 1))
    throw rangeError('options.settings.threads', 'integer ≥ 1', s.threads);
  return s;
}

/**
 * What `recbridge evaluate` shows: an aligned mean ± std table on the terminal, and the sections
 * of the HTML report (metric by K, paired differences, by activity slice, learning curves with
 * their best epochs, the sampled protocol).
 */
import { lengthError, rangeError } from '../core/validate';
import {
  alignValues,
  bootstrapMeans,
  MIN_SEEDS_FOR_CLAIMS,
  pairedVerdict,
  resolveBootstrapOptions,
  summarizeDifference,
  type PairedDifference,
  type PairedVerdict,
} from '../eval/paired-bootstrap';
import type { MeanStd } from '../eval/summarize';
import type { FitReport } from '../train/trainer';
import { barChart, learningCurves, lineChart, type Chart } from '../report/charts';
import { formatDifference } from '../report/format';
import { renderReport, type ReportSection } from '../report/html';
import { intervalChart } from '../report/interval-chart';
import type { EvaluateResult } from './evaluate-result';

const RANKING_METRICS = ['recall', 'ndcg', 'hit', 'mrr', 'precision', 'map', 'coverage', 'arp'] as const;
const SAMPLED_METRICS = ['hit', 'ndcg', 'mrr'] as const;

/** A node of a summary: nested objects ending in MeanStd leaves. */
type Tree = { [key: string]: Tree | MeanStd | undefined };

function leaf(tree: unknown, ...path: (string | number)[]): MeanStd | undefined {
  let at: unknown = tree;
  for (const p of path) at = at && typeof at === 'object' ? (at as Tree)[String(p)] : undefined;
  return at && typeof (at as MeanStd).mean === 'number' ? (at as MeanStd) : undefined;
}

function fmt(m: MeanStd | undefined, digits = 4): string {
  if (!m) return '—';
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

/** Pads the columns to a common width (rows have the header's length; a missing cell counts as empty). */
function align(rows: string[][]): string {
  const [header = []] = rows;
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')).join('\n');
}

/** The cut-off the slice and sampled views use: 10 when evaluated, else the first. */
export function primaryK(result: EvaluateResult): number {
  if (result.ks.includes(10)) return 10;
  const [first] = result.ks;
  if (first === undefined) throw lengthError('result.ks', 'at least one cut-off', result.ks);
  return first;
}

/** The negatives per test item of the sampled protocol (from the first run that used it), or undefined. */
function sampledNegatives(result: EvaluateResult): number | undefined {
  for (const { runs } of Object.values(result.models)) {
    for (const run of runs) if (run.sampled) return run.sampled.negatives;
  }
  return undefined;
}

export function printTable(result: EvaluateResult): string {
  const out: string[] = [
    `${result.dataset}: ${result.users} users, ${result.items} items; ${result.protocol}; ${result.seeds.length} seed(s), mean ± std`,
  ];
  const models = Object.entries(result.models);
  for (const K of result.ks) {
    const rows = [[`@${K}`, ...RANKING_METRICS]];
    for (const [m, { summary }] of models) {
      rows.push([m, ...RANKING_METRICS.map((metric) => fmt(leaf(summary, 'all', 'byK', K, metric), metric === 'arp' ? 1 : 4))]);
    }
    out.push('', align(rows));
  }
  const K = primaryK(result);
  const slices = Object.entries(result.slices);
  if (slices.length) {
    const rows = [[`ndcg@${K} by activity`, ...slices.map(([n, counts]) => `${n} (${Math.round(mean(counts))} users)`)]];
    for (const [m, { summary }] of models) rows.push([m, ...slices.map(([n]) => fmt(leaf(summary, 'slices', n, 'byK', K, 'ndcg')))]);
    out.push('', align(rows));
  }
  const paired = pairedComparisons(result);
  if (paired?.length) {
    out.push('', pairedNote(paired, result.seeds.length));
    const rows = [[`minus ${paired[0]!.baseline} @${paired[0]!.k}`, ...PAIRED_METRICS]];
    for (const p of paired) rows.push([p.model, ...PAIRED_METRICS.map((m) => pairedCell(p.metrics[m]))]);
    out.push(align(rows));
  }
  const negatives = sampledNegatives(result);
  if (negatives !== undefined) {
    const sampledModels = models.filter(([, { runs }]) => runs.some((r) => r.sampled));
    const rows = [[`sampled (${negatives} negatives)`, ...result.ks.flatMap((k) => SAMPLED_METRICS.map((x) => `${x}@${k}`))]];
    for (const [m, { summary }] of sampledModels)
      rows.push([m, ...result.ks.flatMap((k) => SAMPLED_METRICS.map((x) => fmt(leaf(summary, 'sampled', 'byK', k, x))))]);
    out.push('', align(rows));
  }
  return out.join('\n');
}

/** The metrics compared pair by pair. */
export const PAIRED_METRICS = ['ndcg', 'recall', 'mrr', 'hit'] as const;
export type PairedMetric = (typeof PAIRED_METRICS)[number];

/** One model minus the baseline model over the same test users, per metric at cut-off k. */
export interface EvaluatePairedRow {
  model: string;
  baseline: string;
  k: number;
  metrics: Record<PairedMetric, PairedDifference & { verdict: PairedVerdict }>;
}

export interface PairedComparisonOptions {
  /** The model subtracted. Default 'pop' when it was evaluated, else the first model. */
  baseline?: string;
  /** The cut-off. Default primaryK(result). */
  k?: number;
  /** Bootstrap resamples (default 2000) and seed (default 0). */
  resamples?: number;
  seed?: number;
}

/**
 * Every model minus the baseline, paired over each seed's test users (all users in scope) with the
 * paired bootstrap of lib/eval, from the per-user metrics the runs carry in `runs[i].all.perUser`
 * (evaluateSlices(..., { perUser: true }) puts them there). Returns null when any run lacks them or
 * only one model was evaluated. The models' runs must be the same seeds in the same order.
 */
export function pairedComparisons(result: EvaluateResult, options: PairedComparisonOptions = {}): EvaluatePairedRow[] | null {
  const defaults =
    options.baseline === undefined && options.k === undefined && options.resamples === undefined && options.seed === undefined;
  if (defaults && byDefault.has(result)) return byDefault.get(result)!;
  const rows = compare(result, options);
  if (defaults) byDefault.set(result, rows);
  return rows;
}

// The table and the HTML report both show the default comparison: bootstrap it once per result.
const byDefault = new WeakMap<EvaluateResult, EvaluatePairedRow[] | null>();

function compare(result: EvaluateResult, options: PairedComparisonOptions): EvaluatePairedRow[] | null {
  const names = Object.keys(result.models);
  const boot = resolveBootstrapOptions('options', { resamples: options.resamples, seed: options.seed });
  const baseline = options.baseline ?? (names.includes('pop') ? 'pop' : names[0]);
  if (baseline === undefined || !names.includes(baseline)) throw rangeError('options.baseline', `one of ${names.join(', ')}`, baseline);
  const k = options.k ?? primaryK(result);
  if (!result.ks.includes(k)) throw rangeError('options.k', `an evaluated cut-off (${result.ks.join(', ')})`, k);
  if (names.length < 2) return null;
  const runs = names.map((m) => result.models[m]?.runs ?? []);
  const seeds = runs[0]?.map((r) => r.seed) ?? [];
  runs.forEach((r, i) => {
    if (r.length !== seeds.length || r.some((x, j) => x.seed !== seeds[j]))
      throw rangeError(
        `result.models.${names[i]}.runs`,
        `runs of seeds ${seeds.join(', ')} like ${names[0]}`,
        r.map((x) => x.seed),
      );
  });
  // A result read back from JSON has lost its typed arrays (what is left of perUser is empty objects).
  const listed = (v: unknown) => Array.isArray(v) || ArrayBuffer.isView(v);
  const usable = (run: (typeof runs)[number][number]) => {
    const per = run.all.perUser;
    return !!per && listed(per.users) && PAIRED_METRICS.every((m) => listed(per.byK?.[k]?.[m]));
  };
  if (seeds.length === 0 || runs.some((r) => !r.every(usable))) return null;
  const strata = seeds.map((seed, j) => {
    const ref = runs[0]![j]!.all.perUser!;
    return runs.flatMap((r, i) => {
      const per = r[j]!.all.perUser!;
      return PAIRED_METRICS.map((m) =>
        alignValues(`${names[0]} seed ${seed}`, { users: ref.users, values: ref.byK[k]![m] }, `${names[i]} seed ${seed}`, {
          users: per.users,
          values: per.byK[k]![m],
        }),
      );
    });
  });
  const means = bootstrapMeans(strata, boot);
  const b = names.indexOf(baseline);
  const series = (model: number, metric: number) => model * PAIRED_METRICS.length + metric;
  return names.flatMap((model, i) =>
    i === b
      ? []
      : [
          {
            model,
            baseline,
            k,
            metrics: Object.fromEntries(
              PAIRED_METRICS.map((m, j) => {
                const d = summarizeDifference(means, series(i, j), series(b, j), boot);
                return [m, { ...d, verdict: pairedVerdict(d) }];
              }),
            ) as EvaluatePairedRow['metrics'],
          },
        ],
  );
}

/** "+0.0123 [+0.0050, +0.0190], p = 0.002", and "better" / "worse" where the seeds allow a claim. */
function pairedCell(d: PairedDifference & { verdict: PairedVerdict }): string {
  return `${formatDifference(d)}${d.verdict === 'better' || d.verdict === 'worse' ? ` ${d.verdict}` : ''}`;
}

function pairedNote(rows: EvaluatePairedRow[], seeds: number): string {
  const first = rows[0]!;
  return (
    `Each model minus ${first.baseline} at K = ${first.k} on the same test users: mean [95% interval], p, from a paired bootstrap over users ` +
    `(${first.metrics.ndcg.resamples} resamples, users resampled within each seed). A model is called better or worse only when the interval excludes 0 and at least ${MIN_SEEDS_FOR_CLAIMS} seeds were run` +
    (seeds < MIN_SEEDS_FOR_CLAIMS ? ` — this run has ${seeds}, so no such claim is made.` : '.')
  );
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);
}

export function evaluationReport(result: EvaluateResult, logs: { model: string; seed: number; report: FitReport }[]): string {
  const models = Object.entries(result.models);
  const K = primaryK(result);
  const sections: ReportSection[] = [];

  sections.push({
    heading: `Summary at K = ${K}`,
    text: [
      `${result.users} users, ${result.items} items. ${result.protocol}. Mean ± sample std over ${result.seeds.length} seed(s); each seed has its own split and initialisation.`,
      'MAP@K: AP@K = Σ precision@r·rel_r / min(|test|, K). Coverage: share of the catalogue in any top-K list. ARP: mean training count of the recommended items. Ties rank the lower item index first.',
    ],
    table: {
      columns: ['model', 'users', ...RANKING_METRICS.map((x) => `${x}@${K}`)],
      rows: models.map(([m, { summary }]) => [
        m,
        Math.round(leaf(summary, 'all', 'users')?.mean ?? 0),
        ...RANKING_METRICS.map((x) => fmt(leaf(summary, 'all', 'byK', K, x), x === 'arp' ? 1 : 4)),
      ]),
    },
  });

  const byK: Chart[] = (['recall', 'ndcg', 'mrr', 'hit', 'map', 'coverage'] as const).map((metric) =>
    lineChart({
      title: `${metric} by K`,
      x: result.ks,
      xLabel: 'K',
      yLabel: metric,
      series: models.map(([m, { summary }]) => ({
        name: m,
        values: result.ks.map((k) => leaf(summary, 'all', 'byK', k, metric)?.mean ?? null),
        errors: result.ks.map((k) => leaf(summary, 'all', 'byK', k, metric)?.std ?? null),
      })),
    }),
  );
  sections.push({ heading: 'Metrics by cut-off', charts: byK });

  const paired = pairedComparisons(result);
  if (paired?.length) {
    const first = paired[0]!;
    sections.push({
      heading: `Paired differences (minus ${first.baseline})`,
      text: pairedNote(paired, result.seeds.length),
      charts: [
        intervalChart({
          title: `Each model minus ${first.baseline} at K = ${first.k}`,
          categories: paired.map((p) => p.model),
          xLabel: 'difference (95% interval)',
          series: PAIRED_METRICS.map((m) => ({
            name: `${m}@${first.k}`,
            values: paired.map((p) => p.metrics[m].mean),
            low: paired.map((p) => p.metrics[m].low),
            high: paired.map((p) => p.metrics[m].high),
          })),
        }),
      ],
      table: {
        columns: ['model', ...PAIRED_METRICS.map((m) => `${m}@${first.k}`)],
        rows: paired.map((p) => [p.model, ...PAIRED_METRICS.map((m) => pairedCell(p.metrics[m]))]),
      },
    });
  }

  const slices = Object.entries(result.slices);
  const sliceNames = slices.map(([n]) => n);
  if (sliceNames.length) {
    const bars = (['ndcg', 'recall'] as const).map((metric) =>
      barChart({
        title: `${metric}@${K} by training activity`,
        categories: sliceNames,
        xLabel: 'training interactions per user',
        yLabel: `${metric}@${K}`,
        series: models.map(([m, { summary }]) => ({
          name: m,
          values: sliceNames.map((n) => leaf(summary, 'slices', n, 'byK', K, metric)?.mean ?? null),
          errors: sliceNames.map((n) => leaf(summary, 'slices', n, 'byK', K, metric)?.std ?? null),
        })),
      }),
    );
    sections.push({
      heading: 'Metrics by user activity',
      text: 'Users bucketed by their number of training interactions; error bars are ± one std over seeds.',
      table: {
        columns: ['slice', 'users (mean)', ...models.map(([m]) => `${m} ndcg@${K}`)],
        rows: slices.map(([n, counts]) => [
          n,
          Math.round(mean(counts)),
          ...models.map(([, { summary }]) => fmt(leaf(summary, 'slices', n, 'byK', K, 'ndcg'))),
        ]),
      },
      charts: bars,
    });
  }

  const negatives = sampledNegatives(result);
  if (negatives !== undefined) {
    const sampledModels = models.filter(([, { runs }]) => runs.some((r) => r.sampled));
    sections.push({
      heading: `Sampled protocol (${negatives} negatives per test item)`,
      text: 'Each test item is ranked against negatives drawn uniformly from items the user never interacted with; ties count against the test item.',
      table: {
        columns: ['model', ...result.ks.flatMap((k) => SAMPLED_METRICS.map((x) => `${x}@${k}`))],
        rows: sampledModels.map(([m, { summary }]) => [
          m,
          ...result.ks.flatMap((k) => SAMPLED_METRICS.map((x) => fmt(leaf(summary, 'sampled', 'byK', k, x)))),
        ]),
      },
    });
  }

  if (logs.length) {
    sections.push({
      heading: 'Learning curves',
      text: 'Training loss and validation MRR@10 per epoch; the dashed line and ring mark each run’s best epoch (early stopping restores its weights).',
      charts: learningCurves(
        logs.map((l) => ({ name: `${l.model} seed ${l.seed}`, epochs: l.report.epochs, bestEpoch: l.report.bestEpoch })),
        'mrr',
      ),
    });
  }

  return renderReport({ title: 'recbridge evaluation', subtitle: result.dataset, sections });
}

/**
 * What `recbridge evaluate` shows: an aligned mean ± std table on the terminal, and the sections
 * of the HTML report (metric by K, by activity slice, learning curves, the sampled protocol).
 */
import { lengthError } from '../core/validate';
import type { MeanStd } from '../eval/summarize';
import type { FitReport } from '../train/trainer';
import { barChart, learningCurves, lineChart, type Chart } from '../report/charts';
import { renderReport, type ReportSection } from '../report/html';
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
      text: 'Training loss and validation MRR@10 per epoch (early stopping restores the best epoch).',
      charts: learningCurves(
        logs.map((l) => ({ name: `${l.model} seed ${l.seed}`, epochs: l.report.epochs })),
        'mrr',
      ),
    });
  }

  return renderReport({ title: 'recbridge evaluation', subtitle: result.dataset, sections });
}

/**
 * The lift report as a self-contained HTML page (tables and SVG charts from lib/report). It leads
 * with what a reader came for: each strategy minus the target-only model and minus the
 * neighbourhood baseline, with paired 95% intervals, per slice, and what may be concluded.
 */
import { barChart, lineChart } from '../report/charts';
import { renderReport, type ReportSection } from '../report/html';
import { intervalChart } from '../report/interval-chart';
import { MIN_SEEDS_FOR_CLAIMS } from '../eval/paired-bootstrap';
import { LIFT_METRICS, SAMPLED_METRICS, SLICES, type LiftBaseline, type LiftReport } from './lift';
import { claimOf, numericIdsText, overlapText, pairedCell, protocolText, sameModelCell, TARGET_ONLY_IS_POPULARITY } from './lift-table';

/** Baselines the lift charts subtract, in the order they are shown. */
const CHARTED: readonly LiftBaseline[] = ['target-only', 'neighbours'];

function liftSections(report: LiftReport): ReportSection[] {
  const k = report.k;
  const seeds = report.seeds.length;
  const baselines = CHARTED.filter((b) => report.results.some((r) => r.lift?.[b]));
  const method =
    `Each point is a strategy's NDCG@${k} minus the baseline's on the same test users; the bar is its 95% interval from a paired bootstrap over users ` +
    `(${report.bootstrap?.resamples ?? '?'} resamples; users resampled within each seed, the per-seed mean differences averaged). ` +
    'An interval that crosses the dashed line at 0 does not show a difference. The report calls a strategy better or worse only when its interval excludes 0 ' +
    `and at least ${MIN_SEEDS_FOR_CLAIMS} seeds were run` +
    (seeds < MIN_SEEDS_FOR_CLAIMS ? ` — this run has ${seeds}, so it makes no such claim.` : '.') +
    ' The interval covers the sampling of test users given these seeds, not all training randomness.';
  const rowsFor = (b: LiftBaseline) => report.results.filter((r) => r.lift?.[b]);
  const charts = baselines.map((b) => {
    const rows = rowsFor(b);
    const pick = (slice: (typeof SLICES)[number], key: 'mean' | 'low' | 'high') => rows.map((r) => r.lift[b]?.[slice]?.ndcg[key] ?? null);
    return intervalChart({
      title: `NDCG@${k} minus ${b}`,
      categories: rows.map((r) => r.strategy),
      xLabel: `difference in NDCG@${k} (95% interval)`,
      series: SLICES.map((slice) => ({
        name: `${slice} users`,
        values: pick(slice, 'mean'),
        low: pick(slice, 'low'),
        high: pick(slice, 'high'),
      })),
    });
  });
  return [
    {
      heading: 'Lift over the baselines',
      text: [claimOf(report), method],
      charts,
    },
    {
      heading: 'Paired differences',
      text: `NDCG@${k} of each strategy minus the baseline: mean [95% interval], two-sided bootstrap p-value; "better" or "worse" where the report may say so. The JSON holds the same for recall, hit and MRR, with each seed's difference.`,
      tables: baselines.map((b) => ({
        caption: `minus ${b}`,
        columns: ['strategy', ...SLICES.map((s) => `${s} users`)],
        rows: rowsFor(b).map((r) => [
          r.strategy,
          ...SLICES.map((s) => sameModelCell(report, r.strategy, b, s) ?? pairedCell(r.lift[b]?.[s]?.ndcg)),
        ]),
      })),
    },
  ];
}

function sampledSection(report: LiftReport): ReportSection[] {
  if (!report.results.some((r) => r.sampled)) return [];
  const k = report.k;
  const label = (m: (typeof SAMPLED_METRICS)[number]) => (m === 'mrr' ? 'MRR' : `${m === 'hit' ? 'HR' : 'NDCG'}@${k}`);
  return [
    {
      heading: `Sampled protocol (${report.sampledNegatives} negatives per test item)`,
      text:
        `Each test item ranked against ${report.sampledNegatives} items the user never interacted with (seeded), as many cross-domain papers report; ` +
        'mean ± std over seeds. Sampled metrics can order models differently from full ranking: the tables above are the reference.',
      table: {
        columns: ['strategy', ...SLICES.flatMap((s) => SAMPLED_METRICS.map((m) => `${s} ${label(m)}`))],
        rows: report.results.map((r) => [
          r.strategy,
          ...SLICES.flatMap((s) =>
            SAMPLED_METRICS.map((m) => {
              const x = r.sampled?.[s][m];
              if (report.coldTargetOnlyIsPopularity === true && s === 'cold' && r.strategy === 'target-only') return '= popularity';
              return x && !Number.isNaN(x.mean) ? `${x.mean.toFixed(4)} ± ${x.std.toFixed(4)}` : '—';
            }),
          ),
        ]),
      },
      charts: [
        barChart({
          title: `Sampled NDCG@${k} by slice`,
          categories: [...SLICES],
          yLabel: `sampled NDCG@${k}`,
          series: report.results.map((r) => ({
            name: r.strategy,
            values: SLICES.map((s) => r.sampled?.[s].ndcg.mean ?? null),
            errors: SLICES.map((s) => r.sampled?.[s].ndcg.std ?? null),
          })),
        }),
      ],
    },
  ];
}

function fewShotSection(report: LiftReport): ReportSection[] {
  const curve = report.fewShot;
  if (!curve) return [];
  const k = report.k;
  const shots = curve.shots.map(String);
  const chart = (metric: 'ndcg' | 'hit', label: string) =>
    lineChart({
      title: `Cold users' ${label}@${k} by target rows revealed`,
      x: shots,
      xLabel: 'target rows revealed per cold user',
      yLabel: `${label}@${k}`,
      series: curve.results.map((r) => ({ name: r.strategy, values: r[metric].map((x) => x.mean), errors: r[metric].map((x) => x.std) })),
    });
  return [
    {
      heading: 'Few-shot cold users',
      text:
        `The comparison rerun with ${curve.shots.join(', ')} of each cold user's target rows revealed to training; every point is measured on the same ` +
        `${Math.round(curve.users)} cold test users per seed (those with more target rows than the largest count). Mean over seeds; whiskers ± one std.`,
      charts: [chart('ndcg', 'NDCG'), chart('hit', 'HR')],
      table: {
        columns: ['strategy', ...curve.shots.flatMap((n) => [`NDCG@${k}, ${n}`, `HR@${k}, ${n}`])],
        rows: curve.results.map((r) => [r.strategy, ...curve.shots.flatMap((_, p) => [r.ndcg[p]!.mean, r.hit[p]!.mean])]),
      },
    },
  ];
}

export function renderLiftReport(report: LiftReport, options: { command?: string } = {}): string {
  const k = report.k;
  const names = report.results.map((r) => r.strategy);
  const a = report.alignment;
  const merged = report.coldTargetOnlyIsPopularity === true;
  const numeric = numericIdsText(a);
  const sections: ReportSection[] = [
    ...liftSections(report),
    {
      heading: 'Setup',
      text: [
        `${report.source} → ${report.target}: ${overlapText(a)}.`,
        ...(numeric ? [numeric] : []),
        `${Math.round(report.coldFraction * 100)}% of the shared users are cold in the target (no target rows in training${report.coldShots ? `, except ${report.coldShots} revealed per user` : ''}), half for validation, half for test. ` +
          (report.protocol
            ? `${protocolText(report).replace(/^protocol: f/, 'F')}; mean ± std over seeds ${report.seeds.join(', ')}; d = ${report.settings.dim}.`
            : `Full ranking over all ${a.targetItems} target items with training and validation rows masked; mean ± std over seeds ${report.seeds.join(', ')}; d = ${report.settings.dim}.`),
        ...(report.skipped ?? []).map((x) => `Skipped ${x.strategy}: ${x.reason}`),
        ...(options.command ? [`Command: ${options.command}`] : []),
      ],
    },
    ...SLICES.map((slice) => {
      // Zero-shot cold users: target-only is popularity, so the two share one row.
      const one = merged && slice === 'cold';
      const shown = one ? report.results.filter((r) => r.strategy !== 'target-only') : report.results;
      return {
        heading: `${slice[0]!.toUpperCase()}${slice.slice(1)} users`,
        ...(one ? { text: TARGET_ONLY_IS_POPULARITY } : {}),
        table: {
          columns: ['strategy', 'users', ...LIFT_METRICS.flatMap((m) => [`${m}@${k}`, '±'])],
          rows: shown.map((r) => [
            one && r.strategy === 'popularity' ? 'popularity = target-only' : r.strategy,
            Math.round(r.slices[slice].users),
            ...LIFT_METRICS.flatMap((m) => [r.slices[slice].metrics[m].mean, r.slices[slice].metrics[m].std]),
          ]),
        },
      };
    }),
    {
      heading: 'By slice',
      text: 'Mean over seeds; whiskers are ± one standard deviation over seeds.',
      charts: LIFT_METRICS.map((m) =>
        barChart({
          title: `${m.toUpperCase()}@${k} by slice`,
          categories: [...SLICES],
          series: names.map((name, s) => ({
            name,
            values: SLICES.map((slice) => report.results[s]!.slices[slice].metrics[m].mean),
            errors: SLICES.map((slice) => report.results[s]!.slices[slice].metrics[m].std),
          })),
          yLabel: `${m}@${k}`,
        }),
      ),
    },
    ...sampledSection(report),
    ...fewShotSection(report),
    {
      heading: 'Strategies',
      table: {
        columns: ['strategy', 'what it does', 'chosen on validation', 's per seed'],
        rows: report.results.map((r) => [
          r.strategy,
          r.summary,
          r.choices?.map((c, i) => `seed ${report.seeds[i] ?? i}: ${c}`).join(' · ') ?? '',
          r.seconds,
        ]),
        digits: 2,
      },
    },
  ];
  return renderReport({
    title: 'recbridge transfer: lift report',
    subtitle: `${report.source} → ${report.target}, ${report.seconds.toFixed(1)} s`,
    sections,
  });
}

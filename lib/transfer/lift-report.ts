/** The lift report as a self-contained HTML page (tables and SVG charts from lib/report). */
import { barChart } from '../report/charts';
import { renderReport, type ReportSection } from '../report/html';
import { LIFT_METRICS, SLICES, type LiftReport } from './lift';

export function renderLiftReport(report: LiftReport, options: { command?: string } = {}): string {
  const k = report.k;
  const names = report.results.map((r) => r.strategy);
  const a = report.alignment;
  const sections: ReportSection[] = [
    {
      heading: 'Setup',
      text: [
        `${report.source} → ${report.target}. ${a.sharedUsers} shared users (source ${a.sourceUsers}, target ${a.targetUsers}); ${a.sharedItems} shared items.`,
        `${Math.round(report.coldFraction * 100)}% of the shared users are cold in the target (no target rows in training${report.coldShots ? `, except ${report.coldShots} revealed per user` : ''}), half for validation, half for test. ` +
          `Full ranking over all ${a.targetItems} target items with training and validation rows masked; mean ± std over seeds ${report.seeds.join(', ')}; d = ${report.settings.dim}.`,
        report.best
          ? `Best on cold users: ${report.best.strategy}, NDCG@${k} ${report.best.overPopularity.toFixed(4)} above popularity and ${report.best.overTargetOnly.toFixed(4)} above target-only (${report.best.significant ? 'more' : 'not more'} than two standard deviations over both).`
          : 'Only baselines were run.',
        ...(options.command ? [`Command: ${options.command}`] : []),
      ],
    },
    ...SLICES.map((slice) => ({
      heading: `${slice[0].toUpperCase()}${slice.slice(1)} users`,
      table: {
        columns: ['strategy', 'users', ...LIFT_METRICS.flatMap((m) => [`${m}@${k}`, '±'])],
        rows: report.results.map((r) => [
          r.strategy,
          Math.round(r.slices[slice].users),
          ...LIFT_METRICS.flatMap((m) => [r.slices[slice].metrics[m].mean, r.slices[slice].metrics[m].std]),
        ]),
      },
    })),
    {
      heading: 'By slice',
      charts: LIFT_METRICS.map((m) =>
        barChart({
          title: `${m.toUpperCase()}@${k} by slice`,
          categories: [...SLICES],
          series: names.map((name, s) => ({
            name,
            values: SLICES.map((slice) => report.results[s].slices[slice].metrics[m].mean),
            errors: SLICES.map((slice) => report.results[s].slices[slice].metrics[m].std),
          })),
          yLabel: `${m}@${k}`,
        }),
      ),
    },
    {
      heading: 'Strategies',
      table: {
        columns: ['strategy', 'what it does', 's per seed'],
        rows: report.results.map((r) => [r.strategy, r.summary, r.seconds]),
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

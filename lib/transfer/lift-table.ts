/** The lift report as a plain-text table (for the terminal and RESULTS.md). */
import { formatDifference } from '../report/format';
import { LIFT_METRICS, SAMPLED_METRICS, SLICES, type LiftBaseline, type LiftReport, type PairedLift } from './lift';

/** The baselines the paired tables show (popularity is in the JSON and the claim). */
const SHOWN: readonly LiftBaseline[] = ['target-only', 'neighbours'];

function grid(header: string[], rows: string[][], markdown: boolean | undefined): string[] {
  if (markdown) return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** A paired difference with its verdict when the run allows one ("better" / "worse"). */
export function pairedCell(d: PairedLift | null | undefined): string {
  if (!d) return '—';
  const mark = d.verdict === 'better' || d.verdict === 'worse' ? ` ${d.verdict}` : '';
  return `${formatDifference(d)}${mark}`;
}

export function formatLiftTable(report: LiftReport, options: { markdown?: boolean } = {}): string {
  const k = report.k;
  const header = ['strategy', ...SLICES.flatMap((s) => LIFT_METRICS.map((m) => `${s} ${m}@${k}`)), 's/seed'];
  const rows = report.results.map((r) => [
    r.strategy,
    ...SLICES.flatMap((s) => LIFT_METRICS.map((m) => fmt(r.slices[s].metrics[m].mean, r.slices[s].metrics[m].std))),
    r.seconds.toFixed(1),
  ]);
  const lines: string[] = grid(header, rows, options.markdown);
  const chose = report.results.filter((r) => r.choices?.length);
  if (chose.length) {
    lines.push('', 'chosen on validation, per seed:');
    for (const r of chose) r.choices!.forEach((c, i) => lines.push(`- ${r.strategy}, seed ${report.seeds[i] ?? i}: ${c}`));
  }
  for (const b of SHOWN) {
    const compared = report.results.filter((r) => r.lift?.[b]);
    if (!compared.length) continue;
    lines.push(
      '',
      `NDCG@${k} minus ${b}, paired over the same test users: mean [95% interval], p (bootstrap, ${report.bootstrap?.resamples ?? '?'} resamples)`,
      ...grid(
        ['strategy', ...SLICES.map((s) => `${s} users`)],
        compared.map((r) => [r.strategy, ...SLICES.map((s) => pairedCell(r.lift[b]?.[s]?.ndcg))]),
        options.markdown,
      ),
    );
  }
  if (report.results[0]?.sampled) {
    const negatives = report.sampledNegatives;
    const sh = [
      'strategy',
      ...SLICES.flatMap((sl) => SAMPLED_METRICS.map((m) => `${sl} ${m === 'mrr' ? 'MRR' : `${m === 'hit' ? 'HR' : 'NDCG'}@${k}`}`)),
    ];
    const sr = report.results.map((r) => [
      r.strategy,
      ...SLICES.flatMap((sl) => SAMPLED_METRICS.map((m) => fmt(r.sampled![sl][m].mean, r.sampled![sl][m].std))),
    ]);
    lines.push('', `sampled protocol: each test item against ${negatives} sampled negatives`, ...grid(sh, sr, options.markdown));
  }
  const a = report.alignment;
  const users = report.results[0]?.slices;
  lines.push(
    '',
    `${report.source} → ${report.target}: ${a.sharedUsers} shared users (source ${a.sourceUsers}, target ${a.targetUsers}), ${a.sharedItems} shared items; ` +
      `${Math.round(users?.cold.users ?? 0)} cold and ${Math.round(users?.warm.users ?? 0)} warm test users per seed; seeds ${report.seeds.join(', ')}; ${report.seconds.toFixed(1)} s in all`,
  );
  lines.push(report.best ? `best on cold users: ${claimOf(report)}` : 'only baselines were run');
  return lines.join('\n');
}

/**
 * The report's conclusion. A report saved before paired statistics existed (JSON read back) has
 * none: it is shown without a claim rather than with its old "more than 2 std" verdict.
 */
export function claimOf(report: LiftReport): string {
  if (!report.best) return 'Only baselines were run: there is no strategy to compare.';
  return (
    report.best.claim ??
    `${report.best.strategy} has the best mean cold-user NDCG@${report.k}. No claim: this report has no paired statistics (it predates them); run it again.`
  );
}

function fmt(mean: number, std: number): string {
  return Number.isNaN(mean) ? '—' : `${mean.toFixed(4)}±${std.toFixed(4)}`;
}

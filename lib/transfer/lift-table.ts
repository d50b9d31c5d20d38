/** The lift report as a plain-text table (for the terminal and RESULTS.md). */
import { LIFT_METRICS, SAMPLED_METRICS, SLICES, type LiftReport } from './lift';

export function formatLiftTable(report: LiftReport, options: { markdown?: boolean } = {}): string {
  const k = report.k;
  const header = ['strategy', ...SLICES.flatMap((s) => LIFT_METRICS.map((m) => `${s} ${m}@${k}`)), 's/seed'];
  const rows = report.results.map((r) => [
    r.strategy,
    ...SLICES.flatMap((s) => LIFT_METRICS.map((m) => fmt(r.slices[s].metrics[m].mean, r.slices[s].metrics[m].std))),
    r.seconds.toFixed(1),
  ]);
  const lines: string[] = [];
  if (options.markdown) {
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`));
  } else {
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
    lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
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
    lines.push('', `sampled protocol: each test item against ${negatives} sampled negatives`);
    if (options.markdown)
      lines.push(`| ${sh.join(' | ')} |`, `|${sh.map(() => '---').join('|')}|`, ...sr.map((r) => `| ${r.join(' | ')} |`));
    else {
      const widths = sh.map((h, c) => Math.max(h.length, ...sr.map((r) => r[c].length)));
      const line = (cells: string[]) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
      lines.push(line(sh), widths.map((w) => '-'.repeat(w)).join('  '), ...sr.map(line));
    }
  }
  const a = report.alignment;
  const users = report.results[0]?.slices;
  lines.push(
    '',
    `${report.source} → ${report.target}: ${a.sharedUsers} shared users (source ${a.sourceUsers}, target ${a.targetUsers}), ${a.sharedItems} shared items; ` +
      `${Math.round(users?.cold.users ?? 0)} cold and ${Math.round(users?.warm.users ?? 0)} warm test users per seed; seeds ${report.seeds.join(', ')}; ${report.seconds.toFixed(1)} s in all`,
  );
  if (report.best) {
    const b = report.best;
    lines.push(
      `best on cold users: ${b.strategy} — NDCG@${k} ${sign(b.overPopularity)} over popularity, ${sign(b.overTargetOnly)} over target-only` +
        ` (${b.significant ? 'more' : 'NOT more'} than 2 std over both)` +
        (b.overNeighbours === null
          ? ''
          : `; ${sign(b.overNeighbours)} vs the neighbourhood baseline (${b.beatsNeighbours ? 'more' : 'NOT more'} than 2 std)`),
    );
  }
  return lines.join('\n');
}

function fmt(mean: number, std: number): string {
  return Number.isNaN(mean) ? '—' : `${mean.toFixed(4)}±${std.toFixed(4)}`;
}

function sign(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

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
  const merged = report.coldTargetOnlyIsPopularity === true;
  const rows = report.results.map((r) => [
    r.strategy,
    ...SLICES.flatMap((s) =>
      LIFT_METRICS.map((m) =>
        merged && s === 'cold' && r.strategy === 'target-only'
          ? '= popularity'
          : fmt(r.slices[s].metrics[m].mean, r.slices[s].metrics[m].std),
      ),
    ),
    r.seconds.toFixed(1),
  ]);
  const lines: string[] = [...(report.protocol ? [protocolText(report), ''] : []), ...grid(header, rows, options.markdown)];
  if (merged) lines.push('', TARGET_ONLY_IS_POPULARITY);
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
        compared.map((r) => [
          r.strategy,
          ...SLICES.map((s) => sameModelCell(report, r.strategy, b, s) ?? pairedCell(r.lift[b]?.[s]?.ndcg)),
        ]),
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
      ...SLICES.flatMap((sl) =>
        SAMPLED_METRICS.map((m) =>
          merged && sl === 'cold' && r.strategy === 'target-only' ? '= popularity' : fmt(r.sampled![sl][m].mean, r.sampled![sl][m].std),
        ),
      ),
    ]);
    lines.push('', `sampled protocol: each test item against ${negatives} sampled negatives`, ...grid(sh, sr, options.markdown));
  }
  const curve = report.fewShot;
  if (curve) {
    const label = (n: number) => `${n} shot${n === 1 ? '' : 's'}`;
    lines.push(
      '',
      `few-shot: cold users' NDCG@${k} and HR@${k} with n target rows revealed per cold user (${Math.round(curve.users)} cold test users per seed, the same at every n)`,
      ...grid(
        ['strategy', ...curve.shots.map((n) => `NDCG@${k} ${label(n)}`), ...curve.shots.map((n) => `HR@${k} ${label(n)}`)],
        curve.results.map((r) => [r.strategy, ...r.ndcg.map((x) => fmt(x.mean, x.std)), ...r.hit.map((x) => fmt(x.mean, x.std))]),
        options.markdown,
      ),
    );
  }
  for (const s of report.skipped ?? []) lines.push('', `skipped ${s.strategy}: ${s.reason}`);
  const users = report.results[0]?.slices;
  lines.push(
    '',
    `${report.source} → ${report.target}: ${overlapText(report.alignment)}; ` +
      `${Math.round(users?.cold.users ?? 0)} cold and ${Math.round(users?.warm.users ?? 0)} warm test users per seed; seeds ${report.seeds.join(', ')}; ${report.seconds.toFixed(1)} s in all`,
  );
  const numeric = numericIdsText(report.alignment);
  if (numeric) lines.push(numeric);
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

/**
 * For zero-shot cold users, target-only and popularity are one model: their paired difference is 0
 * by construction, so the cell names the model instead of printing a "difference" (null otherwise).
 */
export function sameModelCell(report: LiftReport, strategy: string, baseline: LiftBaseline, slice: string): string | null {
  if (report.coldTargetOnlyIsPopularity !== true || slice !== 'cold') return null;
  const pair = new Set([strategy, baseline]);
  return pair.has('popularity') && pair.has('target-only') ? `= ${baseline}` : null;
}

/** What the cold-user rows of target-only are when cold users have no target rows. */
export const TARGET_ONLY_IS_POPULARITY =
  'target-only on cold users = popularity: zero-shot cold users have no target rows, so the target-only model serves them the most popular items (one model, shown once).';

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

/** The overlap in one phrase: counts, and each domain's share (when the report has them). */
export function overlapText(a: LiftReport['alignment']): string {
  const users = a.sharedUserShare
    ? `${a.sharedUsers} shared users (${pct(a.sharedUserShare.source)} of the source's ${a.sourceUsers}, ${pct(a.sharedUserShare.target)} of the target's ${a.targetUsers})`
    : `${a.sharedUsers} shared users (source ${a.sourceUsers}, target ${a.targetUsers})`;
  const items =
    a.sharedItemShare && a.sharedItems > 0
      ? `${a.sharedItems} shared items (${pct(a.sharedItemShare.source)} of the source's, ${pct(a.sharedItemShare.target)} of the target's)`
      : `${a.sharedItems} shared items`;
  return `${users}, ${items}`;
}

/** The warning line for ids aligned as shared although both domains number them 0/1…n (null: none). */
export function numericIdsText(a: LiftReport['alignment']): string | null {
  if (!a.numericIdRanges?.length) return null;
  const what = a.numericIdRanges.join(' and ');
  const ids = a.numericIdRanges.map((x) => x.slice(0, -1)).join(' and ');
  return `note: the ${ids} ids of both domains are integer ranges; they were taken as the same ${what} because the caller confirmed it (trustNumericIds).`;
}

/** The evaluation protocol in one sentence (the report's header). */
export function protocolText(report: LiftReport): string {
  const p = report.protocol;
  const mask = p.maskValidation ? 'training and validation rows masked' : 'only training rows masked (validation rows not masked)';
  const stop =
    p.earlyStopping === 'none'
      ? `a fixed ${report.settings.epochs} epochs (no early stopping)`
      : `early stopping on ${p.earlyStopping === 'cold-validation' ? "cold-validation users' rows" : "warm users' validation rows"}`;
  return `protocol: full ranking over all ${report.alignment.targetItems} target items, ${mask}; target-only model: ${stop}; ${report.coldShots} target rows revealed per cold user`;
}

function fmt(mean: number, std: number): string {
  return Number.isNaN(mean) ? '—' : `${mean.toFixed(4)}±${std.toFixed(4)}`;
}

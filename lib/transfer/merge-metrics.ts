/**
 * Metrics of disjoint user groups (cold and warm users served by different models, each evaluated
 * over the same user space) as one group.
 * Every per-user metric is a mean over users, so the merge is the user-weighted mean; item coverage
 * is a property of the union of the lists, which the parts do not carry, so it is NaN after a merge.
 */
import type { CutoffMetrics } from '../eval/accumulator';
import type { PerUserMetrics, RankingMetrics, UserMetricName } from '../eval/ranking';

const MEANS = ['recall', 'precision', 'ndcg', 'hit', 'mrr', 'map', 'arp'] as const;

function mergeCutoff(parts: Array<{ users: number; m: CutoffMetrics | undefined }>): CutoffMetrics {
  const users = parts.reduce((s, p) => s + p.users, 0);
  const out = { coverage: NaN } as CutoffMetrics;
  for (const key of MEANS) {
    if (parts.some((p) => p.m?.[key] === undefined)) continue;
    out[key] = parts.reduce((s, p) => s + (p.m![key] as number) * p.users, 0) / users;
  }
  return out;
}

export function mergeByUsers(parts: RankingMetrics[]): RankingMetrics {
  if (parts.length === 1) return parts[0];
  const users = parts.reduce((s, p) => s + p.users, 0);
  const ks = Object.keys(parts[0].byK ?? {})
    .map(Number)
    .filter((k) => parts.every((p) => p.byK?.[k] !== undefined));
  const byK: Record<number, CutoffMetrics> = {};
  for (const k of ks) byK[k] = mergeCutoff(parts.map((p) => ({ users: p.users, m: p.byK[k] })));
  const k = parts[0].k;
  const top = mergeCutoff(parts.map((p) => ({ users: p.users, m: p })));
  // Each part was evaluated over the same user space: skipped = that space minus the evaluated users.
  const space = parts[0].users + (parts[0].skipped ?? 0);
  const merged: RankingMetrics = { ...top, users, skipped: Math.max(0, space - users), k, byK };
  const perUser = mergePerUser(parts, ks);
  if (perUser) merged.perUser = perUser;
  return merged;
}

/** The parts' per-user metrics as one set, in ascending user order (only when every part has them). */
function mergePerUser(parts: RankingMetrics[], ks: number[]): PerUserMetrics | undefined {
  if (parts.some((p) => !p.perUser)) return undefined;
  const from = parts.flatMap((p, i) => Array.from(p.perUser!.users, (u, j) => ({ u, i, j })));
  from.sort((x, y) => x.u - y.u);
  const byK: PerUserMetrics['byK'] = {};
  for (const k of ks.filter((k) => parts.every((p) => p.perUser!.byK[k]))) {
    const names = Object.keys(parts[0].perUser!.byK[k]) as UserMetricName[];
    byK[k] = Object.fromEntries(names.map((m) => [m, Float32Array.from(from, ({ i, j }) => parts[i].perUser!.byK[k][m][j])])) as Record<
      UserMetricName,
      Float32Array
    >;
  }
  return { users: Int32Array.from(from, ({ u }) => u), byK };
}

/** RankingMetrics from one cut-off's metrics (for evaluators that compute a single K). */
export function rankingMetricsOf(metrics: CutoffMetrics, users: number, k: number, skipped = 0): RankingMetrics {
  return { ...metrics, users, skipped, k, byK: { [k]: metrics } };
}

/**
 * The few-shot curve of a lift report: how cold users fare as 0, 1, 3, 5… of their target rows are
 * revealed to training. Every point is measured on the same cold test users — those with more target
 * rows than the largest count, so that each still has a row to test — otherwise a point with more
 * shots would silently drop the lightest users and the curve would mix two effects.
 */
import { meanStd, type MeanStd } from '../eval/summarize';
import type { Interactions } from '../data/interactions';
import { rangeError } from '../core/validate';

export interface FewShotCurve {
  /** Target rows revealed per cold user, ascending. */
  shots: number[];
  /** Cold test users behind every point (mean over seeds). */
  users: number;
  /** Per strategy: cold NDCG@k and HR@k at each shot count, mean ± std over seeds. */
  results: Array<{ strategy: string; ndcg: MeanStd[]; hit: MeanStd[] }>;
}

/** The shot counts, sorted and distinct (null: no curve). */
export function resolveFewShot(value: unknown, givenSplit: boolean): number[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0 || value.some((n) => !Number.isInteger(n) || n < 0 || n > 1000))
    throw rangeError('options.fewShot', 'a non-empty array of integers in [0, 1000] (target rows revealed per cold user)', value);
  if (givenSplit) throw rangeError('options.fewShot', 'no value with options.split (the curve reveals rows of the seeded split)', value);
  return [...new Set(value as number[])].sort((a, b) => a - b);
}

/** Flags (per target user row) of the cold test users with more than `maxShots` target rows. */
export function eligibleColdUsers(target: Interactions, coldTestUsers: Int32Array, maxShots: number): Uint8Array {
  const rows = new Int32Array(target.numUsers);
  for (const u of target.users) rows[u]++;
  const flags = new Uint8Array(target.numUsers);
  for (const u of coldTestUsers) if (rows[u] > maxShots) flags[u] = 1;
  return flags;
}

export function summariseCurve(
  shots: number[],
  names: string[],
  points: Array<Array<Array<{ ndcg: number; hit: number; users: number }>>>,
): FewShotCurve {
  const first = points[0]?.[0] ?? [];
  return {
    shots,
    users: first.length ? first.reduce((s, p) => s + p.users, 0) / first.length : 0,
    results: names.map((strategy, s) => ({
      strategy,
      ndcg: shots.map((_, p) => meanStd(points[p]![s]!.map((x) => x.ndcg))),
      hit: shots.map((_, p) => meanStd(points[p]![s]!.map((x) => x.hit))),
    })),
  };
}

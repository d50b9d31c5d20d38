/**
 * A transfer strategy turns a TransferContext into target user vectors (UserVectorsModel). Each
 * strategy file says when to use it; the registry below is what the API and CLI accept by name.
 */
import type { RankingMetrics, RankingModel } from '../../eval/ranking';
import type { CandidateScorer } from '../../eval/sampled';
import type { Interactions } from '../../data/interactions';
import type { Alignment } from '../align';
import type { TransferContext } from '../context';

/**
 * For strategies that are not one dot-product model (neighbourhood models): evaluates test rows of
 * any users, masking `exclude`, at cut-off k. With `perUser`, the result carries each user's metrics
 * (RankingMetrics.perUser), which the lift report's paired comparisons need; an evaluation without
 * them is reported without paired statistics.
 */
export interface CustomEvaluation {
  evaluate(test: Interactions, exclude: Interactions, k: number, options?: { perUser?: boolean }): Promise<RankingMetrics>;
  /** Scores for the sampled (1 + N negatives) protocol. */
  scorer(): CandidateScorer;
}

export interface Strategy {
  name: string;
  /** One line for reports and --help. */
  summary: string;
  /** Target user vectors against target items (a RankingModel), or its own evaluation. */
  run(ctx: TransferContext): Promise<RankingModel | CustomEvaluation>;
  /**
   * Whether the strategy can run on these domains at all (e.g. it needs item content): null when it
   * can, else why not. A report over every strategy (no options.strategies) leaves such strategies
   * out; a strategy asked for by name runs, and its run says what is missing with a typed error.
   */
  unavailable?(alignment: Alignment): string | null;
}

/** Copies the target-only model's vectors for warm users (training rows, not cold). */
export function warmVectors(ctx: TransferContext, users: Float32Array, dim: number): { vectors: Float32Array; has: Uint8Array } {
  const vectors = new Float32Array(ctx.alignment.target.numUsers * dim);
  const has = new Uint8Array(ctx.alignment.target.numUsers);
  for (let u = 0; u < has.length; u++) {
    if (ctx.needsTransfer(u)) continue;
    vectors.set(users.subarray(u * dim, (u + 1) * dim), u * dim);
    has[u] = 1;
  }
  return { vectors, has };
}

/**
 * Aligned users as (source row, target row) pairs: warm ones (the target-only model knows them: maps
 * learn from these) or the ones transfer must serve (cold users, including few-shot ones).
 */
export function alignedPairs(ctx: TransferContext, warm: boolean): { source: Int32Array; target: Int32Array } {
  const { source, target } = ctx.alignment.users;
  const s: number[] = [];
  const t: number[] = [];
  target.forEach((u, k) => {
    if (ctx.needsTransfer(u) !== warm) {
      s.push(source[k]);
      t.push(u);
    }
  });
  return { source: Int32Array.from(s), target: Int32Array.from(t) };
}

/** Rows of a table gathered into a dense matrix. */
export function gatherRows(data: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => out.set(data.subarray(r * dim, (r + 1) * dim), k * dim));
  return out;
}

/**
 * A CandidateScorer over target users that computes one user's full score vector at a time (the
 * sampled protocol walks users in order) with `scoreUser`.
 */
export function perUserScorer(ctx: TransferContext, scoreUser: (u: number) => Float32Array): CandidateScorer {
  let cached = -1;
  let full: Float32Array = new Float32Array(0);
  return {
    users: ctx.alignment.target.numUsers,
    items: ctx.alignment.target.numItems,
    score(u, candidates, out) {
      if (u !== cached) {
        cached = u;
        full = scoreUser(u);
      }
      for (let j = 0; j < candidates.length; j++) out[j] = full[candidates[j]];
      return out;
    },
  };
}

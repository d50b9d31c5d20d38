/**
 * Closed-form co-occurrence transfer (EASE across domains). Target-item weights are learned from
 * source items through the warm aligned users by ridge regression, W = (XsᵀXs + λI)⁻¹ XsᵀXt (Xs:
 * their source rows, Xt: their target training rows), and a cold user scores x_s·W. W itself
 * (source × target items) is never formed: x_s·W = ((x_s P) Xsᵀ) Xt with P = (XsᵀXs + λI)⁻¹, or in
 * the dual, k_sᵀ (XsXsᵀ + λI)⁻¹ Xt with k_s = Xs x_s, the same numbers (push-through identity)
 * from a system over warm users instead of source items. Either way a cold user costs one solved
 * column plus a sparse pass over Xt. On the Amazon pairs (30–50k source items, ~8k warm users) the
 * dual keeps every source item; capping the primal to the popular ones lost a quarter of the cold
 * NDCG@10 (4000 items) in our measurements, because cold users' source items are mostly long-tail.
 * Warm users (and the target rows of few-shot cold users) get within-target EASE. When to use: like
 * `neighbours` (the domains share what people consume together), with the weights fitted jointly.
 * λ is chosen on the cold validation users, the within-target λ on the warm validation users.
 */
import { choleskyFactor, choleskySolve, crossProduct } from '../../core/spd';
import { expectInteger, expectOptions, rangeError, typeError } from '../../core/validate';
import { sharedCopy, sharedFloat32 } from '../../core/shared-memory';
import type { Csr } from '../../core/csr';
import type { RankingMetrics } from '../../eval/ranking';
import { evaluateScoreRows } from '../../eval/score-rows';
import { Ease, mappedRows, popularVocabulary } from '../../neighbours/ease';
import type { TransferContext } from '../context';
import { rowsByUserFlag } from '../cold-split';
import { mergeByUsers } from '../merge-metrics';
import { alignedPairs, perUserScorer, type CustomEvaluation, type Strategy } from './strategy';

export interface EaseCrossOptions {
  /**
   * Ridge values tried for the cross-domain regression (cold validation picks one; each costs a
   * factorization). Default: 0.25, 1 and 4 times the mean diagonal of the system (interactions per
   * source item in the primal, per warm user in the dual), so the grid follows the data's density.
   */
  lambdas?: number[];
  /**
   * How the regression is solved. 'primal': over source items (a maxSourceItems² system); 'dual':
   * over warm aligned users (kernel ridge, W·x = Xsᵀ(XsXsᵀ + λI)⁻¹Xt: every source item, a
   * users² system); 'auto' (default): dual when there are fewer warm aligned users than source
   * items and at most maxDualUsers of them, else primal.
   */
  solver?: 'auto' | 'primal' | 'dual';
  /** Most source items in the primal regression (the most popular among warm aligned users). Default 4000. */
  maxSourceItems?: number;
  /** Most warm aligned users for the dual under 'auto'. Default 12000. */
  maxDualUsers?: number;
  /** Ridge values tried for within-target EASE (warm validation picks one). Default [10, 50, 250]. */
  withinLambdas?: number[];
  /** Most target items with within-target EASE weights. Default 3000. */
  maxTargetItems?: number;
}

const DEFAULTS = {
  lambdas: undefined as number[] | undefined,
  solver: 'auto' as 'auto' | 'primal' | 'dual',
  maxSourceItems: 4000,
  maxDualUsers: 12_000,
  withinLambdas: [10, 50, 250],
  maxTargetItems: 3000,
};
/** The default λ grid, as multiples of the system's mean diagonal. */
const LAMBDA_SCALES = [0.25, 1, 4];
/** Below any fitted score difference: orders otherwise equal items (and users without a signal) by popularity. */
const TIE_BREAK = 1e-6;

/** Within-target EASE with λ chosen on warm validation users; shared by `ease` and `ease-cross`. */
function withinEase(ctx: TransferContext, lambdas: number[], maxItems: number): Promise<Ease> {
  return ctx.memo(`ease-within:${lambdas.join(',')}:${maxItems}`, async () => {
    let best: { model: Ease; score: number } | null = null;
    const threads = ctx.settings.threads;
    for (const lambda of lambdas) {
      const model = await Ease.fit(ctx.split.train, { lambda, maxItems, threads });
      if (lambdas.length === 1 || ctx.warmValidation.size === 0) return model;
      const m = await evaluateScoreRows((u) => withPopularity(ctx, model.scoreUser(u)), model.items, ctx.warmValidation, {
        k: ctx.settings.k,
        exclude: ctx.split.train,
      });
      const score = m[ctx.settings.metric] as number;
      if (!best || score > best.score) best = { model, score };
    }
    return best!.model;
  });
}

function withPopularity(ctx: TransferContext, scores: Float32Array): Float32Array {
  const pop = ctx.popularity;
  for (let i = 0; i < scores.length; i++) scores[i] += TIE_BREAK * pop[i];
  return scores;
}

/** The cross-domain regression's state: the factor for the chosen λ and, per transfer user, a column of solved weights. */
interface CrossModel {
  lambda: number;
  /** Solved over warm users (solved rows are users) rather than source items. */
  dual: boolean;
  /** Side of the solved system. */
  n: number;
  /** Warm aligned users' source rows (vocabulary positions) and target training rows (target items). */
  xs: Csr;
  xt: Csr;
  /** n × columns: P x_s for each transfer user with a column. */
  solved: Float32Array;
  columns: number;
  /** Target user → its column in solved (−1: none). */
  column: Int32Array;
}

/** The transpose of a CSR with `cols` columns (rows become columns). */
function transpose(csr: Csr, cols: number): Csr {
  const offsets = new Int32Array(cols + 1);
  for (const c of csr.indices) offsets[c + 1]++;
  for (let c = 0; c < cols; c++) offsets[c + 1] += offsets[c];
  const fill = offsets.slice(0, cols);
  const indices = new Int32Array(csr.indices.length);
  for (let r = 0; r + 1 < csr.offsets.length; r++)
    for (let p = csr.offsets[r]; p < csr.offsets[r + 1]; p++) indices[fill[csr.indices[p]]++] = r;
  return { offsets, indices };
}

async function fitCross(ctx: TransferContext, o: typeof DEFAULTS): Promise<CrossModel> {
  const threads = ctx.settings.threads;
  const warm = alignedPairs(ctx, true);
  const cold = alignedPairs(ctx, false);
  const src = ctx.sourceData.byUser();
  const counts = new Int32Array(ctx.alignment.source.numItems);
  for (const s of warm.source) for (let p = src.offsets[s]; p < src.offsets[s + 1]; p++) counts[src.indices[p]]++;
  const seenItems = counts.reduce((k, c) => k + (c > 0 ? 1 : 0), 0);
  const dual = o.solver === 'dual' || (o.solver === 'auto' && warm.source.length < seenItems && warm.source.length <= o.maxDualUsers);
  const { items: vocabulary, position } = popularVocabulary(counts, dual ? seenItems : o.maxSourceItems);
  const items = vocabulary.length;
  const n = dual ? warm.source.length : items;
  const identity = Int32Array.from({ length: ctx.alignment.target.numItems }, (_, i) => i);
  const xs = mappedRows(src, warm.source, position);
  const xt = mappedRows(ctx.split.train.byUser(), warm.target, identity);
  const xc = mappedRows(src, cold.source, position);
  const column = new Int32Array(ctx.alignment.target.numUsers).fill(-1);
  cold.target.forEach((u, c) => {
    column[u] = c;
  });
  const columns = cold.target.length;
  const empty = { lambda: o.lambdas?.[0] ?? 1, dual, n, xs, xt, solved: new Float32Array(n * columns), columns, column };
  if (items === 0 || warm.source.length === 0 || columns === 0) return empty;
  let gram: Float32Array;
  let rhs: Float32Array;
  if (dual) {
    // Kernel ridge: K = Xs Xsᵀ (warm × warm) and the right-hand sides Xs x_c (warm × transfer users).
    const xsT = { csr: transpose(xs, items), cols: n };
    gram = await crossProduct(xsT, undefined, { threads });
    rhs = await crossProduct(xsT, { csr: transpose(xc, items), cols: columns }, { threads });
  } else {
    gram = await crossProduct({ csr: xs, cols: n }, undefined, { threads });
    rhs = new Float32Array(n * columns);
    for (let c = 0; c < columns; c++) for (let p = xc.offsets[c]; p < xc.offsets[c + 1]; p++) rhs[xc.indices[p] * columns + c] = 1;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += gram[i * n + i] / n;
  const lambdas = o.lambdas ?? LAMBDA_SCALES.map((f) => f * Math.max(mean, 1e-3));
  // Validation needs only the cold validation users' columns: solve those per λ, then every column once.
  const validation = ctx.split.coldValidationUsers.filter((u) => column[u] >= 0);
  const solveFor = async (lambda: number, cols: ArrayLike<number> | null) => {
    const a = sharedCopy(gram);
    for (let i = 0; i < n; i++) a[i * n + i] += lambda;
    const factor = await choleskyFactor(a, n, { threads });
    const m = cols ? cols.length : columns;
    const b = sharedFloat32(n * m);
    if (cols) {
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) b[i * m + j] = rhs[i * columns + column[cols[j]]];
    } else b.set(rhs);
    return { factor, solved: await choleskySolve(factor, n, b, m, { threads }), m };
  };
  let lambda = lambdas[0];
  if (lambdas.length > 1 && validation.length > 0) {
    let best = -Infinity;
    for (const l of lambdas) {
      const { solved, m } = await solveFor(l, validation);
      const local = new Int32Array(column.length).fill(-1);
      validation.forEach((u, j) => {
        local[u] = j;
      });
      const model: CrossModel = { lambda: l, dual, n, xs, xt, solved, columns: m, column: local };
      const metrics = await evaluateScoreRows(
        (u) => withPopularity(ctx, crossScores(model, u, ctx.alignment.target.numItems)),
        ctx.alignment.target.numItems,
        ctx.coldValidation,
        { k: ctx.settings.k, exclude: ctx.split.train, users: validation },
      );
      const score = metrics[ctx.settings.metric] as number;
      if (score > best) {
        best = score;
        lambda = l;
      }
    }
  }
  const { solved } = await solveFor(lambda, null);
  return { lambda, dual, n, xs, xt, solved, columns, column };
}

/** x_s·W for target user u: a weight per warm aligned user, then their target rows summed. */
function crossScores(model: CrossModel, u: number, items: number): Float32Array {
  const out = new Float32Array(items);
  const c = model.column[u];
  if (c < 0) return out;
  const { xs, xt, solved, columns } = model;
  const users = xs.offsets.length - 1;
  for (let w = 0; w < users; w++) {
    let a = 0;
    if (model.dual) a = solved[w * columns + c];
    else for (let p = xs.offsets[w]; p < xs.offsets[w + 1]; p++) a += solved[xs.indices[p] * columns + c];
    if (a === 0) continue;
    for (let p = xt.offsets[w]; p < xt.offsets[w + 1]; p++) out[xt.indices[p]] += a;
  }
  return out;
}

function ridges(argument: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) throw typeError(argument, 'non-empty array of numbers > 0', value);
  value.forEach((x, i) => {
    if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x)) throw rangeError(`${argument}[${i}]`, 'finite number > 0', x);
  });
  return value as number[];
}

function resolve(options: EaseCrossOptions): typeof DEFAULTS {
  const o = expectOptions('options', options);
  const solver = o.solver ?? DEFAULTS.solver;
  if (!['auto', 'primal', 'dual'].includes(solver)) throw rangeError('options.solver', "'auto', 'primal' or 'dual'", solver);
  return {
    lambdas: o.lambdas === undefined ? undefined : ridges('options.lambdas', o.lambdas),
    withinLambdas: o.withinLambdas === undefined ? DEFAULTS.withinLambdas : ridges('options.withinLambdas', o.withinLambdas),
    solver,
    maxSourceItems:
      o.maxSourceItems === undefined ? DEFAULTS.maxSourceItems : expectInteger('options.maxSourceItems', o.maxSourceItems, 1, 46_340),
    maxDualUsers: o.maxDualUsers === undefined ? DEFAULTS.maxDualUsers : expectInteger('options.maxDualUsers', o.maxDualUsers, 1, 46_340),
    maxTargetItems:
      o.maxTargetItems === undefined ? DEFAULTS.maxTargetItems : expectInteger('options.maxTargetItems', o.maxTargetItems, 1, 46_340),
  };
}

function evaluation(ctx: TransferContext, scoreUser: (u: number) => Float32Array): CustomEvaluation {
  const items = ctx.alignment.target.numItems;
  return {
    async evaluate(test, exclude, k, options) {
      const parts: RankingMetrics[] = [];
      const common = { k, exclude, perUser: options?.perUser, signal: ctx.signal };
      for (const cold of [true, false]) {
        const rows = rowsByUserFlag(test, ctx.split.isCold, cold);
        if (rows.size) parts.push(await evaluateScoreRows(scoreUser, items, rows, common));
      }
      return mergeByUsers(parts);
    },
    scorer: () => perUserScorer(ctx, scoreUser),
  };
}

/** Cross-domain EASE: cold users from their source items through a ridge regression fitted on warm users. */
export function easeCross(options: EaseCrossOptions = {}): Strategy {
  const o = resolve(options);
  return {
    name: 'ease-cross',
    summary: 'closed-form ridge from source to target items through warm users (cross-domain EASE); warm users get within-target EASE',
    async run(ctx) {
      const within = await withinEase(ctx, o.withinLambdas, o.maxTargetItems);
      const cross = await fitCross(ctx, o);
      const items = ctx.alignment.target.numItems;
      return evaluation(ctx, (u) => {
        if (!ctx.needsTransfer(u)) return withPopularity(ctx, within.scoreUser(u));
        const s = crossScores(cross, u, items);
        // Few-shot cold users also get within-target EASE of their revealed rows.
        if (ctx.hasTrainRows[u]) {
          const own = within.scoreUser(u);
          for (let i = 0; i < items; i++) s[i] += own[i];
        }
        return withPopularity(ctx, s);
      });
    },
  };
}

/** Within-target EASE for warm users; cold users get popularity (the closed-form counterpart of target-only). */
export function ease(options: Pick<EaseCrossOptions, 'withinLambdas' | 'maxTargetItems'> = {}): Strategy {
  const o = resolve(options);
  return {
    name: 'ease',
    summary: 'EASE on the target alone (closed form, λ chosen on warm validation); cold users get popularity',
    async run(ctx) {
      const within = await withinEase(ctx, o.withinLambdas, o.maxTargetItems);
      const items = ctx.alignment.target.numItems;
      return evaluation(ctx, (u) => withPopularity(ctx, ctx.hasTrainRows[u] ? within.scoreUser(u) : new Float32Array(items)));
    },
  };
}

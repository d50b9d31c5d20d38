/**
 * Hybrid: the neighbourhood model's scores blended with the fine-tuned embedding model's, per user
 * (each score vector normalised to [0, 1], then w·kNN + (1 − w)·embedding). When to use: the
 * neighbourhood baseline is strong (catalogues with items bought together) but embeddings still
 * know something it does not — the blend is rarely worse than either. Cold users blend the
 * cross-domain kNN with their fine-tuned vectors, warm users the target item kNN; each group's
 * weight is chosen on its validation users.
 */
import type { RankingMetrics } from '../../eval/ranking';
import { HybridRecommender, tuneBlendWeight } from '../../neighbours/hybrid';
import type { Interactions } from '../../data/interactions';
import { rowsByUserFlag } from '../cold-split';
import type { TransferContext } from '../context';
import { fineTune } from './fine-tune';
import { mergeByUsers, rankingMetricsOf } from '../merge-metrics';
import { neighbourModels } from './neighbours';
import { perUserScorer, type CustomEvaluation, type Strategy } from './strategy';

const GRID = [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

export const hybrid: Strategy = {
  name: 'hybrid',
  summary: 'per-user blend of the neighbourhood scores and the fine-tuned embedding scores, weights chosen on validation',
  async run(ctx: TransferContext): Promise<CustomEvaluation> {
    const knn = await neighbourModels(ctx);
    const embedding = await fineTune().run(ctx);
    if ('evaluate' in embedding) throw new Error('fine-tune returns a RankingModel');
    const common = { embedding, k: ctx.settings.k, metric: ctx.settings.metric };
    const coldValidation = ctx.coldValidation;
    const warmValidation = ctx.warmValidation;
    const cold = coldValidation.size
      ? (
          await tuneBlendWeight({
            ...common,
            neighbours: knn.cross,
            validation: coldValidation,
            history: knn.history,
            exclude: ctx.split.train,
            grid: GRID,
          })
        ).weight
      : 0.5;
    const warm = warmValidation.size
      ? (
          await tuneBlendWeight({
            ...common,
            neighbours: knn.within,
            validation: warmValidation,
            history: ctx.split.train,
            exclude: ctx.split.train,
            grid: GRID,
          })
        ).weight
      : 0.5;
    const measure = async (
      part: Interactions,
      exclude: Interactions,
      k: number,
      isCold: boolean,
      perUser: boolean,
    ): Promise<RankingMetrics> => {
      const r = await tuneBlendWeight({
        ...common,
        k,
        neighbours: isCold ? knn.cross : knn.within,
        validation: part,
        history: isCold ? knn.history : ctx.split.train,
        exclude,
        grid: [isCold ? cold : warm],
        perUser,
      });
      const metrics = rankingMetricsOf(r.grid[0].metrics, r.users, k, part.numUsers - r.users);
      return r.grid[0].perUser ? { ...metrics, perUser: r.grid[0].perUser } : metrics;
    };
    return {
      async evaluate(test, exclude, k, options) {
        const parts: RankingMetrics[] = [];
        const perUser = options?.perUser ?? false;
        const c = rowsByUserFlag(test, ctx.split.isCold, true);
        const w = rowsByUserFlag(test, ctx.split.isCold, false);
        if (c.size) parts.push(await measure(c, exclude, k, true, perUser));
        if (w.size) parts.push(await measure(w, exclude, k, false, perUser));
        return mergeByUsers(parts);
      },
      scorer() {
        const coldModel = new HybridRecommender({ neighbours: knn.cross, embedding, weight: cold });
        const warmModel = new HybridRecommender({ neighbours: knn.within, embedding, weight: warm });
        const own = ctx.split.train.byUser();
        const src = knn.history.byUser();
        return perUserScorer(ctx, (u) =>
          ctx.split.isCold[u]
            ? coldModel.scores(u, src.indices.subarray(src.offsets[u], src.offsets[u + 1]))
            : warmModel.scores(u, own.indices.subarray(own.offsets[u], own.offsets[u + 1])),
        );
      },
    };
  },
};

/**
 * Neighbourhood baseline and strategy (issue 9): training-free item-to-item links. Cold users get
 * the aggregated target neighbours of their source items (CrossDomainItemKnn, built from the
 * overlapping users' rows in both domains); warm users get item-item neighbours of their target
 * history (ItemKnn). When to use: the catalogues overlap in what people consume together — it costs
 * seconds and is the bar every learned strategy must clear. The similarity (cosine, TF-IDF, BM25) and
 * shrinkage are chosen on the validation users.
 */
import type { RankingMetrics } from '../../eval/ranking';
import { evaluateItemKnn } from '../../neighbours/evaluate';
import { CrossDomainItemKnn, ItemKnn } from '../../neighbours/item-knn';
import type { SimilarityName } from '../../neighbours/options';
import { Interactions } from '../../data/interactions';
import type { TransferContext } from '../context';
import { rowsByUserFlag } from '../cold-split';
import { mergeByUsers } from '../merge-metrics';
import { perUserScorer, type CustomEvaluation, type Strategy } from './strategy';

const GRID: Array<{ similarity: SimilarityName; shrink: number }> = [
  { similarity: 'cosine', shrink: 0 },
  { similarity: 'cosine', shrink: 10 },
  { similarity: 'tfidf', shrink: 10 },
  { similarity: 'bm25', shrink: 10 },
];

export interface NeighbourModels {
  cross: CrossDomainItemKnn;
  within: ItemKnn;
  /** Every aligned target user's source items (rows = target users, items = source items). */
  history: Interactions;
  setting: (typeof GRID)[number];
  evaluation: CustomEvaluation;
}

/** The neighbourhood models of a context, setting chosen on validation; built once per context. */
export function neighbourModels(ctx: TransferContext): Promise<NeighbourModels> {
  return ctx.memo('neighbours', async () => {
    const pairs = ctx.alignment.users;
    const src = ctx.sourceData.byUser();
    const hu: number[] = [];
    const hi: number[] = [];
    pairs.target.forEach((t, k) => {
      const s = pairs.source[k];
      for (let j = src.offsets[s]; j < src.offsets[s + 1]; j++) {
        hu.push(t);
        hi.push(src.indices[j]);
      }
    });
    const history = new Interactions({
      users: hu,
      items: hi,
      numUsers: ctx.alignment.target.numUsers,
      numItems: ctx.alignment.source.numItems,
    });
    let best: (NeighbourModels & { score: number }) | null = null;
    for (const setting of GRID) {
      const cross = await CrossDomainItemKnn.fit({
        source: ctx.sourceData,
        target: ctx.split.train,
        userPairs: pairs,
        neighbours: 100,
        threads: ctx.settings.threads,
        ...setting,
      });
      const within = await ItemKnn.fit(ctx.split.train, { neighbours: 100, threads: ctx.settings.threads, ...setting });
      const evaluation = evaluatorFor(ctx, cross, within, history);
      const m = await evaluation.evaluate(ctx.split.validation, ctx.split.train, ctx.settings.k);
      const score = m[ctx.settings.metric] as number;
      if (!best || score > best.score) best = { cross, within, history, setting, evaluation, score };
    }
    return best!;
  });
}

export const neighbours: Strategy = {
  name: 'neighbours',
  summary: 'item-item: cold users from their source items (cross-domain kNN), warm users from their target items',
  run: async (ctx) => (await neighbourModels(ctx)).evaluation,
};

function evaluatorFor(ctx: TransferContext, cross: CrossDomainItemKnn, within: ItemKnn, history: Interactions): CustomEvaluation {
  return {
    async evaluate(test, exclude, k, options) {
      const parts: RankingMetrics[] = [];
      const cold = rowsByUserFlag(test, ctx.split.isCold, true);
      const warm = rowsByUserFlag(test, ctx.split.isCold, false);
      const common = { k, exclude, threads: ctx.settings.threads, perUser: options?.perUser };
      if (cold.size) parts.push(await evaluateItemKnn(cross, cold, { ...common, history }));
      if (warm.size) parts.push(await evaluateItemKnn(within, warm, common));
      return mergeByUsers(parts);
    },
    scorer() {
      const own = ctx.split.train.byUser();
      const src = history.byUser();
      return perUserScorer(ctx, (u) =>
        ctx.split.isCold[u]
          ? cross.scoreItems(src.indices.subarray(src.offsets[u], src.offsets[u + 1])).scores
          : within.scoreItems(own.indices.subarray(own.offsets[u], own.offsets[u + 1])).scores,
      );
    },
  };
}

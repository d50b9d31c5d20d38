/**
 * Full-ranking evaluation of neighbourhood models, with the same protocol, metric definitions and
 * result shape as evaluateRanking (lib/eval): each evaluated user's history is turned into a ranked
 * list by the native recommend kernel (masked items excluded inside it), then scored against the
 * user's test items.
 */
import { AbortError, RecbridgeError } from '../core/errors';
import { GroupAccumulator } from '../eval/accumulator';
import { resolveCutoffs } from '../eval/cutoffs';
import { perUserArrays, storeUser, type RankingMetrics } from '../eval/ranking';
import { METRIC_COUNT, userMetrics } from '../eval/user-metrics';
import { Interactions } from '../data/interactions';
import { expectBoolean, expectInteger, expectOptions, expectSignal, rangeError, toIndexArray, typeError } from '../core/validate';
import type { NeighbourBatchOptions } from './graph';
import { CrossDomainItemKnn, ItemKnn } from './item-knn';

export interface NeighbourEvaluationOptions extends Omit<NeighbourBatchOptions, 'exclude'> {
  /** Cut-off of the top-level fields. Default 10, or ks[0]. */
  k?: number;
  /** Several cut-offs at once (byK). */
  ks?: number[];
  /**
   * Each user's history, rows = the test's user rows, items = the model's history items. Default
   * for ItemKnn: `exclude` (the training items). Required for CrossDomainItemKnn (source items of
   * the cold users, re-indexed to their target user rows).
   */
  history?: Interactions;
  /** Candidate items to mask per user (training items; rows = test user rows). ItemKnn also masks the history. */
  exclude?: Interactions;
  /** ItemKnn: never return a user's history items. Default true. */
  excludeHistory?: boolean;
  /** Evaluate only these user rows. Default: every user with a test item. */
  users?: Int32Array | ReadonlyArray<number>;
  /** Per-item training counts for arp. Default: exclude's item counts. */
  popularity?: ArrayLike<number>;
  /** Users per native call. Default 16384. */
  chunkSize?: number;
  /** Also return each evaluated user's metrics (perUser, as evaluateRanking does). Default false. */
  perUser?: boolean;
}

export interface NeighbourMetrics extends RankingMetrics {
  /** History entries skipped as unknown to the model (summed over evaluated users). */
  historySkipped: number;
  /** Evaluated users whose history yielded no recommendation at all. */
  emptyLists: number;
}

/** Recall, precision, NDCG, hit, MRR, MAP and coverage @K of a neighbourhood model (full ranking). */
export async function evaluateItemKnn(
  model: ItemKnn | CrossDomainItemKnn,
  test: Interactions,
  options?: NeighbourEvaluationOptions,
): Promise<NeighbourMetrics> {
  if (!(model instanceof ItemKnn) && !(model instanceof CrossDomainItemKnn))
    throw typeError('model', 'ItemKnn or CrossDomainItemKnn', model);
  if (!(test instanceof Interactions)) throw typeError('test', 'Interactions', test);
  const o = expectOptions('options', options);
  const cut = resolveCutoffs(o.k, o.ks);
  const items = model.candidateItems;
  if (test.numItems > items) throw rangeError('test', `interactions over at most ${items} items`, test);
  if (o.exclude !== undefined && !(o.exclude instanceof Interactions)) throw typeError('options.exclude', 'Interactions', o.exclude);
  if (o.exclude && o.exclude.numItems > items) throw rangeError('options.exclude', `interactions over at most ${items} items`, o.exclude);
  if (o.history !== undefined && !(o.history instanceof Interactions)) throw typeError('options.history', 'Interactions', o.history);
  const historySource = o.history ?? (model instanceof ItemKnn ? o.exclude : undefined);
  if (!historySource) throw typeError('options.history', 'Interactions (each user’s history)', o.history);
  const chunkSize = o.chunkSize === undefined ? 16_384 : expectInteger('options.chunkSize', o.chunkSize, 1, 1 << 20);
  const signal = expectSignal('options.signal', o.signal);
  const popularity = o.popularity ?? o.exclude?.itemCounts() ?? null;
  const perUser = o.perUser === undefined ? false : expectBoolean('options.perUser', o.perUser);

  const truth = test.byUser();
  const hist = historySource.byUser();
  const seen = o.exclude?.byUser() ?? null;
  const scope = o.users === undefined ? null : toIndexArray('options.users', o.users, test.numUsers);
  const candidates = scope ? Array.from(new Set(scope)).sort((a, b) => a - b) : Array.from({ length: test.numUsers }, (_, u) => u);
  const users = Int32Array.from(candidates.filter((u) => truth.offsets[u + 1] > truth.offsets[u]));
  if (users.length === 0) throw new RecbridgeError('ERR_NATIVE', 'No user in scope has a test item: nothing to evaluate');

  const acc = new GroupAccumulator(cut.ks, items);
  const per = perUser ? perUserArrays(users, cut.ks, false) : null;
  const values = new Float64Array(cut.ks.length * METRIC_COUNT);
  let historySkipped = 0;
  let emptyLists = 0;
  const segment = (csr: { offsets: Int32Array; indices: Int32Array }, u: number) =>
    u < csr.offsets.length - 1 ? csr.indices.subarray(csr.offsets[u], csr.offsets[u + 1]) : csr.indices.subarray(0, 0);

  for (let start = 0; start < users.length; start += chunkSize) {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const part = users.subarray(start, Math.min(start + chunkSize, users.length));
    const histories = part.length ? Array.from(part, (u) => segment(hist, u)) : [];
    const exclude = seen ? Array.from(part, (u) => segment(seen, u)) : undefined;
    const batch = {
      aggregate: o.aggregate,
      shrink: o.shrink,
      recencyDecay: o.recencyDecay,
      unknownItems: o.unknownItems,
      threads: o.threads,
      signal,
    };
    const top =
      model instanceof ItemKnn
        ? await model.recommendBatch(histories, cut.max, { ...batch, exclude, excludeHistory: o.excludeHistory })
        : await model.recommendBatch(histories, cut.max, { ...batch, exclude });
    for (let i = 0; i < part.length; i++) {
      const u = part[i];
      const { indices, skipped } = top.query(i);
      historySkipped += skipped;
      if (indices.length === 0) emptyLists++;
      userMetrics(indices, truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]), cut.ks, popularity, values);
      acc.add(values, indices, 0);
      if (per) storeUser(per, start + i, values, cut.ks, 0);
    }
  }
  const { byK } = acc.result(popularity !== null);
  return {
    users: acc.users,
    skipped: (scope ? candidates.length : test.numUsers) - users.length,
    k: cut.k,
    ...byK[cut.k],
    byK,
    historySkipped,
    emptyLists,
    ...(per ? { perUser: per } : {}),
  };
}

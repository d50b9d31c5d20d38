/**
 * Full-ranking evaluation: every candidate item is scored, the user's training items are masked
 * inside the top-K kernel, and metrics are averaged over users with at least one test item.
 * (The data and evaluation issue extends this with slices, sampled protocols and reports.)
 */
import { RecbridgeError } from '../errors';
import type { EmbeddingTable } from '../table';
import { scoreItems, topKBatch } from '../scoring';
import type { Interactions } from '../train/interactions';
import { expectOptions, expectPositiveInteger, typeError } from '../validate';

/**
 * What full-ranking evaluation needs from a model: the item table to score and each user's query
 * vector. MatrixFactorization is one; encoded two-tower towers are another (evaluateTwoTower).
 */
export interface RankingModel {
  readonly users: number;
  readonly items: number;
  encodeItems(): EmbeddingTable;
  userQuery(u: number): Float32Array;
}

export interface RankingOptions {
  /** Cut-off. Default 10. */
  k?: number;
  /** Items to mask per user (their training items). Default: none. */
  exclude?: Interactions;
  /** Also compute AUC (scores every item for every user: slower). Default false. */
  auc?: boolean;
  threads?: number;
}

export interface RankingMetrics {
  users: number;
  recall: number;
  precision: number;
  ndcg: number;
  hit: number;
  mrr: number;
  /** Present when options.auc was set. */
  auc?: number;
}

export async function evaluateRanking(model: RankingModel, test: Interactions, options?: RankingOptions): Promise<RankingMetrics> {
  const o = expectOptions('options', options);
  const k = o.k === undefined ? 10 : expectPositiveInteger('options.k', o.k);
  if (test.numItems > model.items || test.numUsers > model.users) {
    throw typeError('test', `interactions within the model (${model.users} users, ${model.items} items)`, test);
  }
  const truth = test.byUser();
  const seen = o.exclude?.byUser();
  const users: number[] = [];
  for (let u = 0; u < test.numUsers; u++) if (truth.offsets[u + 1] > truth.offsets[u]) users.push(u);
  if (users.length === 0) throw new RecbridgeError('ERR_NATIVE', 'No user has a test item: nothing to evaluate');
  const items = model.encodeItems();
  const queries = new Float32Array(users.length * items.dim);
  users.forEach((u, i) => queries.set(model.userQuery(u), i * items.dim));
  const exclude = users.map((u) => (seen && u < seen.offsets.length - 1 ? seen.indices.subarray(seen.offsets[u], seen.offsets[u + 1]) : null));
  const top = await topKBatch(items, queries, k, { exclude, threads: o.threads });

  let recall = 0, precision = 0, ndcg = 0, hit = 0, mrr = 0, auc = 0;
  users.forEach((u, qi) => {
    const relevant = new Set(truth.indices.subarray(truth.offsets[u], truth.offsets[u + 1]));
    const got = top.query(qi).indices;
    let hits = 0, dcg = 0, first = 0;
    got.forEach((item, rank) => {
      if (!relevant.has(item)) return;
      hits++;
      dcg += 1 / Math.log2(rank + 2);
      if (!first) first = rank + 1;
    });
    let idcg = 0;
    for (let r = 0; r < Math.min(relevant.size, k); r++) idcg += 1 / Math.log2(r + 2);
    recall += hits / relevant.size;
    precision += hits / k;
    ndcg += dcg / idcg;
    hit += hits > 0 ? 1 : 0;
    mrr += first ? 1 / first : 0;
    if (o.auc) auc += userAuc(model, u, relevant, exclude[qi]);
  });
  const n = users.length;
  const out: RankingMetrics = { users: n, recall: recall / n, precision: precision / n, ndcg: ndcg / n, hit: hit / n, mrr: mrr / n };
  if (o.auc) out.auc = auc / n;
  return out;
}

// Probability that a random test item outranks a random non-test, non-masked item.
function userAuc(model: RankingModel, u: number, relevant: Set<number>, masked: Int32Array | null): number {
  const scores = scoreItems(model.encodeItems(), model.userQuery(u));
  const skip = new Set(masked ?? []);
  const pos: number[] = [];
  const neg: number[] = [];
  scores.forEach((s, i) => {
    if (relevant.has(i)) pos.push(s);
    else if (!skip.has(i)) neg.push(s);
  });
  if (!pos.length || !neg.length) return 0.5;
  neg.sort((a, b) => a - b);
  let wins = 0;
  for (const s of pos) {
    let lo = 0, hi = neg.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (neg[mid] < s) lo = mid + 1;
      else hi = mid;
    }
    let ties = lo;
    while (ties < neg.length && neg[ties] === s) ties++;
    wins += lo + (ties - lo) / 2;
  }
  return wins / (pos.length * neg.length);
}

// Ranking models with hand-chosen scores for metric tests.
import { EmbeddingTable } from '../../lib/core/table';
import type { RankingModel } from '../../lib/eval/ranking';
import { randomFloats } from '../support/data';

/**
 * score(u, i) = scores[u][i] exactly: the item table is the identity matrix and user u's query is
 * its score row.
 */
export function scoredModel(scores: number[][]): RankingModel {
  const items = scores[0].length;
  const table = EmbeddingTable.create(items, items);
  for (let i = 0; i < items; i++) table.data[i * items + i] = 1;
  return { users: scores.length, items, encodeItems: () => table, userQuery: (u) => Float32Array.from(scores[u]) };
}

/** A random dense model (users × dim queries, items × dim table). */
export function randomModel(users: number, items: number, dim: number, seed: number): RankingModel {
  const table = new EmbeddingTable(randomFloats(items * dim, seed), dim);
  const q = randomFloats(users * dim, seed + 1);
  return { users, items, encodeItems: () => table, userQuery: (u) => q.subarray(u * dim, (u + 1) * dim) };
}

/**
 * What every transfer strategy produces: a vector per target user (or none) scored against the
 * target item vectors. Users without a vector fall back to popularity, inside the same top-K kernel
 * path: item rows carry one extra column with the item's normalised popularity, a user with a
 * vector queries [vector, 0] and a user without one queries [0…0, 1].
 */
import { RecbridgeError } from '../core/errors';
import type { RankingModel } from '../eval/ranking';
import { EmbeddingTable } from '../core/table';
import type { Interactions } from '../data/interactions';
import { MatrixFactorization } from '../models/matrix-factorization';

export class UserVectorsModel implements RankingModel {
  private readonly table: EmbeddingTable;
  readonly dim: number;

  constructor(
    /** users × dim, row-major. */
    readonly userVectors: Float32Array,
    /** 1 where the user has a vector. */
    readonly hasVector: Uint8Array,
    items: EmbeddingTable,
    popularity: Float32Array,
  ) {
    this.dim = items.dim;
    const d = items.dim;
    if (!(userVectors instanceof Float32Array) || userVectors.length < hasVector.length * d) {
      throw new RecbridgeError(
        'ERR_DIMENSION_MISMATCH',
        `userVectors must hold ${hasVector.length} rows of ${d} (the item width); it holds ${userVectors?.length} values`,
      );
    }
    this.table = EmbeddingTable.create(items.rows, d + 1);
    for (let i = 0; i < items.rows; i++) {
      this.table.data.set(items.data.subarray(i * d, (i + 1) * d), i * (d + 1));
      this.table.data[i * (d + 1) + d] = popularity[i] ?? 0;
    }
  }

  get users(): number {
    return this.hasVector.length;
  }

  get items(): number {
    return this.table.rows;
  }

  encodeItems(): EmbeddingTable {
    return this.table;
  }

  userQuery(u: number): Float32Array {
    const q = new Float32Array(this.dim + 1);
    if (this.hasVector[u]) q.set(this.userVectors.subarray(u * this.dim, (u + 1) * this.dim));
    else q[this.dim] = 1;
    return q;
  }

  /** How many users fall back to popularity. */
  get fallbackUsers(): number {
    let n = 0;
    for (const h of this.hasVector) n += h ? 0 : 1;
    return n;
  }
}

/** Item counts scaled to [0, 1] (ties broken by the kernel's lower-index rule). */
export function normalisedPopularity(train: Interactions, items: number): Float32Array {
  const counts = new Float32Array(items);
  for (const i of train.items) counts[i]++;
  let max = 0;
  for (const c of counts) if (c > max) max = c;
  if (max > 0) for (let i = 0; i < items; i++) counts[i] /= max;
  return counts;
}

/**
 * Any dot-product ranking model (a strategy's UserVectorsModel, the target-only model, popularity)
 * as a MatrixFactorization that ranks exactly as it does, to save and serve it: each user's row is
 * its query, each item's row its encoded vector.
 */
export function toMatrixFactorization(model: RankingModel): MatrixFactorization {
  const items = model.encodeItems();
  const d = items.dim;
  const mf = new MatrixFactorization({ users: model.users, items: model.items, dim: d, initScale: 0 });
  const users = mf.userEmbedding.table.data;
  for (let u = 0; u < model.users; u++) users.set(model.userQuery(u).subarray(0, d), u * d);
  mf.itemEmbedding.table.data.set(items.data.subarray(0, model.items * d));
  return mf;
}

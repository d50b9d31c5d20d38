// A small matrix-factorization model with external ids and seen items, shared by the serving tests.
import { EmbeddingTable, Interactions, MatrixFactorization, Vocabulary } from '../../lib';
import { uniformGenerator } from '../../lib/core/random';

export interface Fixture {
  model: MatrixFactorization;
  users: Vocabulary;
  items: Vocabulary;
  seen: Interactions;
}

export function fixture(options: { users?: number; items?: number; dim?: number; seed?: number; itemBias?: boolean } = {}): Fixture {
  const nu = options.users ?? 40;
  const ni = options.items ?? 300;
  const dim = options.dim ?? 8;
  const seed = options.seed ?? 1;
  const model = new MatrixFactorization({ users: nu, items: ni, dim, seed, initScale: 1, itemBias: options.itemBias });
  if (model.itemBias) model.itemBias.table.data.forEach((_, i, a) => (a[i] = ((i * 7919) % 13) / 13 - 0.5));
  const u = uniformGenerator(seed + 99);
  const pairs: [number, number][] = [];
  for (let user = 0; user < nu; user++) for (let j = 0; j < 12; j++) pairs.push([user, Math.floor(u() ** 2 * ni)]);
  return {
    model,
    users: new Vocabulary(Array.from({ length: nu }, (_, i) => `user-${i}`)),
    items: new Vocabulary(Array.from({ length: ni }, (_, i) => `item-${i}`)),
    seen: Interactions.fromPairs(pairs, { numUsers: nu, numItems: ni }),
  };
}

/** A table of uniform values in [-1, 1) filled by a plain LCG: seeded normal init is slow under jest for millions of values. */
export function lcgTable(rows: number, dim: number, seed: number): EmbeddingTable {
  const t = EmbeddingTable.create(rows, dim);
  let x = seed + 1;
  for (let i = 0; i < t.data.length; i++) {
    x = (x * 48271) % 2147483647;
    t.data[i] = (x / 2147483647) * 2 - 1;
  }
  return t;
}

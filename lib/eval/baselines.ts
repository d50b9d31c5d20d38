/**
 * Baselines that go through the same top-K kernel path as real models (so masking, ties and
 * metrics are identical): PopularityModel ranks by training count, RandomModel by seeded noise.
 */
import { normalGenerator } from '../core/random';
import { EmbeddingTable } from '../core/table';
import { Interactions } from '../data/interactions';
import { expectInteger, expectOptions, rangeError, typeError } from '../core/validate';
import type { RankingModel } from './ranking';
import { mixSeed } from './seed-mix';

/**
 * Every user gets the most frequent training items: a one-column item table of counts and the
 * query [1]. Equal counts are ordered by the lower item index (the kernel's tie rule).
 */
export class PopularityModel implements RankingModel {
  readonly users: number;
  readonly items: number;
  /** Training count per item. */
  readonly counts: Float32Array;
  private readonly table: EmbeddingTable;

  private constructor(counts: Float32Array, users: number) {
    this.counts = counts;
    this.users = users;
    this.items = counts.length;
    this.table = EmbeddingTable.create(counts.length, 1);
    this.table.data.set(counts);
  }

  /**
   * Counts each item's interactions in `train`. `options.users` / `options.items` size the model
   * beyond the data (default: the data's numUsers / numItems).
   */
  static fit(train: Interactions, options?: { users?: number; items?: number }): PopularityModel {
    if (!(train instanceof Interactions)) throw typeError('train', 'Interactions', train);
    const o = expectOptions('options', options);
    const users = o.users === undefined ? train.numUsers : expectInteger('options.users', o.users, train.numUsers, 2 ** 31 - 1);
    const items = o.items === undefined ? train.numItems : expectInteger('options.items', o.items, train.numItems, 2 ** 31 - 1);
    if (items === 0) throw rangeError('train', 'interactions over at least one item', train);
    const counts = new Float32Array(items);
    counts.set(train.itemCounts());
    return new PopularityModel(counts, users);
  }

  encodeItems(): EmbeddingTable {
    return this.table;
  }

  /** The same query for everyone (a fresh array: callers may keep it). */
  userQuery(): Float32Array {
    return Float32Array.of(1);
  }
}

export interface RandomModelOptions {
  users: number;
  items: number;
  /** Default 0. */
  seed?: number;
  /** Width of the random vectors. Default 16. */
  dim?: number;
}

/**
 * A seeded random ranker: Gaussian item vectors, and per user a Gaussian query drawn from
 * (seed, user) alone, so a user's list is the same whatever else is evaluated, and changes with
 * the seed.
 */
export class RandomModel implements RankingModel {
  readonly users: number;
  readonly items: number;
  readonly seed: number;
  readonly dim: number;
  private readonly table: EmbeddingTable;

  constructor(options: RandomModelOptions) {
    const o = expectOptions('options', options);
    this.users = expectInteger('options.users', o.users, 0, 2 ** 31 - 1);
    this.items = expectInteger('options.items', o.items, 1, 2 ** 31 - 1);
    this.seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 1);
    this.dim = o.dim === undefined ? 16 : expectInteger('options.dim', o.dim, 1, 4096);
    this.table = EmbeddingTable.create(this.items, this.dim, { init: 'normal', seed: mixSeed(this.seed, 0x17e45) });
  }

  encodeItems(): EmbeddingTable {
    return this.table;
  }

  userQuery(u: number): Float32Array {
    const next = normalGenerator(mixSeed(this.seed, u));
    const q = new Float32Array(this.dim);
    for (let i = 0; i < this.dim; i++) q[i] = next();
    return q;
  }
}

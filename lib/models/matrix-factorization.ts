/**
 * Matrix factorization: a user embedding table, an item embedding table and optional item biases;
 * score(u, i) = <user_u, item_i> + bias_i. Trained by Trainer with BPR.
 */
import { EmbeddingTable } from '../core/table';
import { expectBoolean, expectInteger, expectOptions, expectPositiveInteger, typeError } from '../core/validate';
import { Model } from './model';
import { Parameter, adoptingTables, newParameterTable } from './parameter';

export interface MatrixFactorizationOptions {
  /** Number of users (rows of user.embedding). */
  users: number;
  /** Number of items (rows of item.embedding). */
  items: number;
  /** Embedding dimension. Default 64. */
  dim?: number;
  /** Learn a bias per item (item.bias). Default false. */
  itemBias?: boolean;
  /** Seed of the Gaussian initialisation. Default 0. */
  seed?: number;
  /** Standard deviation of the initial embeddings. Default 0.1. */
  initScale?: number;
  /**
   * Use this user embedding instead of a new one (its rows must equal `users` and its width `dim`):
   * two models sharing it train one user vector on two domains' data (CMF-style joint training).
   * reset() leaves a shared table's weights alone.
   */
  sharedUserEmbedding?: Parameter;
}

export class MatrixFactorization extends Model {
  readonly kind = 'matrix-factorization';
  readonly dim: number;
  readonly userEmbedding: Parameter;
  readonly itemEmbedding: Parameter;
  readonly itemBias: Parameter | null;
  private readonly seed: number;
  private readonly initScale: number;
  private readonly sharesUsers: boolean;

  constructor(options: MatrixFactorizationOptions) {
    super();
    const o = expectOptions('options', options);
    const users = expectInteger('options.users', o.users, 1, 2 ** 31 - 1);
    const items = expectInteger('options.items', o.items, 1, 2 ** 31 - 1);
    this.dim = o.dim === undefined ? 64 : expectPositiveInteger('options.dim', o.dim, 1 << 16);
    const seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 2);
    const scale = o.initScale ?? 0.1;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) throw typeError('options.initScale', 'finite number ≥ 0', scale);
    this.seed = seed;
    this.initScale = scale;
    // Shared memory: training reads and writes these in place from native threads (see shared-memory.ts).
    const sharedUser = o.sharedUserEmbedding;
    if (sharedUser !== undefined) {
      if (!(sharedUser instanceof Parameter)) throw typeError('options.sharedUserEmbedding', 'Parameter', sharedUser);
      if (sharedUser.rows !== users || sharedUser.table.dim !== this.dim) {
        throw typeError(
          'options.sharedUserEmbedding',
          `a ${users} × ${this.dim} parameter`,
          `${sharedUser.rows} × ${sharedUser.table.dim}`,
        );
      }
    }
    this.sharesUsers = sharedUser !== undefined;
    this.userEmbedding = sharedUser ?? new Parameter('user.embedding', newParameterTable('user.embedding', users, this.dim));
    this.itemEmbedding = new Parameter('item.embedding', newParameterTable('item.embedding', items, this.dim));
    const bias = o.itemBias === undefined ? false : expectBoolean('options.itemBias', o.itemBias);
    this.itemBias = bias ? new Parameter('item.bias', newParameterTable('item.bias', items, 1)) : null;
    // A loaded model adopts its saved tables (see loadModel): nothing to initialise.
    if (!adoptingTables()) this.reset();
  }

  /**
   * Back to the initial state: weights re-drawn from the seed (biases zero), optimizer state
   * cleared, epoch count 0. Freezing flags and learning-rate multipliers are kept.
   */
  reset(): void {
    const draw = (t: EmbeddingTable, seed: number) =>
      t.data.set(EmbeddingTable.create(t.rows, t.dim, { init: 'normal', seed, scale: this.initScale }).data);
    if (!this.sharesUsers) draw(this.userEmbedding.table, this.seed);
    draw(this.itemEmbedding.table, this.seed + 1);
    this.itemBias?.table.data.fill(0);
    for (const p of this.parameters()) if (p !== this.userEmbedding || !this.sharesUsers) p.resetOptimizerState();
    this.epochsTrained = 0;
  }

  get users(): number {
    return this.userEmbedding.rows;
  }

  get items(): number {
    return this.itemEmbedding.rows;
  }

  /** The options that rebuild this model's shape and initialisation (what saveModel records). */
  config(): Required<Pick<MatrixFactorizationOptions, 'users' | 'items' | 'dim' | 'itemBias' | 'seed' | 'initScale'>> {
    return {
      users: this.users,
      items: this.items,
      dim: this.dim,
      itemBias: this.itemBias !== null,
      seed: this.seed,
      initScale: this.initScale,
    };
  }

  parameters(): Parameter[] {
    return [this.userEmbedding, this.itemEmbedding, ...(this.itemBias ? [this.itemBias] : [])];
  }

  /**
   * Adds `count` user rows (new users folded in later, see foldInUsers); existing rows and optimizer
   * state are kept. Returns the first new row. New rows start at zero unless initScale is given.
   */
  growUsers(count: number, initScale = 0): number {
    const release = this.acquire('growUsers');
    try {
      return this.userEmbedding.grow(count, { scale: initScale, seed: this.seed + 7 + this.users });
    } finally {
      release();
    }
  }

  /** Adds `count` item rows (and bias entries); returns the first new row. */
  growItems(count: number, initScale = 0): number {
    const release = this.acquire('growItems');
    try {
      this.itemBias?.grow(count);
      return this.itemEmbedding.grow(count, { scale: initScale, seed: this.seed + 11 + this.items });
    } finally {
      release();
    }
  }

  /** The user vectors for scoring (the embedding table itself: no copy). */
  encodeUsers(): EmbeddingTable {
    return this.userEmbedding.table;
  }

  /**
   * The item vectors for scoring with topK. With item biases the table gets one extra column
   * holding the bias, so pair it with userQuery(u), which appends a 1.
   */
  encodeItems(): EmbeddingTable {
    if (!this.itemBias) return this.itemEmbedding.table;
    const d = this.dim;
    const out = EmbeddingTable.create(this.items, d + 1);
    const w = this.itemEmbedding.table.data;
    const b = this.itemBias.table.data;
    for (let i = 0; i < this.items; i++) {
      out.data.set(w.subarray(i * d, (i + 1) * d), i * (d + 1));
      out.data[i * (d + 1) + d] = b[i]!; // the bias table has one row per item
    }
    return out;
  }

  /** User u's query vector matching encodeItems() (a view without biases, a copy + 1 with them). */
  userQuery(u: number): Float32Array {
    const row = this.userEmbedding.table.row(u);
    if (!this.itemBias) return row;
    const q = new Float32Array(this.dim + 1);
    q.set(row);
    q[this.dim] = 1;
    return q;
  }
}

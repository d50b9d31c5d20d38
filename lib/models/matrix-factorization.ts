/**
 * Matrix factorization: a user embedding table, an item embedding table and optional item biases;
 * score(u, i) = <user_u, item_i> + bias_i. Trained by Trainer with BPR.
 */
import { RecbridgeError } from '../errors';
import { EmbeddingTable } from '../table';
import { expectBoolean, expectInteger, expectOptions, expectPositiveInteger, typeError } from '../validate';
import { Parameter, matchesPattern } from './parameter';

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
}

export class MatrixFactorization {
  readonly kind = 'matrix-factorization';
  readonly dim: number;
  readonly userEmbedding: Parameter;
  readonly itemEmbedding: Parameter;
  readonly itemBias: Parameter | null;
  /** Epochs trained so far (fitPartial continues the count, so random streams never repeat). */
  epochsTrained = 0;
  private busyWith: string | null = null;
  private readonly seed: number;
  private readonly initScale: number;

  constructor(options: MatrixFactorizationOptions) {
    const o = expectOptions('options', options);
    const users = expectInteger('options.users', o.users, 1, 2 ** 31 - 1);
    const items = expectInteger('options.items', o.items, 1, 2 ** 31 - 1);
    this.dim = o.dim === undefined ? 64 : expectPositiveInteger('options.dim', o.dim, 1 << 16);
    const seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 2);
    const scale = o.initScale ?? 0.1;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) throw typeError('options.initScale', 'finite number ≥ 0', scale);
    this.seed = seed;
    this.initScale = scale;
    this.userEmbedding = new Parameter('user.embedding', EmbeddingTable.create(users, this.dim));
    this.itemEmbedding = new Parameter('item.embedding', EmbeddingTable.create(items, this.dim));
    const bias = o.itemBias === undefined ? false : expectBoolean('options.itemBias', o.itemBias);
    this.itemBias = bias ? new Parameter('item.bias', EmbeddingTable.create(items, 1)) : null;
    this.reset();
  }

  /**
   * Back to the initial state: weights re-drawn from the seed (biases zero), optimizer state
   * cleared, epoch count 0. Freezing flags and learning-rate multipliers are kept.
   */
  reset(): void {
    const draw = (t: EmbeddingTable, seed: number) => t.data.set(EmbeddingTable.create(t.rows, t.dim, { init: 'normal', seed, scale: this.initScale }).data);
    draw(this.userEmbedding.table, this.seed);
    draw(this.itemEmbedding.table, this.seed + 1);
    this.itemBias?.table.data.fill(0);
    for (const p of this.parameters()) p.resetOptimizerState();
    this.epochsTrained = 0;
  }

  get users(): number {
    return this.userEmbedding.rows;
  }

  get items(): number {
    return this.itemEmbedding.rows;
  }

  /** Every parameter, by name. */
  parameters(): Parameter[] {
    return [this.userEmbedding, this.itemEmbedding, ...(this.itemBias ? [this.itemBias] : [])];
  }

  parameter(name: string): Parameter {
    const p = this.parameters().find((x) => x.name === name);
    if (!p) throw typeError('name', `one of ${this.parameters().map((x) => JSON.stringify(x.name)).join(', ')}`, name);
    return p;
  }

  /** Freezes every parameter whose name matches the pattern ('item.*', 'user.embedding', '*'). */
  freeze(pattern: string): Parameter[] {
    return this.setTrainable(pattern, false);
  }

  unfreeze(pattern: string): Parameter[] {
    return this.setTrainable(pattern, true);
  }

  private setTrainable(pattern: string, value: boolean): Parameter[] {
    if (typeof pattern !== 'string') throw typeError('pattern', 'string', pattern);
    const hit = this.parameters().filter((p) => matchesPattern(p.name, pattern));
    if (hit.length === 0) throw typeError('pattern', `a pattern matching one of ${this.parameters().map((x) => x.name).join(', ')}`, pattern);
    for (const p of hit) p.trainable = value;
    return hit;
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
      out.data[i * (d + 1) + d] = b[i];
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

  /** Marks the model busy for one operation; a second one gets ERR_BUSY instead of racing. */
  acquire(operation: string): () => void {
    if (this.busyWith !== null) {
      throw new RecbridgeError('ERR_BUSY', `The model is busy (${this.busyWith}); wait for it to finish before ${operation}`);
    }
    this.busyWith = operation;
    return () => {
      this.busyWith = null;
    };
  }

  get busy(): boolean {
    return this.busyWith !== null;
  }
}

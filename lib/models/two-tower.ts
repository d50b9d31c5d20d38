/**
 * TwoTower: a user tower and an item tower, each mapping an entity to a vector; score(u, i) is the
 * dot product (or cosine) of the two vectors. A tower sums up to three inputs — an id embedding,
 * a mean-pooled bag of feature embeddings and a projected dense feature vector — and then runs an
 * optional MLP (ReLU between layers, none after the last). Trained by trainTwoTower with in-batch
 * sampled softmax; encodeUsers()/encodeItems() give EmbeddingTables for topK.
 */
import { types } from 'node:util';

import { RecbridgeError } from '../core/errors';
import { native, type NativeTowerParam, type NativeTowerSpec } from '../core/native';
import { normalGenerator } from '../core/random';
import { EmbeddingTable } from '../core/table';
import {
  expectBoolean,
  expectFinite,
  expectInteger,
  expectOptions,
  expectPositiveInteger,
  lengthError,
  rangeError,
  typeError,
} from '../core/validate';
import { Model } from './model';
import { Parameter, adoptingTables, newParameterTable, type OptimizerStateKind } from './parameter';
import { sharedCopy, sharedFloat32 } from '../core/shared-memory';

export interface TowerOptions {
  /** Learn one embedding row per entity (`<side>.embedding`). Default true. */
  idEmbedding?: boolean;
  /**
   * A bag of categorical features per entity, mean-pooled over `<side>.features.embedding`
   * (vocabulary × dim). Entity e's features are `bags.indices[bags.offsets[e] .. bags.offsets[e+1])`;
   * offsets has one entry per entity plus one, starts at 0 and never decreases. An empty bag adds
   * nothing. The arrays are copied.
   */
  features?: { vocabulary: number; bags: { offsets: Int32Array; indices: Int32Array } };
  /**
   * A dense feature vector per entity (row-major, entities × dim, finite), mapped to the tower's
   * width by a learned projection (`<side>.dense.projection.weight` dim × dense.dim and `.bias`).
   * Copied.
   */
  dense?: { values: Float32Array; dim: number };
  /**
   * Hidden sizes of the MLP after the summed input; the last is the output size. ReLU between
   * layers, none after the last. Default: no MLP (the output is the summed input, width `dim`).
   */
  mlp?: number[];
}

export interface TwoTowerOptions {
  /** Number of users (rows of user.embedding, entries of the user feature bags). */
  users: number;
  /** Number of items. */
  items: number;
  /** Width of each tower's summed input (embedding dimension). Default 64. */
  dim?: number;
  /** The user tower. Default: `{ idEmbedding: true }`. */
  user?: TowerOptions;
  /** The item tower. Default: `{ idEmbedding: true }`. */
  item?: TowerOptions;
  /** 'dot' (default) or 'cosine' (vectors L2-normalised before the product; encode* returns them normalised). */
  similarity?: 'dot' | 'cosine';
  /** Logits are divided by this (> 0). Default 1; cosine similarity usually wants 0.05–0.2. */
  temperature?: number;
  /** Seed of the initialisation. Default 0. */
  seed?: number;
  /** Standard deviation of the initial embedding rows. Default 0.1. */
  initScale?: number;
}

type Side = 'user' | 'item';

interface DenseLayerParams {
  weight: Parameter;
  bias: Parameter;
}

interface Tower {
  side: Side;
  entities: number;
  embedding: Parameter | null;
  features: { table: Parameter; offsets: Int32Array; indices: Int32Array } | null;
  dense: { values: Float32Array; dim: number; weight: Parameter; bias: Parameter } | null;
  mlp: DenseLayerParams[];
  outDim: number;
}

/** How training reads the parameters: which optimizer state each kind of table needs. */
export interface TowerStateKinds {
  embedding: 'adagrad' | 'rowwise-adagrad' | 'adam' | null;
  dense: 'adam' | null;
}

function checkBags(argument: string, bags: unknown, entities: number, vocabulary: number): { offsets: Int32Array; indices: Int32Array } {
  const b = expectOptions(argument, bags as { offsets: Int32Array; indices: Int32Array });
  if (!types.isInt32Array(b.offsets)) throw typeError(`${argument}.offsets`, 'Int32Array', b.offsets);
  if (!types.isInt32Array(b.indices)) throw typeError(`${argument}.indices`, 'Int32Array', b.indices);
  const offsets = sharedCopy(b.offsets);
  const indices = sharedCopy(b.indices);
  if (offsets.length !== entities + 1)
    throw lengthError(`${argument}.offsets`, `length ${entities + 1} (one per entity plus one)`, offsets);
  if (offsets[0] !== 0) throw rangeError(`${argument}.offsets[0]`, '0', offsets[0]);
  for (let e = 0; e < entities; e++) {
    // e + 1 ≤ entities: offsets has entities + 1 entries (checked above).
    if (offsets[e + 1]! < offsets[e]!)
      throw rangeError(`${argument}.offsets[${e + 1}]`, `integer ≥ ${offsets[e]} (offsets never decrease)`, offsets[e + 1]);
  }
  if (offsets[entities] !== indices.length)
    throw lengthError(`${argument}.offsets[${entities}]`, `${indices.length} (the number of indices)`, offsets[entities]);
  for (let i = 0; i < indices.length; i++) {
    const x = indices[i]!;
    if (x < 0 || x >= vocabulary) throw rangeError(`${argument}.indices[${i}]`, `integer in [0, ${vocabulary})`, x);
  }
  return { offsets, indices };
}

export class TwoTower extends Model {
  readonly kind = 'two-tower';
  readonly dim: number;
  readonly similarity: 'dot' | 'cosine';
  readonly temperature: number;
  /** Width of the vectors both towers produce. */
  readonly outputDim: number;
  /** Epochs trained so far (fitPartial continues the count). */
  private readonly towers: Record<Side, Tower>;
  private readonly seed: number;
  private readonly initScale: number;

  constructor(options: TwoTowerOptions) {
    super();
    const o = expectOptions('options', options);
    const users = expectInteger('options.users', o.users, 1, 2 ** 31 - 2);
    const items = expectInteger('options.items', o.items, 1, 2 ** 31 - 2);
    this.dim = o.dim === undefined ? 64 : expectPositiveInteger('options.dim', o.dim, 1 << 16);
    this.similarity = o.similarity ?? 'dot';
    if (this.similarity !== 'dot' && this.similarity !== 'cosine')
      throw rangeError('options.similarity', '"dot" or "cosine"', o.similarity);
    const t = o.temperature ?? 1;
    if (typeof t !== 'number') throw typeError('options.temperature', 'number', t);
    if (!Number.isFinite(t) || t < 1e-6 || t > 1e6) throw rangeError('options.temperature', 'finite number in [1e-6, 1e6]', t);
    this.temperature = t;
    this.seed = o.seed === undefined ? 0 : expectInteger('options.seed', o.seed, 0, 2 ** 32 - 64);
    const scale = o.initScale ?? 0.1;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) throw typeError('options.initScale', 'finite number ≥ 0', scale);
    this.initScale = scale;
    this.towers = { user: this.buildTower('user', users, o.user), item: this.buildTower('item', items, o.item) };
    if (this.towers.user.outDim !== this.towers.item.outDim) {
      throw rangeError(
        'options.item.mlp',
        `an output size equal to the user tower's (${this.towers.user.outDim})`,
        this.towers.item.outDim,
      );
    }
    this.outputDim = this.towers.user.outDim;
    // A loaded model adopts its saved tables (see loadModel): nothing to initialise.
    if (!adoptingTables()) this.reset();
  }

  private buildTower(side: Side, entities: number, options: TowerOptions | undefined): Tower {
    const arg = `options.${side}`;
    const o = expectOptions(arg, options);
    const d = this.dim;
    const idEmbedding = o.idEmbedding === undefined ? true : expectBoolean(`${arg}.idEmbedding`, o.idEmbedding);
    const tower: Tower = { side, entities, embedding: null, features: null, dense: null, mlp: [], outDim: d };
    if (idEmbedding) tower.embedding = new Parameter(`${side}.embedding`, newParameterTable(`${side}.embedding`, entities, d));
    if (o.features !== undefined) {
      const f = expectOptions(`${arg}.features`, o.features);
      const vocabulary = expectInteger(`${arg}.features.vocabulary`, f.vocabulary, 1, 2 ** 31 - 2);
      const bags = checkBags(`${arg}.features.bags`, f.bags, entities, vocabulary);
      tower.features = {
        table: new Parameter(`${side}.features.embedding`, newParameterTable(`${side}.features.embedding`, vocabulary, d)),
        ...bags,
      };
    }
    if (o.dense !== undefined) {
      const x = expectOptions(`${arg}.dense`, o.dense);
      const dd = expectPositiveInteger(`${arg}.dense.dim`, x.dim, 1 << 16);
      if (!types.isFloat32Array(x.values)) throw typeError(`${arg}.dense.values`, 'Float32Array', x.values);
      if (x.values.length !== entities * dd)
        throw lengthError(`${arg}.dense.values`, `length ${entities * dd} (${entities} entities × dim ${dd})`, x.values);
      expectFinite(`${arg}.dense.values`, x.values);
      tower.dense = {
        values: sharedCopy(Float32Array.from(x.values)),
        dim: dd,
        weight: new Parameter(`${side}.dense.projection.weight`, newParameterTable(`${side}.dense.projection.weight`, d, dd)),
        bias: new Parameter(`${side}.dense.projection.bias`, newParameterTable(`${side}.dense.projection.bias`, d, 1)),
      };
    }
    if (!tower.embedding && !tower.features && !tower.dense) {
      throw rangeError(arg, 'a tower with at least one input (idEmbedding, features or dense)', o);
    }
    if (o.mlp !== undefined) {
      if (!Array.isArray(o.mlp) || o.mlp.length === 0) throw typeError(`${arg}.mlp`, 'non-empty array of layer sizes', o.mlp);
      let width = d;
      o.mlp.forEach((size, l) => {
        const out = expectPositiveInteger(`${arg}.mlp[${l}]`, size, 1 << 16);
        tower.mlp.push({
          weight: new Parameter(`${side}.mlp.${l}.weight`, newParameterTable(`${side}.mlp.${l}.weight`, out, width)),
          bias: new Parameter(`${side}.mlp.${l}.bias`, newParameterTable(`${side}.mlp.${l}.bias`, out, 1)),
        });
        width = out;
      });
      tower.outDim = width;
    }
    return tower;
  }

  get users(): number {
    return this.towers.user.entities;
  }

  get items(): number {
    return this.towers.item.entities;
  }

  /**
   * Back to the initial state: weights re-drawn from the seed (embeddings N(0, initScale²), dense
   * weights N(0, 2/fan_in) before a ReLU and N(0, 1/fan_in) otherwise, biases zero), optimizer
   * state cleared, epoch count 0. Freezing flags and learning-rate multipliers are kept.
   */
  reset(): void {
    let stream = this.seed;
    const draw = (p: Parameter, std: number) => {
      const next = normalGenerator(stream++);
      const w = p.table.data;
      for (let i = 0; i < w.length; i++) w[i] = next() * std;
    };
    for (const side of ['user', 'item'] as const) {
      const t = this.towers[side];
      if (t.embedding) draw(t.embedding, this.initScale);
      if (t.features) draw(t.features.table, this.initScale);
      if (t.dense) {
        draw(t.dense.weight, Math.sqrt(1 / t.dense.dim));
        t.dense.bias.table.data.fill(0);
      }
      t.mlp.forEach((layer, l) => {
        draw(layer.weight, Math.sqrt((l + 1 < t.mlp.length ? 2 : 1) / layer.weight.table.dim));
        layer.bias.table.data.fill(0);
      });
    }
    for (const p of this.parameters()) p.resetOptimizerState();
    this.epochsTrained = 0;
  }

  /**
   * The options that rebuild this model (what saveModel records). Feature bags and dense values are
   * the model's own arrays, not copies: do not modify them.
   */
  config(): TwoTowerOptions &
    Required<Pick<TwoTowerOptions, 'dim' | 'similarity' | 'temperature' | 'seed' | 'initScale' | 'user' | 'item'>> {
    const tower = (t: Tower): TowerOptions => ({
      idEmbedding: t.embedding !== null,
      ...(t.features
        ? { features: { vocabulary: t.features.table.rows, bags: { offsets: t.features.offsets, indices: t.features.indices } } }
        : {}),
      ...(t.dense ? { dense: { values: t.dense.values, dim: t.dense.dim } } : {}),
      ...(t.mlp.length ? { mlp: t.mlp.map((l) => l.weight.rows) } : {}),
    });
    return {
      users: this.users,
      items: this.items,
      dim: this.dim,
      user: tower(this.towers.user),
      item: tower(this.towers.item),
      similarity: this.similarity,
      temperature: this.temperature,
      seed: this.seed,
      initScale: this.initScale,
    };
  }

  /** Every parameter, user tower first, in a fixed order. */
  parameters(): Parameter[] {
    const out: Parameter[] = [];
    for (const side of ['user', 'item'] as const) {
      const t = this.towers[side];
      if (t.embedding) out.push(t.embedding);
      if (t.features) out.push(t.features.table);
      if (t.dense) out.push(t.dense.weight, t.dense.bias);
      for (const layer of t.mlp) out.push(layer.weight, layer.bias);
    }
    return out;
  }

  /** Parameters of dense layers (projection and MLP), which train with the dense optimizer. */
  isDense(p: Parameter): boolean {
    return /\.(dense\.projection|mlp\.\d+)\.(weight|bias)$/.test(p.name);
  }

  /**
   * One tower as the native kernels read it. States are allocated (zeros) on first use, and only
   * for parameters that can change: a frozen parameter's state is never created or written.
   * With `grads`, each parameter gets a zeroed gradient buffer (returned by name).
   */
  nativeTower(side: Side, states: TowerStateKinds, grads?: Map<string, Float32Array>): NativeTowerSpec {
    const t = this.towers[side];
    const param = (p: Parameter, kind: OptimizerStateKind | null): NativeTowerParam => {
      const view = p.trainingView();
      const grad = grads ? sharedFloat32(p.table.data.length) : null;
      if (grad) grads!.set(p.name, grad);
      return {
        w: p.table.data,
        dim: p.table.dim,
        state: kind && view.lrMult > 0 ? p.optimizerState(kind) : null,
        frozen: view.frozen,
        lrMult: view.lrMult,
        grad,
      };
    };
    return {
      entities: t.entities,
      dim: this.dim,
      embedding: t.embedding ? param(t.embedding, states.embedding) : null,
      features: t.features
        ? { table: param(t.features.table, states.embedding), offsets: t.features.offsets, indices: t.features.indices }
        : null,
      dense: t.dense
        ? { values: t.dense.values, dim: t.dense.dim, weight: param(t.dense.weight, states.dense), bias: param(t.dense.bias, states.dense) }
        : null,
      layers: t.mlp.map((l) => ({ weight: param(l.weight, states.dense), bias: param(l.bias, states.dense) })),
    };
  }

  /** The user vectors for scoring (one row per user; L2-normalised for cosine similarity). */
  async encodeUsers(options?: { threads?: number }): Promise<EmbeddingTable> {
    return this.encodeGuarded('user', options);
  }

  /** The item vectors for scoring with topK against encodeUsers() rows. */
  async encodeItems(options?: { threads?: number }): Promise<EmbeddingTable> {
    return this.encodeGuarded('item', options);
  }

  private async encodeGuarded(side: Side, options: { threads?: number } | undefined): Promise<EmbeddingTable> {
    const o = expectOptions('options', options);
    const threads = o.threads === undefined ? 1 : expectPositiveInteger('options.threads', o.threads, 256);
    const release = this.acquire(side === 'user' ? 'encodeUsers' : 'encodeItems');
    try {
      return await this.encode(side, threads);
    } finally {
      release();
    }
  }

  /** Encodes without taking the busy flag (the trainer holds it during validation). */
  async encode(side: Side, threads: number): Promise<EmbeddingTable> {
    const t = this.towers[side];
    const out = EmbeddingTable.create(t.entities, this.outputDim, { shared: true });
    const r = await native.twoTowerEncode({
      tower: this.nativeTower(side, { embedding: null, dense: null }),
      ids: null,
      out: out.data,
      normalize: this.similarity === 'cosine',
      threads,
    });
    if (r.invalid) throw new RecbridgeError('ERR_NATIVE', `${r.invalid} ${side} entries could not be encoded (an index out of range)`);
    return out;
  }
}

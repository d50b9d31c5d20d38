/**
 * LightGCN over the joint user–item graph of both domains. When to use: users overlap and tastes
 * travel through co-consumption (users who share source items share target items), which a graph
 * carries further than one embedding per user: a cold user's vector mixes their own, their source
 * items', their co-users' and (from three layers) those co-users' items, target items included.
 * Nodes are the joint users (an aligned user is one node, as in `joint`), the source items and the
 * target items; edges are every source row and the target training rows, so a cold user is linked
 * to source items only. BPR draws each positive's negatives from its own domain's catalogue, so
 * source rows never push users away from target items. Training is full-graph (one native
 * propagate–gradient–Adam step per epoch) and stops early on target validation (warm and
 * cold-validation users), restoring the best table.
 */
import { AbortError } from '../../core/errors';
import { uniformGenerator } from '../../core/random';
import { EmbeddingTable } from '../../core/table';
import { expectInteger, expectOptions, rangeError } from '../../core/validate';
import { LightGcn } from '../../models/light-gcn';
import type { TransferContext } from '../context';
import { UserVectorsModel } from '../user-vectors-model';
import type { Strategy } from './strategy';

export interface GraphOptions {
  /** Propagation layers L (the final vector averages layers 0..L). Default 3. */
  layers?: number;
  /** Most training steps; one step is one full-graph epoch over every positive row. Default 100. */
  epochs?: number;
  /** Adam learning rate. Default 0.05. */
  lr?: number;
  /** L2 weight λ on the layer-0 rows of each step's triples (per occurrence, over the triple count). Default 0.01. */
  l2?: number;
  /** Negatives per positive row (uniform over the positive's own domain). Default 1. */
  negatives?: number;
  /** Weight of a source row's loss relative to a target row's. Default 1. */
  sourceWeight?: number;
  /** Steps between validations (early stopping counts validations, with the run's patience). Default 10. */
  evalEvery?: number;
}

interface Resolved {
  layers: number;
  epochs: number;
  lr: number;
  l2: number;
  negatives: number;
  sourceWeight: number;
  evalEvery: number;
}

function resolve(options: GraphOptions | undefined): Resolved {
  const o = expectOptions('options', options);
  const positive = (name: string, value: unknown, fallback: number, zero = false): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zero && v === 0))
      throw rangeError(`options.${name}`, zero ? 'finite number ≥ 0' : 'finite number > 0', v);
    return v;
  };
  return {
    layers: expectInteger('options.layers', o.layers ?? 3, 0, 16),
    epochs: expectInteger('options.epochs', o.epochs ?? 100, 1, 1_000_000),
    lr: positive('lr', o.lr, 0.05),
    l2: positive('l2', o.l2, 0.01, true),
    negatives: expectInteger('options.negatives', o.negatives ?? 1, 1, 1000),
    sourceWeight: positive('sourceWeight', o.sourceWeight, 1, true),
    evalEvery: expectInteger('options.evalEvery', o.evalEvery ?? 10, 1, 1_000_000),
  };
}

export function graph(options: GraphOptions = {}): Strategy {
  const o = resolve(options);
  return {
    name: 'graph',
    summary: `LightGCN (${o.layers} layers) over the joint user–item graph of both domains, BPR per domain`,
    run: (ctx) => runGraph(ctx, o),
  };
}

async function runGraph(ctx: TransferContext, o: Resolved): Promise<UserVectorsModel> {
  const { source, target, users } = ctx.alignment;
  // The joint user space: target rows first, then source users that have no target row.
  const toJoint = new Int32Array(source.numUsers).fill(-1);
  users.source.forEach((s, k) => (toJoint[s] = users.target[k]));
  let joint = target.numUsers;
  for (let s = 0; s < source.numUsers; s++) if (toJoint[s] < 0) toJoint[s] = joint++;
  const sourceBase = joint;
  const targetBase = joint + source.numItems;
  const nodes = targetBase + target.numItems;

  const src = source.interactions;
  const train = ctx.split.train;
  const rows = src.size + train.size;
  const posUsers = new Int32Array(rows);
  const posItems = new Int32Array(rows);
  for (let i = 0; i < src.size; i++) {
    posUsers[i] = toJoint[src.users[i]];
    posItems[i] = sourceBase + src.items[i];
  }
  for (let i = 0; i < train.size; i++) {
    posUsers[src.size + i] = train.users[i];
    posItems[src.size + i] = targetBase + train.items[i];
  }
  const s = ctx.settings;
  const model = new LightGcn({
    nodes,
    edgesFrom: posUsers,
    edgesTo: posItems,
    dim: s.dim,
    layers: o.layers,
    seed: ctx.seed * 7 + 11,
  });

  // Triples: every positive row `negatives` times; negatives redrawn each step from the row's domain.
  const n = rows * o.negatives;
  const batch = {
    users: new Int32Array(n),
    pos: new Int32Array(n),
    neg: new Int32Array(n),
    weights: o.sourceWeight === 1 ? null : new Float32Array(n),
  };
  for (let k = 0; k < o.negatives; k++) {
    batch.users.set(posUsers, k * rows);
    batch.pos.set(posItems, k * rows);
    if (batch.weights) batch.weights.fill(o.sourceWeight, k * rows, k * rows + src.size).fill(1, k * rows + src.size, (k + 1) * rows);
  }
  const rand = uniformGenerator(ctx.seed * 31 + 7);
  const drawNegatives = () => {
    for (let k = 0; k < o.negatives; k++) {
      const off = k * rows;
      for (let i = 0; i < src.size; i++) batch.neg[off + i] = sourceBase + Math.floor(rand() * source.numItems);
      for (let i = src.size; i < rows; i++) batch.neg[off + i] = targetBase + Math.floor(rand() * target.numItems);
    }
  };

  const vectorsModel = async (): Promise<UserVectorsModel> => {
    const final = await model.propagate(s.threads);
    const d = model.dim;
    const items = new EmbeddingTable(final.subarray(targetBase * d, nodes * d), d);
    // The user rows are copied: the model's buffer is overwritten by its next propagation.
    return new UserVectorsModel(final.slice(0, target.numUsers * d), new Uint8Array(target.numUsers).fill(1), items, ctx.popularity);
  };

  const validation = ctx.split.validation;
  let best = -Infinity;
  let restore: (() => void) | null = null;
  let since = 0;
  for (let epoch = 1; epoch <= o.epochs && since <= s.patience; epoch++) {
    if (ctx.signal?.aborted) throw new AbortError(undefined, { cause: ctx.signal.reason });
    drawNegatives();
    await model.step(batch, { lr: o.lr, l2: o.l2, threads: s.threads });
    if (validation.size === 0 || (epoch % o.evalEvery !== 0 && epoch !== o.epochs)) continue;
    const metric = (await ctx.validate(await vectorsModel(), validation))[s.metric] as number;
    if (metric > best) {
      best = metric;
      since = 0;
      restore = model.snapshot();
    } else since++;
  }
  restore?.();
  return vectorsModel();
}

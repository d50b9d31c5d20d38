/**
 * LightGCN (He et al. 2020) over an undirected graph: one embedding row per node (layer 0),
 * propagated by Â = D^-1/2 A D^-1/2 with no weights or non-linearities, the final vector of a node
 * being the mean of its layers 0..L. Training is full-graph: each step propagates the whole table,
 * takes the BPR gradient of a batch of (user, positive, negative) node triples on the final
 * vectors, carries it back through the same propagation (Â is symmetric) and applies dense Adam to
 * layer 0 — all in one native call. The caller owns the epochs and the triples.
 */
import { resolveThreads } from '../core/config';
import { native, type GraphHandle } from '../core/native';
import { normalGenerator } from '../core/random';
import { sharedFloat32 } from '../core/shared-memory';
import { expectInteger, expectOptions, rangeError, typeError } from '../core/validate';

export interface LightGcnOptions {
  /** Number of nodes (rows of every table). */
  nodes: number;
  /** Undirected edges as two node lists of equal length (duplicates and self-loops are dropped). */
  edgesFrom: Int32Array;
  edgesTo: Int32Array;
  /** Embedding width. Default 64. */
  dim?: number;
  /** Propagation layers L (the final vector averages layers 0..L). Default 2. */
  layers?: number;
  /** Standard deviation of the normal layer-0 initialisation. Default 0.1. */
  initScale?: number;
  seed?: number;
}

/** One BPR batch as node indices; weights (per triple) default to 1. */
export interface BprBatch {
  users: Int32Array;
  pos: Int32Array;
  neg: Int32Array;
  weights?: Float32Array | null;
}

export interface LightGcnStepOptions {
  /** Adam learning rate. */
  lr: number;
  /** L2 on the batch's layer-0 rows (LightGCN's λ). Default 0. */
  l2?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  threads?: number;
}

export class LightGcn {
  readonly nodes: number;
  readonly dim: number;
  readonly layers: number;
  /** Layer-0 table, nodes × dim (trainable). */
  readonly embeddings: Float32Array;
  /** Stored (deduplicated, both directions) entries of Â. */
  readonly entries: number;
  private readonly graph: GraphHandle;
  private readonly grad: Float32Array;
  private readonly work: Float32Array;
  private final: Float32Array | null = null;
  private m: Float32Array | null = null;
  private v: Float32Array | null = null;
  private steps = 0;

  constructor(options: LightGcnOptions) {
    const o = expectOptions('options', options);
    this.nodes = expectInteger('options.nodes', o.nodes, 1, 2 ** 31 - 1);
    this.dim = expectInteger('options.dim', o.dim ?? 64, 1, 4096);
    this.layers = expectInteger('options.layers', o.layers ?? 2, 0, 16);
    const scale = o.initScale ?? 0.1;
    if (typeof scale !== 'number' || !(scale >= 0 && Number.isFinite(scale)))
      throw rangeError('options.initScale', 'finite number ≥ 0', scale);
    const seed = expectInteger('options.seed', o.seed ?? 0, 0, 2 ** 31);
    const csr = normalisedAdjacency(this.nodes, o.edgesFrom, o.edgesTo);
    this.entries = csr.indices.length;
    this.graph = native.graphCreate({ nodes: this.nodes, ...csr });
    const n = this.nodes * this.dim;
    this.embeddings = sharedFloat32(n);
    const normal = normalGenerator(seed + 0x9c7);
    for (let i = 0; i < n; i++) this.embeddings[i] = scale * normal();
    this.grad = sharedFloat32(n);
    this.work = sharedFloat32(3 * n);
  }

  /**
   * The final vectors (mean of layers 0..L) of every node, nodes × dim. The result is the model's
   * buffer, overwritten by the next call (copy it to keep it): a fresh table per call would cost
   * more in page faults than the propagation itself.
   */
  async propagate(threads?: number): Promise<Float32Array> {
    this.final ??= sharedFloat32(this.nodes * this.dim);
    const out = this.final;
    await native.graphPropagate({
      graph: this.graph,
      x: this.embeddings,
      dim: this.dim,
      layers: this.layers,
      out,
      work: this.work,
      threads: resolveThreads('threads', threads),
    });
    return out;
  }

  /**
   * Mean BPR loss of the batch (plus the L2 term) and its gradient for the layer-0 table, without
   * changing the model. The returned gradient is the model's buffer: the next call overwrites it.
   */
  async gradient(batch: BprBatch, l2 = 0, threads?: number): Promise<{ loss: number; grad: Float32Array }> {
    const { loss } = await native.graphStep(this.stepSpec(batch, l2, null, threads));
    return { loss, grad: this.grad };
  }

  /** One Adam step on the batch; returns the loss before the update. */
  async step(batch: BprBatch, options: LightGcnStepOptions): Promise<number> {
    const o = expectOptions('options', options);
    if (typeof o.lr !== 'number' || !(o.lr > 0 && Number.isFinite(o.lr))) throw rangeError('options.lr', 'finite number > 0', o.lr);
    this.m ??= sharedFloat32(this.nodes * this.dim);
    this.v ??= sharedFloat32(this.nodes * this.dim);
    this.steps++;
    const adam = {
      m: this.m,
      v: this.v,
      lr: o.lr,
      beta1: o.beta1 ?? 0.9,
      beta2: o.beta2 ?? 0.999,
      eps: o.eps ?? 1e-8,
      step: this.steps,
    };
    const { loss } = await native.graphStep(this.stepSpec(batch, o.l2 ?? 0, adam, o.threads));
    if (!Number.isFinite(loss)) throw rangeError('options.lr', 'a learning rate small enough to keep the loss finite', o.lr);
    return loss;
  }

  /** A copy of the layer-0 table and optimizer state, and a function that puts them back. */
  snapshot(): () => void {
    const e = this.embeddings.slice();
    const m = this.m?.slice();
    const v = this.v?.slice();
    const steps = this.steps;
    return () => {
      this.embeddings.set(e);
      if (m && this.m) this.m.set(m);
      if (v && this.v) this.v.set(v);
      this.steps = steps;
    };
  }

  private stepSpec(batch: BprBatch, l2: number, adam: Parameters<typeof native.graphStep>[0]['adam'], threads?: number) {
    if (batch === null || typeof batch !== 'object') throw typeError('batch', 'object with users, pos and neg', batch);
    const n = batch.users?.length;
    for (const key of ['users', 'pos', 'neg'] as const) {
      const a = batch[key];
      if (!(a instanceof Int32Array)) throw typeError(`batch.${key}`, 'Int32Array of node indices', a);
      if (a.length !== n) throw rangeError(`batch.${key}`, `length ${n} (as batch.users)`, a.length);
      for (const x of a) if (!(x >= 0 && x < this.nodes)) throw rangeError(`batch.${key}`, `node indices in [0, ${this.nodes})`, x);
    }
    const weights = batch.weights ?? null;
    if (weights !== null && (!(weights instanceof Float32Array) || weights.length !== n))
      throw typeError('batch.weights', `Float32Array of length ${n} or null`, weights);
    if (typeof l2 !== 'number' || !(l2 >= 0 && Number.isFinite(l2))) throw rangeError('l2', 'finite number ≥ 0', l2);
    return {
      graph: this.graph,
      embeddings: this.embeddings,
      dim: this.dim,
      layers: this.layers,
      users: batch.users,
      pos: batch.pos,
      neg: batch.neg,
      weights,
      l2,
      grad: this.grad,
      work: this.work,
      adam,
      threads: resolveThreads('threads', threads),
    };
  }
}

/**
 * Â = D^-1/2 A D^-1/2 of the undirected graph with the given edges, as CSR (both directions of each
 * distinct edge; self-loops dropped; an isolated node has an empty row).
 */
export function normalisedAdjacency(
  nodes: number,
  from: unknown,
  to: unknown,
): { offsets: Int32Array; indices: Int32Array; weights: Float32Array } {
  if (!(from instanceof Int32Array)) throw typeError('options.edgesFrom', 'Int32Array of node indices', from);
  if (!(to instanceof Int32Array)) throw typeError('options.edgesTo', 'Int32Array of node indices', to);
  if (to.length !== from.length) throw rangeError('options.edgesTo', `length ${from.length} (as options.edgesFrom)`, to.length);
  const counts = new Int32Array(nodes + 1);
  for (let e = 0; e < from.length; e++) {
    const a = from[e]!;
    const b = to[e]!;
    if (!(a >= 0 && a < nodes)) throw rangeError('options.edgesFrom', `node indices in [0, ${nodes})`, a);
    if (!(b >= 0 && b < nodes)) throw rangeError('options.edgesTo', `node indices in [0, ${nodes})`, b);
    if (a === b) continue;
    counts[a + 1]!++;
    counts[b + 1]!++;
  }
  for (let r = 0; r < nodes; r++) counts[r + 1]! += counts[r]!;
  const raw = new Int32Array(counts[nodes]!);
  const fill = counts.slice(0, nodes);
  for (let e = 0; e < from.length; e++) {
    const a = from[e]!;
    const b = to[e]!;
    if (a === b) continue;
    raw[fill[a]!++] = b;
    raw[fill[b]!++] = a;
  }
  // Sort and deduplicate each row; degrees are the distinct neighbour counts.
  const offsets = new Int32Array(nodes + 1);
  let w = 0;
  for (let r = 0; r < nodes; r++) {
    // Compacting in place is safe: the write position never passes the read position.
    const row = raw.subarray(counts[r], counts[r + 1]).sort();
    let prev = -1;
    for (const c of row) {
      if (c !== prev) raw[w++] = c;
      prev = c;
    }
    offsets[r + 1] = w;
  }
  const indices = raw.slice(0, w);
  const weights = new Float32Array(w);
  const degree = (r: number) => offsets[r + 1]! - offsets[r]!;
  for (let r = 0; r < nodes; r++) {
    for (let k = offsets[r]!; k < offsets[r + 1]!; k++) weights[k] = 1 / Math.sqrt(degree(r) * degree(indices[k]!));
  }
  return { offsets, indices, weights };
}

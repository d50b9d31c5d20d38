// LightGCN: the native sparse propagation against a dense float64 reference and across ISAs, the
// training gradient against finite differences, and the `graph` strategy on planted transfer data.
import { LightGcn, normalisedAdjacency, setIsa, syntheticDomains, transfer, capabilities, graph, type IsaName } from '../../lib';
import { native } from '../../lib/core/native';
import { sharedCopy, sharedFloat32 } from '../../lib/core/shared-memory';
import { randomFloats, randomInts } from '../support/data';
import { failure } from '../support/errors';

afterEach(() => setIsa(null));

/** A random bipartite edge list over `a` left and `b` right nodes (left first), with repeats. */
function randomEdges(a: number, b: number, m: number, seed: number): { from: Int32Array; to: Int32Array } {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const from = Int32Array.from({ length: m }, () => Math.floor(next() * a));
  const to = Int32Array.from({ length: m }, () => a + Math.floor(next() * b));
  return { from, to };
}

/** Dense Â in float64 from the definition: A_ij = 1 for each distinct edge, scaled by 1/sqrt(d_i d_j). */
function denseAdjacency(nodes: number, from: Int32Array, to: Int32Array): Float64Array {
  const a = new Float64Array(nodes * nodes);
  from.forEach((f, e) => {
    if (f === to[e]) return;
    a[f * nodes + to[e]] = 1;
    a[to[e] * nodes + f] = 1;
  });
  const deg = Array.from({ length: nodes }, (_, i) => a.subarray(i * nodes, (i + 1) * nodes).reduce((x, y) => x + y, 0));
  for (let i = 0; i < nodes; i++) for (let j = 0; j < nodes; j++) if (a[i * nodes + j]) a[i * nodes + j] /= Math.sqrt(deg[i] * deg[j]);
  return a;
}

/** Mean of Â^l x for l = 0..layers, float64. */
function denseFinal(adj: Float64Array, nodes: number, x: ArrayLike<number>, dim: number, layers: number): Float64Array {
  let cur = Float64Array.from(x);
  const out = Float64Array.from(x);
  for (let l = 0; l < layers; l++) {
    const next = new Float64Array(nodes * dim);
    for (let i = 0; i < nodes; i++)
      for (let j = 0; j < nodes; j++) {
        const w = adj[i * nodes + j];
        if (w) for (let c = 0; c < dim; c++) next[i * dim + c] += w * cur[j * dim + c];
      }
    for (let k = 0; k < out.length; k++) out[k] += next[k];
    cur = next;
  }
  return out.map((v) => v / (layers + 1));
}

function referenceLoss(
  adj: Float64Array,
  nodes: number,
  e0: ArrayLike<number>,
  dim: number,
  layers: number,
  t: { users: Int32Array; pos: Int32Array; neg: Int32Array },
  l2: number,
): number {
  const f = denseFinal(adj, nodes, e0, dim, layers);
  const n = t.users.length;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let x = 0;
    for (let c = 0; c < dim; c++) x += f[t.users[i] * dim + c] * (f[t.pos[i] * dim + c] - f[t.neg[i] * dim + c]);
    loss += Math.log1p(Math.exp(-x));
    for (const r of [t.users[i], t.pos[i], t.neg[i]]) for (let c = 0; c < dim; c++) loss += (l2 / 2) * e0[r * dim + c] ** 2;
  }
  return loss / n;
}

/** A graph handle and buffers for raw native calls. */
function nativeGraph(nodes: number, from: Int32Array, to: Int32Array) {
  return native.graphCreate({ nodes, ...normalisedAdjacency(nodes, from, to) });
}

describe('normalisedAdjacency', () => {
  test('drops duplicates and self-loops, sorts rows, and weights 1/sqrt(d_i d_j)', () => {
    const csr = normalisedAdjacency(4, Int32Array.of(0, 0, 0, 1, 2, 3), Int32Array.of(2, 2, 3, 2, 2, 3));
    expect(Array.from(csr.offsets)).toEqual([0, 2, 3, 5, 6]);
    expect(Array.from(csr.indices)).toEqual([2, 3, 2, 0, 1, 0]);
    const deg = [2, 1, 2, 1];
    const expected = [
      [0, 2],
      [0, 3],
      [1, 2],
      [2, 0],
      [2, 1],
      [3, 0],
    ].map(([i, j]) => 1 / Math.sqrt(deg[i] * deg[j]));
    csr.weights.forEach((w, k) => expect(w).toBeCloseTo(expected[k], 6));
  });
});

describe('propagation', () => {
  test.each([0, 1, 2, 3])('equals the dense float64 reference, %i layers', async (layers) => {
    const nodes = 11;
    const dim = 5;
    const { from, to } = randomEdges(5, 6, 16, 3 + layers);
    const model = new LightGcn({ nodes, edgesFrom: from, edgesTo: to, dim, layers, seed: 1 });
    const got = await model.propagate(1);
    const want = denseFinal(denseAdjacency(nodes, from, to), nodes, model.embeddings, dim, layers);
    want.forEach((v, k) => expect(got[k]).toBeCloseTo(v, 6));
  });

  const DIMS = [...Array.from({ length: 65 }, (_, i) => i + 1), 127, 128, 129];
  const SIMD: IsaName[] = capabilities().supportedIsas.filter((isa) => isa !== 'scalar');
  test('the machine has a SIMD path to compare', () => expect(SIMD.length).toBeGreaterThan(0));

  test.each(DIMS)('SIMD rows match the scalar reference over every tail, dim %i', async (dim) => {
    const nodes = 40;
    const { from, to } = randomEdges(17, 23, 120, dim);
    const g = nativeGraph(nodes, from, to);
    const x = sharedCopy(randomFloats(nodes * dim, dim * 13 + 1));
    const ints = sharedCopy(randomInts(nodes * dim, dim * 17 + 5));
    const work = sharedFloat32(2 * nodes * dim);
    const run = async (isa: IsaName, input: Float32Array, threads: number) => {
      setIsa(isa);
      const out = sharedFloat32(nodes * dim);
      await native.graphPropagate({ graph: g, x: input, dim, layers: 1, out, work, threads });
      return out;
    };
    const scalar = await run('scalar', x, 1);
    const scalarInts = await run('scalar', ints, 1);
    // Worst relative gap, checked once (an expect per element is slow on 40 × 129 values).
    const gap = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, k) => Math.abs(v - b[k]) / (1 + Math.abs(b[k]))));
    for (const isa of SIMD) {
      expect(gap(await run(isa, x, 2), scalar)).toBeLessThanOrEqual(1e-5);
      // Small integers times 1/sqrt(d_i d_j): only the rounding of fused multiply-adds can differ.
      expect(gap(await run(isa, ints, 1), scalarInts)).toBeLessThanOrEqual(4e-6);
    }
  });

  test('results do not depend on the thread count', async () => {
    const nodes = 3000;
    const dim = 24;
    const { from, to } = randomEdges(1200, 1800, 20000, 9);
    const model = new LightGcn({ nodes, edgesFrom: from, edgesTo: to, dim, layers: 3, seed: 4 });
    expect(await model.propagate(2)).toEqual(await model.propagate(1));
    const batch = { users: from.slice(0, 5000), pos: to.slice(0, 5000), neg: to.slice(5000, 10000) };
    const one = await model.gradient(batch, 0.01, 1);
    const oneGrad = Float32Array.from(one.grad);
    const two = await model.gradient(batch, 0.01, 2);
    expect(two.grad).toEqual(oneGrad);
    expect(two.loss).toBe(one.loss);
  });
});

describe('training gradient', () => {
  test.each([0, 1, 2, 3])('matches central finite differences of a float64 reference loss, %i layers', async (layers) => {
    const nodes = 9;
    const dim = 3;
    const { from, to } = randomEdges(4, 5, 12, 21 + layers);
    const model = new LightGcn({ nodes, edgesFrom: from, edgesTo: to, dim, layers, seed: 2, initScale: 0.5 });
    const batch = { users: Int32Array.of(0, 1, 2, 3, 0, 2), pos: Int32Array.of(4, 5, 6, 7, 8, 4), neg: Int32Array.of(8, 4, 5, 6, 7, 6) };
    const l2 = 0.05;
    const { loss, grad } = await model.gradient(batch, l2, 1);
    const adj = denseAdjacency(nodes, from, to);
    const e0 = Float64Array.from(model.embeddings);
    expect(loss).toBeCloseTo(referenceLoss(adj, nodes, e0, dim, layers, batch, l2), 5);
    const h = 1e-5;
    for (let k = 0; k < e0.length; k++) {
      const plus = Float64Array.from(e0);
      const minus = Float64Array.from(e0);
      plus[k] += h;
      minus[k] -= h;
      const numeric =
        (referenceLoss(adj, nodes, plus, dim, layers, batch, l2) - referenceLoss(adj, nodes, minus, dim, layers, batch, l2)) / (2 * h);
      expect(Math.abs(grad[k] - numeric)).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(numeric));
    }
  });

  test('weights scale each triple, and Adam steps lower the loss', async () => {
    const nodes = 60;
    const { from, to } = randomEdges(30, 30, 200, 5);
    const model = new LightGcn({ nodes, edgesFrom: from, edgesTo: to, dim: 8, layers: 2, seed: 3 });
    const neg = Int32Array.from(to, (_, i) => 30 + ((i * 7) % 30));
    const batch = { users: from, pos: to, neg };
    const base = (await model.gradient(batch)).loss;
    const doubled = (await model.gradient({ ...batch, weights: new Float32Array(from.length).fill(2) })).loss;
    expect(doubled).toBeCloseTo(2 * base, 5);
    const losses: number[] = [];
    for (let s = 0; s < 30; s++) losses.push(await model.step(batch, { lr: 0.05, threads: 1 }));
    expect(losses[29]).toBeLessThan(0.5 * losses[0]);
  });

  test('training on the joint graph of generated domains lowers the loss of both domains', async () => {
    const { source, target } = syntheticDomains({ users: 200, sourceItems: 80, targetItems: 60, seed: 3 });
    // Users share ids across the domains: one node per id, then source items, then target items.
    const ids = new Map<string, number>();
    const node = (id: string) => ids.get(id) ?? ids.set(id, ids.size).get(id)!;
    const su = Array.from(source.interactions.users, (u) => node(source.users.id(u)));
    const tu = Array.from(target.interactions.users, (u) => node(target.users.id(u)));
    const nu = ids.size;
    const ns = source.numItems;
    const nodes = nu + ns + target.numItems;
    const from = Int32Array.from([...su, ...tu]);
    const to = Int32Array.from([
      ...Array.from(source.interactions.items, (i) => nu + i),
      ...Array.from(target.interactions.items, (i) => nu + ns + i),
    ]);
    const model = new LightGcn({ nodes, edgesFrom: from, edgesTo: to, dim: 16, layers: 3, seed: 1 });
    const neg = Int32Array.from(to, (_, k) => (k < su.length ? nu + ((k * 31) % ns) : nu + ns + ((k * 17) % target.numItems)));
    const batch = { users: from, pos: to, neg };
    // Each domain's BPR loss: the other domain's triples weigh 0.
    const lossOf = async (sourceRows: boolean) => {
      const weights = Float32Array.from(to, (_, k) => (k < su.length === sourceRows ? 1 : 0));
      return (await model.gradient({ ...batch, weights }, 0, 1)).loss;
    };
    const before = [await lossOf(true), await lossOf(false)];
    expect((await model.gradient(batch, 0, 1)).loss).toBeCloseTo(Math.log(2), 2); // small random vectors: scores near 0
    for (let s = 0; s < 60; s++) await model.step(batch, { lr: 0.05, l2: 0.01, threads: 1 });
    const after = [await lossOf(true), await lossOf(false)];
    expect(after[0]).toBeLessThan(0.85 * before[0]);
    expect(after[1]).toBeLessThan(0.85 * before[1]);
  });
});

describe('graph strategy', () => {
  test('beats popularity for cold users on planted transfer data', async () => {
    const { source, target } = syntheticDomains({
      users: 400,
      sourceItems: 150,
      targetItems: 120,
      sourcePerUser: 20,
      targetPerUser: 8,
      seed: 5,
    });
    const report = await transfer(source, target, {
      seeds: 1,
      strategies: ['graph'],
      settings: { dim: 16, threads: 1 },
    });
    const cold = (name: string) => report.results.find((r) => r.strategy === name)!.slices.cold.metrics.ndcg.mean;
    expect(cold('graph')).toBeGreaterThan(cold('popularity') + 0.02);
  }, 120_000);

  test('options and bad input are refused with typed errors that name the argument', async () => {
    expect(failure(() => graph({ layers: -1 }))).toMatch(/ERR_OUT_OF_RANGE.*options\.layers/);
    expect(failure(() => graph({ lr: 0 }))).toMatch(/ERR_OUT_OF_RANGE.*options\.lr/);
    expect(failure(() => graph({ negatives: 1.5 }))).toMatch(/options\.negatives/);
    expect(failure(() => graph({ l2: Number.NaN }))).toMatch(/options\.l2/);
    expect(failure(() => graph('x' as never))).toMatch(/ERR_INVALID_ARG_TYPE.*options/);
    const edges = { edgesFrom: Int32Array.of(0, 1), edgesTo: Int32Array.of(2, 3) };
    expect(failure(() => new LightGcn({ nodes: 3, ...edges }))).toMatch(/ERR_OUT_OF_RANGE.*options\.edgesTo/);
    expect(failure(() => new LightGcn({ nodes: 4, edgesFrom: [0, 1] as never, edgesTo: edges.edgesTo }))).toMatch(
      /ERR_INVALID_ARG_TYPE.*options\.edgesFrom/,
    );
    expect(failure(() => new LightGcn({ nodes: 4, ...edges, layers: 17 }))).toMatch(/options\.layers/);
    const model = new LightGcn({ nodes: 4, ...edges, dim: 2 });
    const ok = { users: Int32Array.of(0), pos: Int32Array.of(2), neg: Int32Array.of(3) };
    await expect(model.gradient({ ...ok, neg: Int32Array.of(4) })).rejects.toThrow(/batch\.neg/);
    await expect(model.gradient({ ...ok, pos: Int32Array.of(2, 3) })).rejects.toThrow(/batch\.pos/);
    await expect(model.step(ok, { lr: -1 })).rejects.toThrow(/options\.lr/);
    // The binding re-checks what lib/ would have refused.
    const bad = { nodes: 2, offsets: Int32Array.of(0, 1, 2), indices: Int32Array.of(1, 2), weights: Float32Array.of(1, 1) };
    expect(failure(() => native.graphCreate(bad))).toMatch(/ERR_OUT_OF_RANGE.*spec\.indices/);
    expect(failure(() => native.graphCreate({ ...bad, offsets: Int32Array.of(0, 2, 1), indices: Int32Array.of(1, 0) }))).toMatch(
      /spec\.offsets/,
    );
    const g = native.graphCreate({ ...bad, indices: Int32Array.of(1, 0) });
    const plain = new Float32Array(4);
    expect(
      failure(() => native.graphPropagate({ graph: g, x: plain, dim: 2, layers: 1, out: plain, work: new Float32Array(8), threads: 1 })),
    ).toMatch(/ERR_INVALID_ARG_TYPE.*spec\.x/);
    expect(
      failure(() => native.graphPropagate({ graph: {} as never, x: plain, dim: 2, layers: 1, out: plain, work: plain, threads: 1 })),
    ).toMatch(/spec\.graph/);
  });
});

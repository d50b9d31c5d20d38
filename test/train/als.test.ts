// Implicit ALS: half-iterations against a float64 dense solve of the normal equations (Cholesky
// exact, CG converging with enough steps, both confidences), the fold-in solve being the same row
// solve, every ISA path against scalar, thread counts giving identical bits, frozen rows and tables
// untouched bit for bit, a planted dataset learned well above chance, early stopping, abort, and
// bad input.
import {
  AbortError,
  AlsTrainer,
  EmbeddingTable,
  Interactions,
  MatrixFactorization,
  capabilities,
  evaluateRanking,
  foldIn,
  historiesFrom,
  setIsa,
  uniformGenerator,
} from '../../lib';
import { native } from '../../lib/core/native';
import { AlsConfidence, AlsSolver } from '../../lib/core/native-constants';
import { sharedFloat32 } from '../../lib/core/shared-memory';
import { alsMatrices } from '../../lib/train/als-trainer';
import { cholesky, choleskySolve } from '../../lib/transfer/linalg';
import { planted } from '../support/planted';

afterEach(() => setIsa(null));

/** A random interaction set with repeats and values in [0, 4). */
function randomData(users: number, items: number, n: number, seed: number, withValues: boolean): Interactions {
  const r = uniformGenerator(seed);
  const u = Array.from({ length: n }, () => Math.floor(r() * users));
  const i = Array.from({ length: n }, () => Math.floor(r() * items));
  const values = withValues ? Array.from({ length: n }, () => Math.floor(r() * 8) / 2) : undefined;
  return new Interactions({ users: u, items: i, values, numUsers: users, numItems: items });
}

function randomTable(rows: number, dim: number, seed: number, scale = 0.3): Float32Array {
  const r = uniformGenerator(seed);
  const out = sharedFloat32(rows * dim);
  for (let k = 0; k < out.length; k++) out[k] = (r() - 0.5) * 2 * scale;
  return out;
}

interface Conf {
  alpha: number;
  confidence: 'linear' | 'log';
  eps: number;
  l2: number;
}

/** Row r's exact solve in float64: (YᵀY + Σ (c−1) y yᵀ + λI) x = Σ c y over the row's entries. */
function denseSolve(y: Float32Array, dim: number, entries: Array<[number, number]>, o: Conf): Float64Array {
  const rows = y.length / dim;
  const a = new Float64Array(dim * dim);
  const b = new Float64Array(dim);
  for (let k = 0; k < rows; k++)
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) a[i * dim + j] += y[k * dim + i] * y[k * dim + j];
  for (const [row, value] of entries) {
    const v = Math.max(value, 0);
    const c = o.confidence === 'log' ? 1 + o.alpha * Math.log1p(v / o.eps) : 1 + o.alpha * v;
    for (let i = 0; i < dim; i++) {
      b[i] += c * y[row * dim + i];
      for (let j = 0; j < dim; j++) a[i * dim + j] += (c - 1) * y[row * dim + i] * y[row * dim + j];
    }
  }
  for (let i = 0; i < dim; i++) a[i * dim + i] += o.l2;
  return choleskySolve(cholesky(a, dim), dim, b, 1);
}

async function half(
  x: Float32Array,
  y: Float32Array,
  dim: number,
  data: Interactions,
  o: Conf & { solver: 'cg' | 'cholesky'; cgSteps: number; threads?: number; frozen?: Uint8Array },
) {
  const { byUser } = alsMatrices(data, x.length / dim, y.length / dim);
  const r = await native.alsSolve({
    x,
    y,
    dim,
    offsets: byUser.offsets,
    indices: byUser.indices,
    values: byUser.values,
    frozen: o.frozen ?? null,
    confidence: AlsConfidence[o.confidence],
    alpha: o.alpha,
    eps: o.eps,
    l2: o.l2,
    solver: AlsSolver[o.solver],
    cgSteps: o.cgSteps,
    threads: o.threads ?? 1,
    loss: true,
    cancel: null,
  });
  return { r, byUser };
}

/** Each row's entries as (y row, summed value) from the grouped CSR. */
function entriesOf(side: ReturnType<typeof alsMatrices>['byUser'], row: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = side.offsets[row]; k < side.offsets[row + 1]; k++) out.push([side.indices[k], side.values ? side.values[k] : 1]);
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.slice().buffer).equals(Buffer.from(b.slice().buffer));
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let norm = 0;
  for (let k = 0; k < want.length; k++) {
    err = Math.max(err, Math.abs(got[k] - want[k]));
    norm = Math.max(norm, Math.abs(want[k]));
  }
  return err / Math.max(norm, 1e-12);
}

describe('one half-iteration against a float64 dense solve', () => {
  const dim = 6;
  const users = 25;
  const items = 40;
  const cases: Array<[string, Conf]> = [
    ['linear', { alpha: 3, confidence: 'linear', eps: 1, l2: 0.1 }],
    ['log', { alpha: 2, confidence: 'log', eps: 0.5, l2: 0.3 }],
    ['no regularisation', { alpha: 1, confidence: 'linear', eps: 1, l2: 0 }],
  ];
  test.each(cases)('cholesky is exact (%s, values and repeats)', async (_, o) => {
    const data = randomData(users, items, 200, 3, true);
    const y = randomTable(items, dim, 5);
    const x = randomTable(users, dim, 6);
    const { r, byUser } = await half(x, y, dim, data, { ...o, solver: 'cholesky', cgSteps: 1 });
    expect(r.solved).toBe(users);
    expect(r.invalid).toBe(0);
    expect(r.diverged).toBe(false);
    for (let u = 0; u < users; u++) {
      const want = denseSolve(y, dim, entriesOf(byUser, u), o);
      expect(maxRelError(x.subarray(u * dim, (u + 1) * dim), want)).toBeLessThan(2e-5);
    }
  });

  test.each(cases.slice(0, 2))('cg converges to it with enough steps and improves on its warm start with few (%s)', async (_, o) => {
    const data = randomData(users, items, 200, 4, false);
    const y = randomTable(items, dim, 7);
    const x = randomTable(users, dim, 8);
    const start = x.slice();
    const { byUser } = await half(x, y, dim, data, { ...o, solver: 'cg', cgSteps: 2 * dim });
    const few = start.slice();
    const fewShared = sharedFloat32(few.length);
    fewShared.set(few);
    await half(fewShared, y, dim, data, { ...o, solver: 'cg', cgSteps: 1 });
    for (let u = 0; u < users; u++) {
      const want = denseSolve(y, dim, entriesOf(byUser, u), o);
      expect(maxRelError(x.subarray(u * dim, (u + 1) * dim), want)).toBeLessThan(1e-3);
      const before = maxRelError(start.subarray(u * dim, (u + 1) * dim), want);
      const after = maxRelError(fewShared.subarray(u * dim, (u + 1) * dim), want);
      expect(after).toBeLessThan(before);
    }
  });

  test('the reported loss is the whole objective (both sides penalised)', async () => {
    const o: Conf = { alpha: 2, confidence: 'linear', eps: 1, l2: 0.2 };
    const data = randomData(5, 7, 20, 9, true);
    const y = randomTable(7, 3, 10);
    const x = randomTable(5, 3, 11);
    const { r, byUser } = await half(x, y, 3, data, { ...o, solver: 'cholesky', cgSteps: 1 });
    let want = 0;
    for (let u = 0; u < 5; u++) {
      const obs = new Map(entriesOf(byUser, u));
      for (let i = 0; i < 7; i++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += x[u * 3 + c] * y[i * 3 + c];
        const v = obs.get(i);
        const conf = v === undefined ? 1 : 1 + o.alpha * v;
        want += conf * ((v === undefined ? 0 : 1) - s) ** 2;
      }
    }
    for (const t of [x, y]) for (const w of t) want += o.l2 * w * w;
    expect(r.loss).toBeCloseTo(want, 4);
  });

  test('fold-in with the matching options is the same row solve', async () => {
    const o: Conf = { alpha: 4, confidence: 'linear', eps: 1, l2: 0.2 };
    // Distinct pairs: fold-in takes item lists, one entry per item.
    const repeated = randomData(users, items, 150, 12, false);
    const pairs = [...new Set(Array.from(repeated.users, (u, k) => `${u},${repeated.items[k]}`))].map(
      (p) => p.split(',').map(Number) as [number, number],
    );
    const data = Interactions.fromPairs(pairs, { numUsers: users, numItems: items });
    const y = randomTable(items, dim, 13);
    const x = randomTable(users, dim, 14);
    const { byUser } = await half(x, y, dim, data, { ...o, solver: 'cholesky', cgSteps: 1 });
    const lists = Array.from({ length: users }, (_, u) => byUser.indices.subarray(byUser.offsets[u], byUser.offsets[u + 1]));
    const folded = foldIn(new EmbeddingTable(y, dim), historiesFrom(lists), {
      confidence: o.alpha,
      unobservedWeight: 1,
      regularization: o.l2,
    });
    for (let u = 0; u < users; u++)
      if (lists[u].length)
        expect(maxRelError(x.subarray(u * dim, (u + 1) * dim), folded.subarray(u * dim, (u + 1) * dim))).toBeLessThan(2e-5);
  });
});

describe('ALS through AlsTrainer', () => {
  const data = randomData(60, 50, 700, 21, true);

  async function trained(extra: Parameters<typeof AlsTrainer.fit>[2] = {}) {
    const m = new MatrixFactorization({ users: 60, items: 50, dim: 8, seed: 3 });
    const report = await AlsTrainer.fit(m, data, { iterations: 3, alpha: 2, l2: 0.1, threads: 1, ...extra });
    return { m, report };
  }

  test.each(capabilities().supportedIsas.filter((isa) => isa !== 'scalar'))('%s agrees with scalar', async (isa) => {
    setIsa('scalar');
    const ref = await trained();
    setIsa(isa);
    const got = await trained();
    expect(maxRelError(got.m.userEmbedding.table.data, ref.m.userEmbedding.table.data)).toBeLessThan(1e-3);
    expect(maxRelError(got.m.itemEmbedding.table.data, ref.m.itemEmbedding.table.data)).toBeLessThan(1e-3);
  });

  test('results do not depend on the thread count', async () => {
    const one = await trained({ threads: 1 });
    const two = await trained({ threads: 2 });
    expect(sameBits(two.m.userEmbedding.table.data, one.m.userEmbedding.table.data)).toBe(true);
    expect(sameBits(two.m.itemEmbedding.table.data, one.m.itemEmbedding.table.data)).toBe(true);
    expect(two.report.epochs.map((e) => e.loss)).toEqual(one.report.epochs.map((e) => e.loss));
  });

  test('the objective never increases (cholesky, exact halves)', async () => {
    const { report } = await trained({ solver: 'cholesky', iterations: 6 });
    const losses = report.epochs.map((e) => e.loss);
    for (let k = 1; k < losses.length; k++) expect(losses[k]).toBeLessThanOrEqual(losses[k - 1] * (1 + 1e-6));
  });

  test('frozen rows and a non-trainable table are left bit for bit; warm start keeps the rest', async () => {
    const m = new MatrixFactorization({ users: 60, items: 50, dim: 8, seed: 3 });
    m.userEmbedding.freezeRows([0, 7, 59]);
    const frozenBefore = [0, 7, 59].map((u) => m.userEmbedding.table.row(u).slice());
    const otherBefore = m.userEmbedding.table.row(1).slice();
    await AlsTrainer.fitPartial(m, data, { iterations: 2, threads: 2 });
    [0, 7, 59].forEach((u, k) => expect(sameBits(m.userEmbedding.table.row(u), frozenBefore[k])).toBe(true));
    expect(m.userEmbedding.table.row(1)).not.toEqual(otherBefore);

    m.itemEmbedding.trainable = false;
    const items = m.itemEmbedding.table.data.slice();
    await AlsTrainer.fitPartial(m, data, { iterations: 1 });
    expect(sameBits(m.itemEmbedding.table.data, items)).toBe(true);
    expect(m.epochsTrained).toBe(3);
  });

  test('learns a planted dataset well above chance, with early stopping and onEpoch', async () => {
    const { train, test: held } = planted(300, 160, 2);
    const m = new MatrixFactorization({ users: train.numUsers, items: train.numItems, dim: 16, seed: 1 });
    const seen: number[] = [];
    const report = await AlsTrainer.fit(m, train, {
      iterations: 8,
      alpha: 10,
      l2: 0.1,
      validation: { data: held, metric: 'ndcg', patience: 1 },
      onEpoch: (e) => {
        seen.push(e.epoch);
      },
    });
    expect(seen).toEqual(report.epochs.map((e) => e.epoch));
    const als = await evaluateRanking(m, held, { k: 10, exclude: train });
    const random = new MatrixFactorization({ users: train.numUsers, items: train.numItems, dim: 16, seed: 1 });
    const chance = await evaluateRanking(random, held, { k: 10, exclude: train });
    expect(als.recall).toBeGreaterThan(3 * chance.recall + 0.05);
    expect(report.bestMetric).toBeCloseTo(report.epochs[report.bestEpoch - 1].validation!.ndcg, 10);
  });

  test('abort stops between halves with an AbortError', async () => {
    const controller = new AbortController();
    const m = new MatrixFactorization({ users: 60, items: 50, dim: 8 });
    const run = AlsTrainer.fit(m, data, {
      iterations: 50,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: AbortError.name });
  });

  test('repeated pairs are merged with their values summed, and both groupings agree', () => {
    const d = new Interactions({ users: [1, 0, 1, 1, 0], items: [2, 1, 0, 2, 1], values: [1, 2, 3, 0.5, 1], numUsers: 3, numItems: 3 });
    const { byUser, byItem } = alsMatrices(d, 3, 3);
    expect(Array.from(byUser.offsets)).toEqual([0, 1, 3, 3]);
    expect(Array.from(byUser.indices)).toEqual([1, 0, 2]);
    expect(Array.from(byUser.values!)).toEqual([3, 3, 1.5]);
    expect(Array.from(byItem.offsets)).toEqual([0, 1, 2, 3]);
    expect(Array.from(byItem.indices)).toEqual([1, 0, 1]);
    expect(Array.from(byItem.values!)).toEqual([3, 3, 1.5]);
    const plain = alsMatrices(new Interactions({ users: [0, 1], items: [1, 0] }), 2, 2);
    expect(plain.byUser.values).toBeNull();
  });

  test('bad input is typed and names the argument', async () => {
    const m = new MatrixFactorization({ users: 60, items: 50, dim: 4 });
    await expect(AlsTrainer.fit({} as MatrixFactorization, data)).rejects.toMatchObject({
      name: 'TypeError',
      message: expect.stringContaining('model'),
    });
    await expect(AlsTrainer.fit(m, data, { alpha: -1 })).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('options.alpha'),
    });
    await expect(AlsTrainer.fit(m, data, { solver: 'lu' as 'cg' })).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('options.solver'),
    });
    await expect(AlsTrainer.fit(m, data, { cgSteps: 0 })).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('options.cgSteps'),
    });
    await expect(AlsTrainer.fit(m, data, { confidence: 'sqrt' as 'log' })).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('options.confidence'),
    });
    await expect(AlsTrainer.fit(m, data, { eps: 0, confidence: 'log' })).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('options.eps'),
    });
    await expect(AlsTrainer.fit(m, data, { onEpoch: 3 as unknown as () => void })).rejects.toMatchObject({ name: 'TypeError' });
    const negative = new Interactions({ users: [0, 1], items: [0, 1], values: [1, -2] });
    await expect(AlsTrainer.fit(m, negative)).rejects.toMatchObject({
      name: 'RangeError',
      message: expect.stringContaining('data.values[1]'),
    });
    const small = new MatrixFactorization({ users: 2, items: 2, dim: 4 });
    await expect(AlsTrainer.fit(small, data)).rejects.toMatchObject({ name: 'RangeError', message: expect.stringContaining('data') });
  });

  test('the binding refuses overlapping tables and short offsets', () => {
    const buf = sharedFloat32(40);
    const spec = {
      x: buf.subarray(0, 24),
      y: buf.subarray(16, 40),
      dim: 4,
      offsets: new Int32Array(new SharedArrayBuffer(28)),
      indices: new Int32Array(new SharedArrayBuffer(0)),
      values: null,
      frozen: null,
      confidence: AlsConfidence.linear,
      alpha: 1,
      eps: 1,
      l2: 0.1,
      solver: AlsSolver.cg,
      cgSteps: 3,
      threads: 1,
      loss: false,
      cancel: null,
    };
    expect(() => native.alsSolve(spec)).toThrow(/spec\.x and spec\.y/);
    // Async work writes x after the call returns: detachable (non-shared) memory is refused.
    expect(() =>
      native.alsSolve({ ...spec, x: new Float32Array(24), y: sharedFloat32(8), offsets: new Int32Array(new SharedArrayBuffer(28)) }),
    ).toThrow(/spec\.x/);
    expect(() => native.alsSolve({ ...spec, y: sharedFloat32(8), offsets: new Int32Array(new SharedArrayBuffer(8)) })).toThrow(
      /spec\.offsets/,
    );
  });
});

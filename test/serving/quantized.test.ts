// Quantized tables on every kernel path (scalar, AVX2, AVX-512 plain and AVX-512 BF16/VNNI):
// scores within the stated bound of float32, int8 bit-identical across paths, top-K exact on the
// quantized scores with in-kernel exclusions, and rerank reproducing float32 topK exactly.
import {
  EmbeddingTable,
  ItemSet,
  QuantizedTable,
  capabilities,
  quantizedKernels,
  setIsa,
  setQuantizedExtensions,
  topK,
  type IsaName,
} from '../../lib';
import { randomFloats } from '../support/data';
import { lcgTable } from './fixtures';

interface Path {
  label: string;
  isa: IsaName;
  extensions: boolean;
}

const PATHS: Path[] = capabilities().supportedIsas.flatMap((isa): Path[] =>
  isa === 'avx512'
    ? [
        { label: 'avx512', isa, extensions: false },
        ...(quantizedKernels().bf16Vnni ? [{ label: 'avx512-bf16-vnni', isa, extensions: true }] : []),
      ]
    : [{ label: isa, isa, extensions: true }],
);

function on<T>(p: Path, f: () => T): T {
  setIsa(p.isa);
  setQuantizedExtensions(p.extensions);
  try {
    return f();
  } finally {
    setIsa(null);
    setQuantizedExtensions(true);
  }
}

// Every tail of the 16-, 32- and 64-lane loops.
const DIMS = [...Array.from({ length: 34 }, (_, i) => i + 1), 47, 48, 63, 64, 65, 95, 127, 128, 129, 300];

/** The documented bounds (see lib/serving/quantized.ts), with room for float32 summation. */
function bound(kind: 'bf16' | 'int8', q: Float32Array, t: Float32Array, row: number, d: number, scale: number): number {
  let qx = 0;
  let q1 = 0;
  let x1 = 0;
  let qmax = 0;
  for (let k = 0; k < d; k++) {
    qx += Math.abs(q[k] * t[row * d + k]);
    q1 += Math.abs(q[k]);
    x1 += Math.abs(t[row * d + k]);
    qmax = Math.max(qmax, Math.abs(q[k]));
  }
  const f32 = 3 * d * 2 ** -24 * qx + 1e-30;
  if (kind === 'bf16') return (2 ** -7 + 2 ** -16) * qx + f32 + 1e-30;
  const sq = qmax / 127;
  return (q1 * scale + x1 * sq) / 2 + (d * scale * sq) / 4 + 4 * d * 2 ** -24 * (qx + d * scale * sq * 127 * 127) + 1e-30;
}

test('the machine has a SIMD path to test, and the paths are named as expected', () => {
  expect(PATHS.length).toBeGreaterThan(1);
  for (const p of PATHS) expect(on(p, () => quantizedKernels().kernels)).toBe(p.label);
});

describe.each(['bf16', 'int8'] as const)('%s', (kind) => {
  test.each(DIMS)('dim %i: every path within the bound of float32; int8 identical across paths; subsets equal full scans', (dim) => {
    const rows = 37; // two 16-row blocks and a tail of 5
    const values = randomFloats(rows * dim, dim * 131 + 7);
    const table = new EmbeddingTable(values, dim);
    const qt = QuantizedTable.from(table, kind);
    const q = randomFloats(dim, dim * 17 + 3);
    const subset = Int32Array.from({ length: 23 }, (_, j) => (j * 7 + 2) % rows);
    const reference = on(PATHS[0], () => qt.scoreItems(q));
    for (const p of PATHS) {
      const all = on(p, () => qt.scoreItems(q, { threads: 1 }));
      const sub = on(p, () => qt.scoreItems(q, { items: subset, threads: 1 }));
      for (let i = 0; i < rows; i++) {
        let exact = 0;
        for (let k = 0; k < dim; k++) exact += q[k] * values[i * dim + k];
        const scale = qt.scales ? qt.scales[i] : 0;
        expect(Math.abs(all[i] - exact)).toBeLessThanOrEqual(bound(kind, q, values, i, dim, scale));
        if (kind === 'int8') expect(all[i]).toBe(reference[i]);
        else expect(Math.abs(all[i] - reference[i])).toBeLessThanOrEqual(3 * dim * 2 ** -24 * Math.abs(exact) + 4 * dim * 2 ** -24 * 64);
      }
      subset.forEach((r, j) => expect(sub[j]).toBe(all[r]));
    }
  });

  test('top-K is the exact top-K of the quantized scores, with exclusions, block list and allow-list in the kernel, on every path', () => {
    const rows = 5000;
    const dim = 48;
    const table = new EmbeddingTable(randomFloats(rows * dim, 5), dim);
    const qt = QuantizedTable.from(table, kind);
    const q = randomFloats(dim, 6);
    const exclude = Int32Array.from({ length: 100 }, (_, j) => (j * 37) % rows);
    const block = new ItemSet([1, 2, 3, 4000]);
    const allow = Int32Array.from({ length: 900 }, (_, j) => j * 5 + 1);
    for (const p of PATHS) {
      on(p, () => {
        const scores = qt.scoreItems(q);
        const banned = new Set([...exclude, ...block.indices]);
        const allowed = new Set(allow);
        const expectTop = (cands: number[], k: number) =>
          cands
            .filter((i) => !banned.has(i))
            .sort((a, b) => scores[b] - scores[a] || a - b)
            .slice(0, k);
        const all = qt.topK(q, 20, { exclude, block, threads: 1 });
        expect(Array.from(all.indices)).toEqual(
          expectTop(
            Array.from({ length: rows }, (_, i) => i),
            20,
          ),
        );
        expect(Array.from(all.scores)).toEqual(Array.from(all.indices, (i) => scores[i]));
        const sub = qt.topK(q, 20, { exclude, block, allow, threads: 1 });
        expect(Array.from(sub.indices)).toEqual(expectTop([...allowed], 20));
        expect(sub.indices.every((i) => allowed.has(i) && !banned.has(i))).toBe(true);
      });
    }
  });

  test('rerank with R ≥ rows gives exactly the float32 topK (indices and scores), on every path', () => {
    const rows = 3000;
    const dim = 64;
    const table = EmbeddingTable.create(rows, dim);
    table.data.set(randomFloats(rows * dim, 9));
    const qt = QuantizedTable.from(table, kind);
    for (const p of PATHS) {
      on(p, () => {
        for (let s = 0; s < 5; s++) {
          const q = randomFloats(dim, 100 + s);
          const exact = topK(table, q, 10, { exclude: [0, 1, 2], threads: 1 });
          const rr = qt.topK(q, 10, { exclude: [0, 1, 2], rerank: rows, reference: table, threads: 1 });
          expect(Array.from(rr.indices)).toEqual(Array.from(exact.indices));
          expect(Array.from(rr.scores)).toEqual(Array.from(exact.scores));
        }
      });
    }
  });
});

test('recall@10 against float32 exact, 100k × 64 (quantized alone, and with a rerank of 100)', () => {
  const rows = 100_000;
  const dim = 64;
  const table = lcgTable(rows, dim, 3);
  const queries = 50;
  for (const kind of ['bf16', 'int8'] as const) {
    const qt = QuantizedTable.from(table, kind);
    let plain = 0;
    let reranked = 0;
    for (let s = 0; s < queries; s++) {
      const q = randomFloats(dim, 1000 + s);
      const truth = new Set(topK(table, q, 10).indices);
      plain += Array.from(qt.topK(q, 10).indices).filter((i) => truth.has(i)).length / 10;
      reranked += Array.from(qt.topK(q, 10, { rerank: 100, reference: table }).indices).filter((i) => truth.has(i)).length / 10;
    }
    expect(plain / queries).toBeGreaterThan(kind === 'bf16' ? 0.9 : 0.8);
    expect(reranked / queries).toBeGreaterThanOrEqual(0.99);
  }
});

test('two threads give the single-thread result', () => {
  const rows = 200_000;
  const dim = 32;
  const table = lcgTable(rows, dim, 4);
  for (const kind of ['bf16', 'int8'] as const) {
    const qt = QuantizedTable.from(table, kind, { threads: 2 });
    const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const single = QuantizedTable.from(table, kind, { threads: 1 });
    expect(bytes(single.codes).equals(bytes(qt.codes))).toBe(true);
    if (kind === 'int8')
      expect(bytes(single.scales!).equals(bytes(qt.scales!)) && bytes(single.rowSums!).equals(bytes(qt.rowSums!))).toBe(true);
    const q = randomFloats(dim, 8);
    const one = qt.topK(q, 15, { exclude: [5, 6], threads: 1 });
    const two = qt.topK(q, 15, { exclude: [5, 6], threads: 2 });
    expect(Array.from(two.indices)).toEqual(Array.from(one.indices));
    expect(Array.from(two.scores)).toEqual(Array.from(one.scores));
  }
});

test('fromShared adopts the same memory', () => {
  const table = EmbeddingTable.create(100, 8, { init: 'normal', seed: 1 });
  const qt = QuantizedTable.from(table, 'int8');
  const again = QuantizedTable.fromShared(qt.toShared());
  expect(again.codes.buffer).toBe(qt.codes.buffer);
  expect(Array.from(again.topK(randomFloats(8, 2), 5).indices)).toEqual(Array.from(qt.topK(randomFloats(8, 2), 5).indices));
});

test('bad input gets typed errors naming the argument', () => {
  const table = EmbeddingTable.create(100, 8, { init: 'normal', seed: 1 });
  const qt = QuantizedTable.from(table, 'bf16');
  const q = randomFloats(8, 1);
  const expectError = (f: () => unknown, name: string, code: string, argument?: string) => {
    try {
      f();
    } catch (err) {
      const e = err as { name: string; code: string; argument?: string };
      expect(e.name).toBe(name);
      expect(e.code).toBe(code);
      if (argument) expect(e.argument).toBe(argument);
      return;
    }
    throw new Error('expected an error');
  };
  expectError(() => QuantizedTable.from(table, 'int4' as never), 'RangeError', 'ERR_OUT_OF_RANGE', 'kind');
  expectError(() => QuantizedTable.from({} as never, 'int8'), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'table');
  expectError(() => qt.topK(q, 0), 'RangeError', 'ERR_OUT_OF_RANGE', 'k');
  expectError(() => qt.topK(new Float32Array(7), 3), 'RangeError', 'ERR_INVALID_ARG_VALUE', 'query');
  expectError(() => qt.topK(q, 3, { rerank: 10 }), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'options.reference');
  expectError(() => qt.topK(q, 3, { exclude: [100] }), 'RangeError', 'ERR_OUT_OF_RANGE', 'options.exclude[0]');
  expectError(
    () => qt.topK(q, 3, { rerank: 5, reference: EmbeddingTable.create(99, 8) }),
    'TypeError',
    'ERR_INVALID_ARG_TYPE',
    'options.reference',
  );
  expectError(
    () => QuantizedTable.fromShared({ kind: 'int8', dim: 8, codes: new Int8Array(16), scales: null, rowSums: null }),
    'TypeError',
    'ERR_INVALID_ARG_TYPE',
    'handle.scales',
  );
});

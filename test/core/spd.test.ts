import { choleskyFactor, choleskySolve, crossProduct, spdInverse } from '../../lib/core/spd';
import { setIsa } from '../../lib/core/config';
import { capabilities } from '../../lib/core/config';
import { native } from '../../lib/core/native';
import { sharedFloat32 } from '../../lib/core/shared-memory';

/** A seeded SPD matrix G Gᵀ / n + I in float64 (row-major) and its float32 copy. */
function spd(n: number, seed: number): { a64: Float64Array; a32: Float32Array } {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const g = Float64Array.from({ length: n * n }, rand);
  const a64 = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += g[i * n + k] * g[j * n + k];
      a64[i * n + j] = a64[j * n + i] = (4 * t) / n + (i === j ? 1 : 0);
    }
  return { a64, a32: Float32Array.from(a64) };
}

/** Float64 inverse by Gauss–Jordan (independent of the Cholesky path under test). */
function inverse64(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const p = m[c * n + c];
    for (let j = 0; j < n; j++) {
      m[c * n + j] /= p;
      inv[c * n + j] /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[r * n + j] -= f * m[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('SPD solver', () => {
  test.each([1, 2, 3, 7, 31, 97, 129, 201, 299])('n = %i: factor, solve and inverse match float64', async (n) => {
    const { a64, a32 } = spd(n, 17 + n);
    const inv = inverse64(a64, n);
    const p = await spdInverse(Float32Array.from(a32), n, { threads: 2 });
    expect(maxDiff(p, inv)).toBeLessThan(2e-5);
    const l = await choleskyFactor(Float32Array.from(a32), n, { threads: 2 });
    // Lower triangular, and L Lᵀ reproduces the matrix.
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
    let err = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let t = 0;
        for (let k = 0; k <= j; k++) t += l[i * n + k] * l[j * n + k];
        err = Math.max(err, Math.abs(t - a64[i * n + j]));
      }
    expect(err).toBeLessThan(1e-4);
    const m = 3;
    const b = Float32Array.from({ length: n * m }, (_, x) => Math.sin(x + 1));
    const x = await choleskySolve(l, n, Float32Array.from(b), m, { threads: 1 });
    const want = new Float64Array(n * m);
    for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) for (let k = 0; k < n; k++) want[i * m + c] += inv[i * n + k] * b[k * m + c];
    expect(maxDiff(x, want)).toBeLessThan(1e-4);
  });

  test('threads and ISA paths agree (bit for bit across threads)', async () => {
    const n = 257;
    const { a32 } = spd(n, 5);
    const one = await spdInverse(Float32Array.from(a32), n, { threads: 1 });
    const two = await spdInverse(Float32Array.from(a32), n, { threads: 2 });
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    setIsa('scalar');
    try {
      const scalar = await spdInverse(Float32Array.from(a32), n, { threads: 2 });
      expect(maxDiff(scalar, one)).toBeLessThan(1e-5);
    } finally {
      setIsa(null);
    }
    expect(capabilities().isa).toBeDefined();
  });

  test('crossProduct: Gram and cross products of sparse rows, weighted or not', async () => {
    // 3 rows over a (4 columns) and b (2 columns).
    const a = { csr: { offsets: Int32Array.of(0, 2, 3, 5), indices: Int32Array.of(0, 3, 1, 0, 1) }, cols: 4 };
    const b = { csr: { offsets: Int32Array.of(0, 1, 2, 2), indices: Int32Array.of(1, 0), weights: Float32Array.of(2, 3) }, cols: 2 };
    const g = await crossProduct(a);
    expect(Array.from(g)).toEqual([2, 1, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
    const c = await crossProduct(a, b);
    expect(Array.from(c)).toEqual([0, 2, 3, 0, 0, 0, 0, 2]);
    expect((await crossProduct({ csr: { offsets: Int32Array.of(0), indices: new Int32Array(0) }, cols: 0 })).length).toBe(0);
  });

  test('bad input is typed and names the argument', async () => {
    await expect(spdInverse(Float32Array.of(1, 2, 2, 1), 2)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringMatching(/not positive definite/),
    });
    await expect(choleskyFactor(Float32Array.of(Number.NaN), 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(spdInverse(new Float32Array(3), 2)).rejects.toMatchObject({ name: 'RangeError', argument: 'matrix' });
    await expect(spdInverse([1] as unknown as Float32Array, 1)).rejects.toMatchObject({ name: 'TypeError', argument: 'matrix' });
    await expect(spdInverse(new Float32Array(1), -1)).rejects.toMatchObject({ name: 'RangeError', argument: 'n' });
    await expect(choleskySolve(Float32Array.of(1), 1, new Float32Array(3), 2)).rejects.toMatchObject({ argument: 'rhs' });
    await expect(crossProduct({ csr: { offsets: Int32Array.of(0, 1), indices: Int32Array.of(5) }, cols: 2 })).rejects.toMatchObject({
      name: 'RangeError',
    });
    await expect(crossProduct({ csr: null, cols: 2 } as never)).rejects.toMatchObject({ name: 'TypeError', argument: 'a.csr' });
  });

  test('the binding re-checks what lib/ already validated', async () => {
    const call = (f: () => Promise<unknown>) => (async () => f())();
    // In-place async work needs memory that cannot be detached meanwhile.
    await expect(call(() => native.spdInverse({ matrix: new Float32Array(4), n: 2, threads: 1 }))).rejects.toMatchObject({
      name: 'TypeError',
    });
    await expect(call(() => native.spdFactor({ matrix: sharedFloat32(3), n: 2, threads: 1 }))).rejects.toMatchObject({
      name: 'RangeError',
    });
    await expect(
      call(() => native.spdSolve({ factor: sharedFloat32(4), n: 2, rhs: sharedFloat32(5), m: 3, threads: 1 })),
    ).rejects.toMatchObject({ name: 'RangeError' });
    const bad = {
      rows: 1,
      aOffsets: Int32Array.of(0, 2),
      aIndices: Int32Array.of(0, 9),
      aValues: null,
      aCols: 2,
      accumulate: false,
      threads: 1,
    };
    await expect(call(() => native.csrCrossProduct({ ...bad, out: sharedFloat32(4) }))).rejects.toMatchObject({ name: 'RangeError' });
    const offsets = { ...bad, aOffsets: Int32Array.of(0, 3), aIndices: Int32Array.of(0, 1) };
    await expect(call(() => native.csrCrossProduct({ ...offsets, out: sharedFloat32(4) }))).rejects.toMatchObject({ name: 'RangeError' });
  });
});

/**
 * The little dense linear algebra transfer needs: Gram matrices and symmetric positive-definite
 * solves (Cholesky) for ridge regressions of size ≤ a few hundred. Float64 throughout, because the
 * normal equations square the condition number.
 */
import { RecbridgeError } from '../core/errors';

/** Lower Cholesky factor of the n × n SPD matrix a (row-major), in place. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!Number.isFinite(d))
      throw new RecbridgeError('ERR_DIVERGED', 'The vectors to solve against hold NaN or infinite values (a diverged model?)');
    if (!(d > 0))
      throw new RecbridgeError(
        'ERR_INVALID_ARG_VALUE',
        'The regularised normal equations are not positive definite: increase the regularization',
      );
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
  return a;
}

/** Solves L Lᵀ x = b for each of the m columns of b (n × m, row-major), in place in b. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = b[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = b[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
  }
  return b;
}

/** Σ over the listed rows (all rows when null) of v vᵀ, dim × dim, scaled. Adds into out. */
export function addGram(
  out: Float64Array,
  data: Float32Array,
  dim: number,
  rows: ArrayLike<number> | null,
  count: number,
  scale = 1,
): Float64Array {
  const n = rows ? rows.length : count;
  for (let k = 0; k < n; k++) {
    const base = (rows ? rows[k] : k) * dim;
    for (let i = 0; i < dim; i++) {
      const vi = data[base + i] * scale;
      if (vi === 0) continue;
      const o = i * dim;
      for (let j = 0; j <= i; j++) out[o + j] += vi * data[base + j];
    }
  }
  // Only the lower triangle was accumulated: mirror it.
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) out[j * dim + i] = out[i * dim + j];
  return out;
}

/**
 * Ridge regression Y ≈ [X 1] W: X is n × p, Y is n × q; returns W as (p + 1) × q (the last row is
 * the intercept, which is not penalised).
 */
export function ridge(x: Float32Array, p: number, y: Float32Array, q: number, n: number, lambda: number): Float64Array {
  const m = p + 1;
  const a = new Float64Array(m * m);
  const b = new Float64Array(m * q);
  const row = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < p; i++) row[i] = x[k * p + i];
    row[p] = 1;
    for (let i = 0; i < m; i++) {
      const ri = row[i];
      for (let j = 0; j <= i; j++) a[i * m + j] += ri * row[j];
      for (let c = 0; c < q; c++) b[i * q + c] += ri * y[k * q + c];
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) a[j * m + i] = a[i * m + j];
  for (let i = 0; i < p; i++) a[i * m + i] += lambda;
  a[p * m + p] += 1e-9; // keeps a constant-only problem solvable
  return choleskySolve(cholesky(a, m), m, b, q);
}

/** Applies ridge weights: [X 1] W for n rows. */
export function applyLinear(x: Float32Array, p: number, w: Float64Array, q: number, n: number): Float32Array {
  const out = new Float32Array(n * q);
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < q; c++) {
      let s = w[p * q + c];
      for (let i = 0; i < p; i++) s += x[k * p + i] * w[i * q + c];
      out[k * q + c] = s;
    }
  }
  return out;
}

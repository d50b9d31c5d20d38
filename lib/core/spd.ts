/**
 * Dense symmetric positive-definite algebra on the native thread pool, for closed-form models (EASE,
 * kernel ridge): Gram and cross products from sparse rows, Cholesky factor, solves and inverse.
 * Float32 storage (an n = 20,000 matrix is 1.6 GB); the factor accumulates each diagonal block and
 * panel in float64, so for the regularised Gram matrices these models solve the inverse agrees with
 * a float64 one to about 1e-6 relative. Every call is asynchronous; results do not depend on
 * `threads`.
 */
import { types } from 'node:util';

import { resolveThreads } from './config';
import type { Csr, WeightedCsr } from './csr';
import { RecbridgeError } from './errors';
import { native } from './native';
import { sharedCopy, sharedFloat32 } from './shared-memory';
import { expectFloat32Array, expectInteger, expectOptions, rangeError, typeError } from './validate';

/** The largest matrix side these functions accept (n × n floats must fit one typed array). */
export const MAX_SPD_SIZE = 46_340;

export interface SpdOptions {
  /** Native threads. Default: configure().threads. */
  threads?: number;
}

/** A sparse matrix given as rows: `csr` over `cols` columns (values: 1 where csr.weights is absent). */
export interface SparseRows {
  csr: Csr | WeightedCsr;
  cols: number;
}

function shared(view: Float32Array): Float32Array {
  return types.isSharedArrayBuffer(view.buffer) ? view : sharedCopy(view);
}

function checkSparse(
  argument: string,
  value: unknown,
  rows: number | null,
): { off: Int32Array; idx: Int32Array; w: Float32Array | null; cols: number } {
  if (!value || typeof value !== 'object') throw typeError(argument, '{ csr: { offsets, indices, weights? }, cols }', value);
  const { csr, cols } = value as SparseRows;
  if (!csr || !types.isInt32Array(csr.offsets) || !types.isInt32Array(csr.indices))
    throw typeError(`${argument}.csr`, '{ offsets: Int32Array, indices: Int32Array }', csr);
  const n = expectInteger(`${argument}.cols`, cols, 0, MAX_SPD_SIZE);
  if (rows !== null && csr.offsets.length !== rows + 1)
    throw rangeError(`${argument}.csr.offsets`, `${rows + 1} offsets (the rows of the first matrix)`, csr.offsets.length);
  const w = (csr as WeightedCsr).weights;
  if (w !== undefined && !(types.isFloat32Array(w) && w.length === csr.indices.length))
    throw typeError(`${argument}.csr.weights`, `Float32Array of length ${csr.indices.length}`, w);
  return { off: csr.offsets, idx: csr.indices, w: w ?? null, cols: n };
}

/**
 * AᵀB for two sparse matrices over the same rows (e.g. users): entry (i, j) sums a_r[i]·b_r[j] over
 * the rows. Without `b`, the Gram matrix AᵀA (symmetric). Returns a dense a.cols × b.cols matrix,
 * row-major, on a SharedArrayBuffer (ready for choleskyFactor / spdInverse).
 */
export async function crossProduct(a: SparseRows, b?: SparseRows, options?: SpdOptions): Promise<Float32Array> {
  const sa = checkSparse('a', a, null);
  const rows = sa.off.length - 1;
  const sb = b === undefined ? null : checkSparse('b', b, rows);
  const o = expectOptions('options', options);
  const threads = resolveThreads('options.threads', o.threads);
  const bCols = sb ? sb.cols : sa.cols;
  if (sa.cols * bCols > 2 ** 31 - 1) throw rangeError('a.cols', 'a.cols × b.cols below 2^31', sa.cols);
  const out = sharedFloat32(sa.cols * bCols);
  await native.csrCrossProduct({
    rows,
    aOffsets: sa.off,
    aIndices: sa.idx,
    aValues: sa.w,
    aCols: sa.cols,
    ...(sb ? { bOffsets: sb.off, bIndices: sb.idx, bValues: sb.w, bCols: sb.cols } : {}),
    out,
    accumulate: false,
    threads,
  });
  return out;
}

function notPositiveDefinite(argument: string, pivot: number): RecbridgeError {
  return new RecbridgeError(
    'ERR_INVALID_ARG_VALUE',
    `${argument} is not positive definite (pivot ${pivot - 1} is not positive or not finite): add a larger ridge to its diagonal`,
  );
}

function squareMatrix(argument: string, matrix: unknown, n: unknown): number {
  const size = expectInteger('n', n, 0, MAX_SPD_SIZE);
  expectFloat32Array(argument, matrix, size * size);
  return size;
}

/**
 * The lower Cholesky factor L (L Lᵀ = matrix) of an n × n SPD matrix, row-major, computed in place
 * when the matrix is on a SharedArrayBuffer (otherwise on a shared copy, which is returned). Throws
 * ERR_INVALID_ARG_VALUE when the matrix is not positive definite.
 */
export async function choleskyFactor(matrix: Float32Array, n: number, options?: SpdOptions): Promise<Float32Array> {
  const size = squareMatrix('matrix', matrix, n);
  const threads = resolveThreads('options.threads', expectOptions('options', options).threads);
  const m = shared(matrix);
  const status = await native.spdFactor({ matrix: m, n: size, threads });
  if (status !== 0) throw notPositiveDefinite('matrix', status);
  return m;
}

/**
 * Solves L Lᵀ X = B for the m columns of `rhs` (n × m, row-major) with a factor from choleskyFactor;
 * in place when rhs is on a SharedArrayBuffer (otherwise on a shared copy). Returns X.
 */
export async function choleskySolve(
  factor: Float32Array,
  n: number,
  rhs: Float32Array,
  m: number,
  options?: SpdOptions,
): Promise<Float32Array> {
  const size = squareMatrix('factor', factor, n);
  const cols = expectInteger('m', m, 0, 2 ** 31 - 1);
  if (size * cols > 2 ** 31 - 1) throw rangeError('m', 'n × m below 2^31', m);
  expectFloat32Array('rhs', rhs, size * cols);
  const threads = resolveThreads('options.threads', expectOptions('options', options).threads);
  const out = shared(rhs);
  await native.spdSolve({ factor: shared(factor), n: size, rhs: out, m: cols, threads });
  return out;
}

/** The inverse of an n × n SPD matrix (in place when shared, as choleskyFactor). */
export async function spdInverse(matrix: Float32Array, n: number, options?: SpdOptions): Promise<Float32Array> {
  const size = squareMatrix('matrix', matrix, n);
  const threads = resolveThreads('options.threads', expectOptions('options', options).threads);
  const m = shared(matrix);
  const status = await native.spdInverse({ matrix: m, n: size, threads });
  if (status !== 0) throw notPositiveDefinite('matrix', status);
  return m;
}

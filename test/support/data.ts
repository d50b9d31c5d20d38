// Seeded synthetic data and slow, obviously-correct references for the tests.
import { uniformGenerator } from '../../lib/core/random';

/** Uniform floats in [-1, 1). */
export function randomFloats(n: number, seed: number): Float32Array {
  const u = uniformGenerator(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = u() * 2 - 1;
  return out;
}

/**
 * Small integers in [-range, range]: every partial sum of a dot product is exact in float32, so
 * every ISA path must agree bit for bit, and ties are frequent (which exercises tie-breaking).
 */
export function randomInts(n: number, seed: number, range = 3): Float32Array {
  const u = uniformGenerator(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(u() * (2 * range + 1)) - range;
  return out;
}

/** Float64 dot product and the sum of |products| (for a rounding-error bound). */
export function refDot(q: ArrayLike<number>, t: ArrayLike<number>, row: number, dim: number): { dot: number; mag: number } {
  let dot = 0;
  let mag = 0;
  for (let k = 0; k < dim; k++) {
    const p = q[k] * t[row * dim + k];
    dot += p;
    mag += Math.abs(p);
  }
  return { dot, mag };
}

/**
 * Any float32 summation order of d products is within d·u·Σ|products| of the exact value
 * (u = 2^-24), so two implementations differ by at most twice that (plus a little slack).
 */
export function dotTolerance(dim: number, mag: number): number {
  return 2.5 * dim * 2 ** -24 * mag + 1e-30;
}

/** Reference top-k: a stable sort of (score desc, index asc) over eligible rows. */
export function refTopK(
  scores: ArrayLike<number>,
  k: number,
  eligible: (i: number) => boolean = () => true,
  candidates?: ArrayLike<number>,
): { indices: number[]; scores: number[] } {
  const ids: number[] = [];
  if (candidates) {
    const seen = new Set<number>();
    for (let j = 0; j < candidates.length; j++) {
      const i = candidates[j];
      if (!seen.has(i) && eligible(i) && !Number.isNaN(scores[i])) ids.push(i);
      seen.add(i);
    }
  } else {
    for (let i = 0; i < scores.length; i++) if (eligible(i) && !Number.isNaN(scores[i])) ids.push(i);
  }
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  const top = ids.slice(0, k);
  return { indices: top, scores: top.map((i) => scores[i]) };
}

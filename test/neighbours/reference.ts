// Brute-force references for the neighbourhood tests: dense double-precision similarities over a
// user x item matrix, computed straight from the documented formulas.
import { uniformGenerator } from '../../lib/core/random';
import { Interactions } from '../../lib/data/interactions';

export type Sim = 'cosine' | 'tfidf' | 'bm25';

/** Random implicit data: each user touches each item with probability density (duplicates possible). */
export function randomInteractions(users: number, items: number, density: number, seed: number, withValues = false): Interactions {
  const u = uniformGenerator(seed);
  const us: number[] = [];
  const is: number[] = [];
  const vs: number[] = [];
  for (let a = 0; a < users; a++) {
    for (let i = 0; i < items; i++) {
      if (u() < density) {
        us.push(a);
        is.push(i);
        vs.push(1 + Math.floor(u() * 4));
        if (u() < 0.1) {
          us.push(a); // a duplicate interaction
          is.push(i);
          vs.push(1);
        }
      }
    }
  }
  return new Interactions({ users: us, items: is, values: withValues ? vs : undefined, numUsers: users, numItems: items });
}

/** Dense user x item values: 1 per distinct pair, or summed values. */
export function denseMatrix(data: Interactions, useValues: boolean): Float64Array[] {
  const m = Array.from({ length: data.numUsers }, () => new Float64Array(data.numItems));
  for (let p = 0; p < data.size; p++) {
    if (useValues) m[data.users[p]][data.items[p]] += data.values![p];
    else m[data.users[p]][data.items[p]] = 1;
  }
  return m;
}

/** sim[i][j] for i in [0, items) over the dense matrix; NaN where i and j share no user (or i = j). */
export function referenceSimilarity(
  x: Float64Array[],
  items: number,
  sim: Sim,
  opts: { shrink?: number; k1?: number; b?: number } = {},
): Float64Array[] {
  const shrink = opts.shrink ?? 0;
  const k1 = opts.k1 ?? 1.2;
  const b = opts.b ?? 0.75;
  const users = x.length;
  const len = new Float64Array(items);
  let total = 0;
  for (let u = 0; u < users; u++)
    for (let i = 0; i < items; i++) {
      len[i] += x[u][i];
      total += x[u][i];
    }
  const avg = total / items || 1;
  const w = x.map((row) => {
    const nu = row.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    const idf = Math.log(items) - Math.log1p(nu);
    return row.map((v, i) => {
      if (v === 0) return 0;
      if (sim === 'cosine') return v;
      if (sim === 'tfidf') return Math.sqrt(v) * idf;
      return ((v * (k1 + 1)) / (k1 * (1 - b + (b * len[i]) / avg) + v)) * idf;
    });
  });
  const norm = new Float64Array(items);
  for (let u = 0; u < users; u++) for (let i = 0; i < items; i++) norm[i] += w[u][i] * w[u][i];
  const out = Array.from({ length: items }, () => new Float64Array(items).fill(NaN));
  for (let i = 0; i < items; i++) {
    for (let j = 0; j < items; j++) {
      if (i === j) continue;
      let s = 0;
      let c = 0;
      for (let u = 0; u < users; u++) {
        if (x[u][i] > 0 && x[u][j] > 0) {
          s += w[u][i] * w[u][j];
          c++;
        }
      }
      if (c === 0) continue;
      if (sim === 'cosine') s /= Math.sqrt(norm[i]) * Math.sqrt(norm[j]);
      if (shrink > 0) s *= c / (c + shrink);
      out[i][j] = s;
    }
  }
  return out;
}

/** A graph's rows as maps candidate -> score. */
export function rowsOf(a: { rows: number; offsets: Int32Array; indices: Int32Array; scores: Float32Array }): Map<number, number>[] {
  return Array.from({ length: a.rows }, (_, r) => {
    const m = new Map<number, number>();
    for (let p = a.offsets[r]; p < a.offsets[r + 1]; p++) m.set(a.indices[p], a.scores[p]);
    return m;
  });
}

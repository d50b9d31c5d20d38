/**
 * Seeded splits of interactions. splitByUser: each user's interactions are shuffled and cut by ratio
 * (RecBole's "RS" split grouped by user: every part after the first gets ⌊ratio·n⌋ rows, the first
 * gets the rest), so every user with enough interactions appears in every part.
 */
import { uniformGenerator } from '../core/random';
import { Interactions } from './interactions';
import { expectInteger, rangeError, typeError } from '../core/validate';

export function splitByUser(data: Interactions, ratios: readonly number[], seed = 0): Interactions[] {
  if (!(data instanceof Interactions)) throw typeError('data', 'Interactions', data);
  if (!Array.isArray(ratios) || ratios.length < 2 || ratios.some((r) => typeof r !== 'number' || !(r > 0))) {
    throw rangeError('ratios', 'an array of two or more positive numbers', ratios);
  }
  const total = ratios.reduce((s, r) => s + r, 0);
  if (Math.abs(total - 1) > 1e-9) throw rangeError('ratios', 'ratios summing to 1', ratios);
  expectInteger('seed', seed, 0, 2 ** 32 - 1);
  const rand = uniformGenerator(seed);
  // Rows of each user, in file order, then shuffled per user (Fisher-Yates).
  const counts = new Int32Array(data.numUsers + 1);
  for (const u of data.users) counts[u + 1]++;
  for (let u = 0; u < data.numUsers; u++) counts[u + 1] += counts[u];
  const fill = counts.slice(0, data.numUsers);
  const rows = new Int32Array(data.size);
  for (let i = 0; i < data.size; i++) rows[fill[data.users[i]]++] = i;
  const parts: number[][] = ratios.map(() => []);
  for (let u = 0; u < data.numUsers; u++) {
    const seg = rows.subarray(counts[u], counts[u + 1]);
    for (let i = seg.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = seg[i];
      seg[i] = seg[j];
      seg[j] = t;
    }
    const n = seg.length;
    const sizes = ratios.map((r) => Math.floor(r * n));
    sizes[0] = n - sizes.slice(1).reduce((s, x) => s + x, 0);
    let at = 0;
    sizes.forEach((size, p) => {
      for (let k = 0; k < size; k++) parts[p].push(seg[at++]);
    });
  }
  return parts.map((idx) => data.subset(Int32Array.from(idx)));
}

/**
 * Global temporal split: everything before a time goes to the earlier part, so no part is trained
 * on the future of another. Either explicit cut times, or ratios of the rows in time order.
 */
import type { Interactions } from './interactions';
import { expectOptions, rangeError, typeError } from '../core/validate';
import { expectInteractions, expectTimestamps, partsOf } from './group-rows';

export type TemporalSplitOptions =
  /** Rows with time < cut[0] form part 0, cut[0] ≤ time < cut[1] part 1, …: cuts.length + 1 parts. */
  | { cut: number | readonly number[] }
  /**
   * Rows in time order (ties: file order) cut by ratio (summing to 1); as in splitByUser, every
   * part after the first gets ⌊ratio·n⌋ rows and the first gets the rest.
   */
  | { ratios: readonly number[] };

export function temporalSplit(data: Interactions, options: TemporalSplitOptions): Interactions[] {
  expectInteractions('data', data);
  const o = expectOptions('options', options) as { cut?: unknown; ratios?: unknown };
  if ((o.cut === undefined) === (o.ratios === undefined)) throw typeError('options', '{ cut } or { ratios } (exactly one)', options);
  const times = expectTimestamps('data', data, 'a temporal split');
  const label = new Int32Array(data.size);
  if (o.cut !== undefined) {
    const cuts = typeof o.cut === 'number' ? [o.cut] : o.cut;
    if (!Array.isArray(cuts) || cuts.length === 0) throw typeError('options.cut', 'a time or a non-empty array of times', o.cut);
    cuts.forEach((c, k) => {
      if (typeof c !== 'number' || !Number.isFinite(c)) throw typeError(`options.cut[${k}]`, 'finite number', c);
      if (k > 0 && !(c > cuts[k - 1])) throw rangeError(`options.cut[${k}]`, `a time after options.cut[${k - 1}] (${cuts[k - 1]})`, c);
    });
    times.forEach((t, i) => {
      let p = 0;
      while (p < cuts.length && t >= cuts[p]) p++;
      label[i] = p;
    });
    return partsOf(data, label, cuts.length + 1);
  }
  const ratios = o.ratios;
  if (!Array.isArray(ratios) || ratios.length < 2 || ratios.some((r) => typeof r !== 'number' || !(r > 0))) {
    throw rangeError('options.ratios', 'an array of two or more positive numbers', ratios);
  }
  if (Math.abs(ratios.reduce((s, r) => s + r, 0) - 1) > 1e-9) throw rangeError('options.ratios', 'ratios summing to 1', ratios);
  const order = Int32Array.from({ length: data.size }, (_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
  const n = data.size;
  const sizes = ratios.map((r) => Math.floor(r * n));
  sizes[0] = n - sizes.slice(1).reduce((s, x) => s + x, 0);
  let at = 0;
  sizes.forEach((size, p) => {
    for (let k = 0; k < size; k++) label[order[at++]] = p;
  });
  return partsOf(data, label, ratios.length);
}

/**
 * Score fusion: several models' per-user score vectors, each normalised, blended with non-negative
 * weights that sum to 1, ranked exactly.
 *
 * Two normalisations, because score scales differ per model and per user: 'minmax' maps each vector
 * onto [0, 1] over the catalogue (keeps how much better the first item is than the tenth); 'rank'
 * replaces a score by a reciprocal-rank value C/(C + r) − C/(C + D) over the top D items and 0 below
 * them (reciprocal rank fusion, Cormack et al. 2009; the shift makes the value continuous at depth D),
 * which ignores the shape of the score distribution. Items tied with a vector's lowest score carry no
 * information and get 0 under both.
 *
 * Blends are ranked among the union of each component's top D items only when that is provably
 * exact (Fagin's threshold argument: an item outside every top list scores at most Σ w_c·τ_c, τ_c
 * being component c's normalised score at depth D; when k candidates score strictly more, nothing
 * outside can enter the top k), and over the whole catalogue otherwise. Both paths compute each
 * blended score with the same float32 arithmetic, and ties go to the lower item index, as in the
 * native top-K kernel: the two paths, and the full score vector of `blend`, rank identically.
 */
import { topK } from '../core/scoring';
import { EmbeddingTable } from '../core/table';

export type FusionNormalization = 'minmax' | 'rank';
export const FUSION_NORMALIZATIONS: readonly FusionNormalization[] = ['minmax', 'rank'];

/** One blend: a normalisation and one weight per component. */
export interface FusionConfig {
  normalize: FusionNormalization;
  weights: number[];
}

/** Reciprocal-rank constant (the usual RRF value). */
const RANK_C = 60;
const ONE = new Float32Array([1]);

/**
 * Every weight vector of `components` non-negative multiples of 1/steps that sum to 1, the
 * single-component vertices first (in component order), so that argmax ties keep a component alone.
 */
export function simplexGrid(components: number, steps: number): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < components; c++) out.push(Array.from({ length: components }, (_, i) => (i === c ? 1 : 0)));
  const walk = (prefix: number[], left: number) => {
    if (prefix.length === components - 1) {
      const w = [...prefix, left];
      if (w.filter((x) => x > 0).length > 1) out.push(w.map((x) => x / steps));
      return;
    }
    for (let x = left; x >= 0; x--) walk([...prefix, x], left - x);
  };
  walk([], steps);
  return out;
}

/**
 * The configurations fusion tries: every simplex point under every normalisation, the vertices once
 * (a single component ranks the same under either normalisation, ties aside).
 */
export function fusionGrid(components: number, normalizations: readonly FusionNormalization[]): FusionConfig[] {
  const steps = components <= 2 ? 10 : components === 3 ? 5 : 4;
  const grid = simplexGrid(components, steps);
  const out: FusionConfig[] = grid.slice(0, components).map((weights) => ({ normalize: normalizations[0], weights }));
  for (const normalize of normalizations) for (const weights of grid.slice(components)) out.push({ normalize, weights });
  return out;
}

/**
 * Segment boundaries from quantiles of `lengths`: at most `segments` segments, each with about
 * `minUsers` users or more; a user of length x is in segment #{b ∈ bounds : x ≥ b}.
 */
export function segmentBounds(lengths: ArrayLike<number>, segments: number, minUsers: number): number[] {
  const n = lengths.length;
  const s = Math.max(1, Math.min(segments, Math.floor(n / Math.max(1, minUsers))));
  const sorted = Float64Array.from(lengths).sort();
  const bounds: number[] = [];
  for (let i = 1; i < s; i++) {
    const b = sorted[Math.floor((i * n) / s)];
    if (b > sorted[0] && b > (bounds[bounds.length - 1] ?? -Infinity)) bounds.push(b);
  }
  return bounds;
}

export function segmentOf(length: number, bounds: readonly number[]): number {
  let s = 0;
  while (s < bounds.length && length >= bounds[s]) s++;
  return s;
}

/**
 * Per segment, the configuration with the highest summed per-user value (ties: the lower index);
 * a segment without users takes the best configuration over all users. `values` holds
 * configs × users values, configuration major.
 */
export function pickPerSegment(values: Float32Array, configs: number, segmentOfUser: Int32Array, segments: number): Int32Array {
  const users = segmentOfUser.length;
  const sums = new Float64Array((segments + 1) * configs);
  const counts = new Int32Array(segments);
  for (let n = 0; n < users; n++) counts[segmentOfUser[n]]++;
  for (let c = 0; c < configs; c++) {
    for (let n = 0; n < users; n++) {
      const v = values[c * users + n];
      sums[segmentOfUser[n] * configs + c] += v;
      sums[segments * configs + c] += v;
    }
  }
  const argmax = (row: number) => {
    let best = 0;
    for (let c = 1; c < configs; c++) if (sums[row * configs + c] > sums[row * configs + best]) best = c;
    return best;
  };
  const overall = argmax(segments);
  return Int32Array.from({ length: segments }, (_, s) => (counts[s] ? argmax(s) : overall));
}

/**
 * The mean per-user value of per-segment picks measured out of sample: users alternate between two
 * folds (by position); each fold is scored with the picks made on the other. This is what a tuned
 * blend is worth on users it was not tuned on, for comparing it with untuned candidates.
 */
export function crossFittedValue(values: Float32Array, configs: number, segmentOfUser: Int32Array, segments: number): number {
  const users = segmentOfUser.length;
  if (users < 2) return Number.NaN;
  let total = 0;
  for (let fold = 0; fold < 2; fold++) {
    const tuneOn = Array.from({ length: users }, (_, n) => n).filter((n) => n % 2 === fold);
    const sub = new Float32Array(configs * tuneOn.length);
    for (let c = 0; c < configs; c++) tuneOn.forEach((n, i) => (sub[c * tuneOn.length + i] = values[c * users + n]));
    const picks = pickPerSegment(
      sub,
      configs,
      Int32Array.from(tuneOn, (n) => segmentOfUser[n]),
      segments,
    );
    for (let n = 0; n < users; n++) if (n % 2 !== fold) total += values[picks[segmentOfUser[n]] * users + n];
  }
  return total / users;
}

/**
 * One user's component scores, normalised, ready to be blended and ranked under many
 * configurations. `depth` is D of the module note; `normalizations` are those the caller will rank
 * with (the candidates' normalised values are computed once for each).
 */
export class UserScores {
  private readonly lo: number[] = [];
  private readonly span: number[] = [];
  /** Per component: its top items (best first, above its floor) and their rank values. */
  private readonly top: Int32Array[] = [];
  private readonly topValue: Float32Array[] = [];
  /** Union of the components' top lists, ascending item index. */
  private readonly candidates: Int32Array;
  /** Per normalisation: components × candidates normalised values (component major). */
  private readonly table = new Map<FusionNormalization, Float32Array>();
  private readonly items: number;

  constructor(
    readonly raw: Float32Array[],
    depth: number,
    normalizations: readonly FusionNormalization[] = FUSION_NORMALIZATIONS,
  ) {
    this.items = raw[0]?.length ?? 0;
    const n = this.items;
    const seen = new Uint8Array(n);
    let count = 0;
    for (const scores of raw) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = scores[i];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      const span = hi - lo;
      const informative = span > 0 && Number.isFinite(span);
      this.lo.push(lo);
      this.span.push(informative ? span : 0);
      const d = Math.min(depth, n);
      const list = d > 0 && informative ? topK(new EmbeddingTable(scores, 1), ONE, d, { threads: 1 }) : null;
      let kept = 0;
      const value = new Float32Array(list ? list.indices.length : 0);
      if (list) {
        const floor = RANK_C / (RANK_C + d);
        let rank = 0;
        for (; kept < list.indices.length; kept++) {
          const s = list.scores[kept];
          if (!(s > lo)) break;
          if (kept > 0 && s < list.scores[kept - 1]) rank = kept;
          value[kept] = Math.max(0, RANK_C / (RANK_C + rank) - floor);
          const j = list.indices[kept];
          if (!seen[j]) {
            seen[j] = 1;
            count++;
          }
        }
      }
      this.top.push(list ? list.indices.subarray(0, kept) : new Int32Array(0));
      this.topValue.push(value.subarray(0, kept));
    }
    const candidates = new Int32Array(count);
    for (let i = 0, at = 0; i < n; i++) if (seen[i]) candidates[at++] = i;
    this.candidates = candidates;
    for (const norm of normalizations) {
      const t = new Float32Array(raw.length * count);
      for (let c = 0; c < raw.length; c++) {
        const row = t.subarray(c * count, (c + 1) * count);
        if (norm === 'minmax') {
          for (let p = 0; p < count; p++) row[p] = this.minmax(c, candidates[p]);
        } else {
          // Scatter through an item-indexed scratch, then gather in candidate order.
          const scratch = new Float32Array(n);
          this.top[c].forEach((j, r) => (scratch[j] = this.topValue[c][r]));
          for (let p = 0; p < count; p++) row[p] = scratch[candidates[p]];
        }
      }
      this.table.set(norm, t);
    }
  }

  private minmax(c: number, j: number): number {
    const span = this.span[c];
    return span > 0 ? Math.fround((this.raw[c][j] - this.lo[c]) / span) : 0;
  }

  /** Component c's normalised score of item j (float32, as blend stores it). */
  value(c: number, normalize: FusionNormalization, j: number): number {
    if (normalize === 'minmax') return this.minmax(c, j);
    const at = this.top[c].indexOf(j);
    return at < 0 ? 0 : this.topValue[c][at];
  }

  /** The most an item outside every top list can get from component c. */
  private bound(c: number, normalize: FusionNormalization): number {
    const list = this.top[c];
    // Items below a rank list score 0; below a short minmax list (it stopped at the floor) too.
    if (normalize === 'rank' || list.length === 0) return 0;
    return this.minmax(c, list[list.length - 1]);
  }

  /** The blended score vector of every item (what a CandidateScorer serves). */
  blend(config: FusionConfig, out: Float32Array = new Float32Array(this.items)): Float32Array {
    const w = config.weights;
    const n = this.items;
    const acc = new Float64Array(n);
    for (let c = 0; c < w.length; c++) {
      if (!(w[c] > 0)) continue;
      if (config.normalize === 'minmax') {
        const span = this.span[c];
        if (!(span > 0)) continue;
        const raw = this.raw[c];
        const lo = this.lo[c];
        for (let j = 0; j < n; j++) acc[j] += w[c] * Math.fround((raw[j] - lo) / span);
      } else {
        const list = this.top[c];
        const value = this.topValue[c];
        for (let r = 0; r < list.length; r++) acc[list[r]] += w[c] * value[r];
      }
    }
    for (let j = 0; j < n; j++) out[j] = acc[j];
    return out;
  }

  /** The blended scores of some items (the same values blend gives them), into out. */
  blendAt(config: FusionConfig, items: Int32Array, out: Float32Array): Float32Array {
    const w = config.weights;
    const rankOf =
      config.normalize === 'rank' ? this.top.map((list, c) => new Map(Array.from(list, (j, r) => [j, this.topValue[c][r]]))) : null;
    for (let p = 0; p < items.length; p++) {
      const j = items[p];
      let s = 0;
      for (let c = 0; c < w.length; c++) {
        if (!(w[c] > 0)) continue;
        s += w[c] * (rankOf ? (rankOf[c].get(j) ?? 0) : this.minmax(c, j));
      }
      out[p] = s;
    }
    return out;
  }

  /**
   * The top k items of a blend (best first; ties: lower index), never listing items flagged in
   * `masked` (a per-item 0/1 array, `maskedList` the same items as a list). `buffer` (length ≥
   * items) is scratch space for the exact fallback over the whole catalogue.
   */
  rank(config: FusionConfig, k: number, masked: Uint8Array, maskedList: Int32Array, buffer: Float32Array): Int32Array {
    const w = config.weights;
    const norm = config.normalize;
    const t = this.table.get(norm);
    if (!t) throw new RangeError(`UserScores was built without the '${norm}' normalisation`);
    let bound = 0;
    for (let c = 0; c < w.length; c++) if (w[c] > 0) bound += w[c] * this.bound(c, norm);
    bound = Math.fround(bound);
    const count = this.candidates.length;
    const idx = new Int32Array(k);
    const val = new Float64Array(k);
    let filled = 0;
    for (let p = 0; p < count; p++) {
      const j = this.candidates[p];
      if (masked[j]) continue;
      let s = 0;
      for (let c = 0; c < w.length; c++) if (w[c] > 0) s += w[c] * t[c * count + p];
      s = Math.fround(s);
      if (filled === k && !(s > val[k - 1])) continue;
      let at = filled < k ? filled++ : k - 1;
      while (at > 0 && val[at - 1] < s) {
        val[at] = val[at - 1];
        idx[at] = idx[at - 1];
        at--;
      }
      val[at] = s;
      idx[at] = j;
    }
    if (filled === k && val[k - 1] > bound) return idx;
    const scores = this.blend(config, buffer.subarray(0, this.items));
    return topK(new EmbeddingTable(scores, 1), ONE, k, { exclude: maskedList, threads: 1 }).indices;
  }
}

/**
 * Paired bootstrap over users: is model A better than model B on the same test users, and by how
 * much? The unit of resampling is the user, because users are what a test set samples; pairing
 * (A and B scored on the same users) removes the between-user variance both models share, which is
 * most of it.
 *
 * Seeds are strata. Each seed has its own split and models, so its users (and their count) differ
 * from the other seeds': a replicate resamples the users of every seed independently, with
 * replacement, and averages the per-seed mean differences with equal weight per seed — the same
 * average the report's "mean over seeds" uses, so the observed difference is exactly the gap between
 * the two means of a summary table. The interval therefore covers user-sampling variability given
 * these seeds' models; it does not resample seeds (three seeds are too few to resample), which is
 * why claims built on it also ask for several seeds and the per-seed differences are returned.
 *
 * Interval: the percentile interval of the replicates (type-7 quantiles, the default of R and
 * numpy). p-value: two-sided, by inverting that interval — twice the quantile level at which the
 * replicates' quantile function crosses 0 (from the nearer tail) — so p < 1 − c exactly when the
 * c-level interval excludes 0, whatever c. It is floored at 1 / (resamples + 1), the resolution of
 * the bootstrap: a p-value of 0 would claim more than the resamples can show.
 */
import { lengthError, rangeError, typeError } from '../core/validate';
import { mixSeed } from './seed-mix';

/** One seed's per-user metric values: position j of `values` belongs to user `users[j]`. */
export interface UserValues {
  /** User ids (rows), distinct. PerUserMetrics.users from evaluateRanking({ perUser: true }) fits. */
  users: ArrayLike<number>;
  /** One finite value per user, e.g. PerUserMetrics.byK[10].ndcg. */
  values: ArrayLike<number>;
}

export interface PairedBootstrapOptions {
  /** Bootstrap replicates. Default 2000; at least 100. Cost: resamples × users (all seeds). */
  resamples?: number;
  /** Seeds the resampling (each seed stratum draws from its own stream). Default 0. */
  seed?: number;
  /** Coverage of the interval, in (0, 1). Default 0.95. */
  confidence?: number;
}

export interface PairedDifference {
  /** Mean of A − B: the mean over seeds of each seed's mean per-user difference. */
  mean: number;
  /** The interval's bounds (percentile bootstrap). */
  low: number;
  high: number;
  confidence: number;
  /** Two-sided p-value of "no difference" (see the module note); in (0, 1]. */
  pValue: number;
  /** Each seed's mean difference. */
  perSeed: number[];
  /** Users per seed. */
  users: number[];
  resamples: number;
}

/**
 * Seeds a comparison needs before a report calls one model better or worse than another. The
 * interval covers test-user sampling, not the training randomness of the seeds; requiring several
 * seeds keeps one lucky initialisation from becoming a claim.
 */
export const MIN_SEEDS_FOR_CLAIMS = 3;

/**
 * What may be concluded from a paired difference: `better` / `worse` when the interval excludes 0
 * and at least `minSeeds` seeds were pooled, `no clear difference` when it includes 0, `too few
 * seeds` otherwise.
 */
export type PairedVerdict = 'better' | 'worse' | 'no clear difference' | 'too few seeds';

export function pairedVerdict(d: PairedDifference, minSeeds = MIN_SEEDS_FOR_CLAIMS): PairedVerdict {
  if (d.perSeed.length < minSeeds) return 'too few seeds';
  if (d.low > 0) return 'better';
  if (d.high < 0) return 'worse';
  return 'no clear difference';
}

export interface ResolvedBootstrapOptions {
  resamples: number;
  seed: number;
  confidence: number;
}

/** Checks the options bag and fills in the defaults (exported for callers that validate early). */
export function resolveBootstrapOptions(argument: string, options: unknown): ResolvedBootstrapOptions {
  if (options === undefined) return { resamples: 2000, seed: 0, confidence: 0.95 };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw typeError(argument, 'options object', options);
  const o = options as PairedBootstrapOptions;
  const resamples = o.resamples ?? 2000;
  if (typeof resamples !== 'number' || !Number.isInteger(resamples) || resamples < 100 || resamples > 1_000_000)
    throw rangeError(`${argument}.resamples`, 'integer in [100, 1000000]', resamples);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw rangeError(`${argument}.seed`, 'integer in [0, 4294967295]', seed);
  const confidence = o.confidence ?? 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1))
    throw rangeError(`${argument}.confidence`, 'number strictly between 0 and 1', confidence);
  return { resamples, seed, confidence };
}

function isArrayLike(value: unknown): value is ArrayLike<number> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function checkSide(argument: string, side: unknown): void {
  const s = side as UserValues;
  if (!s || typeof s !== 'object' || !isArrayLike(s.users) || !isArrayLike(s.values))
    throw typeError(argument, '{ users, values } (arrays or typed arrays)', side);
  if (s.values.length !== s.users.length)
    throw lengthError(`${argument}.values`, `${s.users.length} values (one per user in ${argument}.users)`, s.values);
  if (s.users.length === 0) throw lengthError(`${argument}.users`, 'at least one user', s.users);
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw rangeError(`${argument}.values[${i}]`, 'finite number', v);
  }
}

/**
 * `side`'s values in the order of `reference`'s users, after checking both cover the same distinct
 * users. `argRef`/`argSide` name the two in error messages.
 */
export function alignValues(argRef: string, reference: UserValues, argSide: string, side: UserValues): Float64Array {
  checkSide(argRef, reference);
  checkSide(argSide, side);
  const n = reference.users.length;
  if (side.users.length !== n) throw lengthError(`${argSide}.users`, `the same ${n} users as ${argRef}.users`, side.users);
  const out = new Float64Array(n);
  let same = true;
  for (let i = 0; i < n && same; i++) same = reference.users[i] === side.users[i];
  if (same) {
    // Equal sequences still need distinct users: a repeated user would be counted twice.
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      if (seen.has(reference.users[i]!)) throw rangeError(`${argRef}.users[${i}]`, 'distinct users', reference.users[i]);
      seen.add(reference.users[i]!);
      out[i] = side.values[i]!;
    }
    return out;
  }
  const where = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (where.has(side.users[i]!)) throw rangeError(`${argSide}.users[${i}]`, 'distinct users', side.users[i]);
    where.set(side.users[i]!, i);
  }
  const used = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = where.get(reference.users[i]!);
    if (j === undefined)
      throw rangeError(`${argSide}.users`, `the same users as ${argRef}.users (user ${reference.users[i]} is missing)`, side.users);
    if (used[j]) throw rangeError(`${argRef}.users[${i}]`, 'distinct users', reference.users[i]);
    used[j] = 1;
    out[i] = side.values[j]!;
  }
  return out;
}

/**
 * The paired bootstrap of A − B over users, pooled over seeds (one UserValues per seed, in the same
 * seed order on both sides; a single UserValues is one seed). Deterministic for given options.
 */
export function pairedBootstrap(
  a: UserValues | readonly UserValues[],
  b: UserValues | readonly UserValues[],
  options?: PairedBootstrapOptions,
): PairedDifference {
  const o = resolveBootstrapOptions('options', options);
  const single = !Array.isArray(a);
  const as = (single ? [a] : a) as readonly UserValues[];
  if (as.length === 0) throw lengthError('a', 'at least one seed of { users, values }', a);
  if (single !== !Array.isArray(b)) throw typeError('b', single ? '{ users, values } like a' : 'an array of { users, values } like a', b);
  const bs = (single ? [b] : b) as readonly UserValues[];
  if (bs.length !== as.length) throw lengthError('b', `${as.length} seeds (as many as a)`, b);
  const strata = as.map((x, s) => {
    const argA = single ? 'a' : `a[${s}]`;
    const base = alignValues(argA, x, single ? 'b' : `b[${s}]`, bs[s]!);
    const d = new Float64Array(base.length);
    for (let i = 0; i < d.length; i++) d[i] = x.values[i]! - base[i]!;
    return [d];
  });
  const boot = bootstrapMeans(strata, o);
  return summarizeDifference(boot, 0, null, o);
}

/** Replicates of each series' seed-averaged mean, and each series' observed per-seed means. */
export interface BootstrapMeans {
  replicates: Float64Array[];
  perSeed: number[][];
  users: number[];
}

/**
 * The bootstrap behind pairedBootstrap, for many series at once: strata[s][j] holds series j's
 * per-user values in seed s, every series of a seed over the same users in the same order (one draw
 * of users per replicate serves them all). A difference of two series is then the difference of
 * their replicates (the mean is linear), which is how the lift report compares every strategy with
 * every baseline for the price of one bootstrap per model.
 */
export function bootstrapMeans(strata: ReadonlyArray<ReadonlyArray<Float64Array>>, o: ResolvedBootstrapOptions): BootstrapMeans {
  const seeds = strata.length;
  const series = strata[0]?.length ?? 0;
  const B = o.resamples;
  const replicates = Array.from({ length: series }, () => new Float64Array(B));
  const perSeed = Array.from({ length: series }, () => new Array<number>(seeds).fill(0));
  strata.forEach((values, s) => {
    const n = values[0]?.length ?? 0;
    values.forEach((v, j) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += v[i]!;
      perSeed[j]![s] = sum / n;
    });
    // Each stratum's own stream: its draws do not depend on the other seeds' user counts.
    const draw = userDraws(mixSeed(o.seed, s), n);
    const counts = new Float64Array(n);
    const scale = 1 / (n * seeds);
    for (let r = 0; r < B; r++) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[draw()]++;
      for (let j = 0; j < series; j++) {
        const v = values[j]!;
        let sum = 0;
        for (let i = 0; i < n; i++) sum += counts[i]! * v[i]!;
        replicates[j]![r] += sum * scale;
      }
    }
  });
  return { replicates, perSeed, users: strata.map((v) => v[0]?.length ?? 0) };
}

// Bound once: inside a vm context (jest's sandbox) every lookup of a global such as Math goes
// through the context's interceptors, which would dominate the innermost loop.
const { imul, floor } = Math;

/** Uniform user indices in [0, n): mulberry32 (the generator of core/random), inlined for speed. */
function userDraws(seed: number, n: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Series a minus series b (b null: a alone), summarized: mean, interval, p-value. */
export function summarizeDifference(boot: BootstrapMeans, a: number, b: number | null, o: ResolvedBootstrapOptions): PairedDifference {
  const B = o.resamples;
  const ra = boot.replicates[a]!;
  const rb = b === null ? null : boot.replicates[b]!;
  const reps = new Float64Array(B);
  for (let r = 0; r < B; r++) reps[r] = ra[r]! - (rb ? rb[r]! : 0);
  const perSeed = boot.perSeed[a]!.map((x, s) => x - (b === null ? 0 : boot.perSeed[b]![s]!));
  reps.sort();
  const tail = (1 - o.confidence) / 2;
  return {
    mean: perSeed.reduce((x, y) => x + y, 0) / perSeed.length,
    low: quantile(reps, tail),
    high: quantile(reps, 1 - tail),
    confidence: o.confidence,
    pValue: invertedPValue(reps),
    perSeed,
    users: boot.users.slice(),
    resamples: B,
  };
}

/**
 * The two-sided p-value of the percentile interval: with Q the type-7 quantile function of the
 * replicates, the interval at level c excludes 0 when Q((1 − c)/2) > 0 or Q((1 + c)/2) < 0, i.e. when
 * (1 − c)/2 > min(sup{q : Q(q) ≤ 0}, 1 − inf{q : Q(q) ≥ 0}); twice that minimum is the p-value.
 */
function invertedPValue(sorted: Float64Array): number {
  const B = sorted.length;
  let atMost = 0; // replicates ≤ 0: sorted[0 .. atMost - 1]
  while (atMost < B && sorted[atMost]! <= 0) atMost++;
  let below = 0; // replicates < 0
  while (below < B && sorted[below]! < 0) below++;
  const crossing = (i: number) => (i + -sorted[i]! / (sorted[i + 1]! - sorted[i]!)) / (B - 1);
  // sup{q : Q(q) ≤ 0}: Q rises from sorted[atMost - 1] ≤ 0 to sorted[atMost] > 0 between those ranks.
  const upper = atMost === 0 ? 0 : atMost === B ? 1 : crossing(atMost - 1);
  // inf{q : Q(q) ≥ 0}: between sorted[below - 1] < 0 and sorted[below] ≥ 0.
  const lower = below === 0 ? 0 : below === B ? 1 : crossing(below - 1);
  return Math.min(1, Math.max(2 * Math.min(upper, 1 - lower), 1 / (B + 1)));
}

/** Type-7 quantile (linear between order statistics) of ascending values. */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

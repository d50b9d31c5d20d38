/**
 * Two generated domains with shared latent tastes — the data the demo runs on, and a planted truth
 * for tests. Each user has a taste vector; each item (source or target) a latent vector and a
 * popularity; a user picks items with probability ∝ exp(sharpness · taste·item + popularity), so the
 * domains share what users like but not the items. Users carry a categorical side feature (their
 * taste cluster, noisy); items of both domains carry a dense feature vector (a noisy view of their
 * latent vector through one projection), which is what lets brand-new items be placed by content.
 */
import { normalGenerator, uniformGenerator } from '../core/random';
import { Interactions } from '../data/interactions';
import { Vocabulary } from '../data/vocabulary';
import { Domain } from './domain';
import { expectInteger, expectOptions, rangeError } from '../core/validate';

export interface SyntheticOptions {
  users?: number;
  sourceItems?: number;
  targetItems?: number;
  /** Latent dimensions of the planted tastes. Default 8. */
  latent?: number;
  /** Interactions per user in the source (dense) and the target (sparse). Defaults 40 and 8. */
  sourcePerUser?: number;
  targetPerUser?: number;
  /** Share of users that exist only in the source or only in the target. Default 0.1 each. */
  sourceOnly?: number;
  targetOnly?: number;
  /** Width of the item content vectors. Default 16. */
  itemFeatureDim?: number;
  seed?: number;
}

export interface SyntheticDomains {
  source: Domain;
  target: Domain;
  /** The planted vectors (users × latent, target items × latent). */
  tastes: Float32Array;
  targetItemVectors: Float32Array;
  latent: number;
}

export function syntheticDomains(options?: SyntheticOptions): SyntheticDomains {
  const o = expectOptions('options', options);
  const users = expectInteger('options.users', o.users ?? 2000, 10, 10_000_000);
  const ns = expectInteger('options.sourceItems', o.sourceItems ?? 800, 2, 10_000_000);
  const nt = expectInteger('options.targetItems', o.targetItems ?? 600, 2, 10_000_000);
  const k = expectInteger('options.latent', o.latent ?? 8, 1, 1024);
  const perSource = expectInteger('options.sourcePerUser', o.sourcePerUser ?? 40, 1, ns);
  const perTarget = expectInteger('options.targetPerUser', o.targetPerUser ?? 8, 1, nt);
  const fdim = expectInteger('options.itemFeatureDim', o.itemFeatureDim ?? 16, 1, 4096);
  const seed = expectInteger('options.seed', o.seed ?? 0, 0, 2 ** 31);
  const normal = normalGenerator(seed);
  const rand = uniformGenerator(seed + 1);
  const clusters = 8;
  // Tastes are cluster centres plus noise, so a categorical "segment" feature says something.
  const centres = Float32Array.from({ length: clusters * k }, () => normal());
  const cluster = Int32Array.from({ length: users }, () => Math.floor(rand() * clusters));
  const tastes = Float32Array.from({ length: users * k }, (_, x) => centres[cluster[Math.floor(x / k)] * k + (x % k)] + 0.7 * normal());
  const itemVectors = (n: number) => Float32Array.from({ length: n * k }, () => normal() / Math.sqrt(k));
  const sourceItems = itemVectors(ns);
  const targetItems = itemVectors(nt);
  const popularity = (n: number) => Float32Array.from({ length: n }, () => 1.2 * normal()); // log-normal skew
  const sourcePop = popularity(ns);
  const targetPop = popularity(nt);
  const sharpness = 2.5;

  const sample = (
    u: number,
    items: Float32Array,
    pop: Float32Array,
    n: number,
    count: number,
    out: { u: number[]; i: number[] },
    row: number,
  ) => {
    const logits = new Float64Array(n);
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let c = 0; c < k; c++) dot += tastes[u * k + c] * items[i * k + c];
      logits[i] = sharpness * dot + pop[i];
      if (logits[i] > max) max = logits[i];
    }
    // Gumbel top-k: `count` distinct items drawn without replacement ∝ exp(logit).
    const keys = Array.from(logits, (l, i) => ({ i, key: l - max - Math.log(-Math.log(Math.max(rand(), 1e-300))) }));
    keys.sort((a, b) => b.key - a.key);
    for (let j = 0; j < Math.min(count, n); j++) {
      out.u.push(row);
      out.i.push(keys[j].i);
    }
  };
  const share = (argument: string, value: unknown): number => {
    if (value === undefined) return 0.1;
    if (typeof value !== 'number' || !(value >= 0 && value < 0.5)) throw rangeError(argument, 'number in [0, 0.5)', value);
    return value;
  };
  const sourceOnly = Math.floor(users * share('options.sourceOnly', o.sourceOnly));
  const targetOnly = Math.floor(users * share('options.targetOnly', o.targetOnly));
  const src = { u: [] as number[], i: [] as number[] };
  const tgt = { u: [] as number[], i: [] as number[] };
  const srcUsers = new Vocabulary();
  const tgtUsers = new Vocabulary();
  for (let u = 0; u < users; u++) {
    const id = `user${u}`;
    // The first `targetOnly` users are missing from the source, the last `sourceOnly` from the target.
    if (u >= targetOnly) sample(u, sourceItems, sourcePop, ns, perSource, src, srcUsers.add(id));
    if (u < users - sourceOnly)
      sample(u, targetItems, targetPop, nt, Math.max(1, Math.round(perTarget * (0.5 + rand()))), tgt, tgtUsers.add(id));
  }
  // Segment feature per target user: its cluster 80% of the time, else a random one.
  const segments = Int32Array.from({ length: tgtUsers.size }, (_, r) => {
    const u = Number(tgtUsers.id(r).slice(4));
    return rand() < 0.8 ? cluster[u] : Math.floor(rand() * clusters);
  });
  // Item content: a fixed random projection of the latent vector plus noise.
  const projection = Float32Array.from({ length: k * fdim }, () => normal());
  const itemFeatures = new Float32Array(nt * fdim);
  for (let i = 0; i < nt; i++) {
    for (let f = 0; f < fdim; f++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += targetItems[i * k + c] * projection[c * fdim + f];
      itemFeatures[i * fdim + f] = s + 0.3 * normal();
    }
  }
  // The same content for source items, drawn last so that every other number stays as it was.
  const sourceFeatures = new Float32Array(ns * fdim);
  for (let i = 0; i < ns; i++) {
    for (let f = 0; f < fdim; f++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += sourceItems[i * k + c] * projection[c * fdim + f];
      sourceFeatures[i * fdim + f] = s + 0.3 * normal();
    }
  }
  const itemVocab = (prefix: string, n: number) => new Vocabulary(Array.from({ length: n }, (_, i) => `${prefix}${i}`));
  const source = new Domain({
    name: 'generated source (dense)',
    interactions: new Interactions({ users: src.u, items: src.i, numUsers: srcUsers.size, numItems: ns }),
    users: srcUsers,
    items: itemVocab('s', ns),
    itemFeatures: { dense: { values: sourceFeatures, dim: fdim } },
  });
  const target = new Domain({
    name: 'generated target (sparse)',
    interactions: new Interactions({ users: tgt.u, items: tgt.i, numUsers: tgtUsers.size, numItems: nt }),
    users: tgtUsers,
    items: itemVocab('t', nt),
    userFeatures: {
      bags: { vocabulary: clusters, offsets: Int32Array.from({ length: tgtUsers.size + 1 }, (_, r) => r), indices: segments },
    },
    itemFeatures: { dense: { values: itemFeatures, dim: fdim } },
  });
  return { source, target, tastes, targetItemVectors: targetItems, latent: k };
}

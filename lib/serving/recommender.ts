/**
 * Recommender: top-K recommendations by external id in the request path. Single requests are
 * synchronous (microseconds to a few milliseconds; a thread hop would dominate), batches are
 * asynchronous. Every request reads exactly one immutable snapshot; `swap` installs a new one
 * between requests and resolves once the old one has no request left (batches in flight).
 *
 * Who gets what (the `strategy` of each result):
 * 1. `{ vector }` → 'vector': the vector is the query (a trailing 1 is appended for MF item biases
 *    when the vector has the model's dim).
 * 2. a known user id → 'model': the user's row of the model.
 * 3. `{ history }`, or an unknown id with `options.history` → 'fold-in': a query vector solved from the
 *    history against the item vectors (foldIn, see lib/transfer/fold-in.ts), provided at least one
 *    history id is a known item.
 * 4. otherwise → 'popularity': items by popularity count (options.popularity, else the seen
 *    interactions' item counts, else all zero: item order), with the same exclusions and allow-list;
 *    with `fallback: 'error'` an unknown id is a RangeError naming `user` instead.
 */
import { allocateBuffer } from '../core/shared-memory';
import { Vocabulary } from '../data/vocabulary';
import { PopularityModel } from '../eval/baselines';
import { ItemSet } from '../core/item-set';
import { loadModel, type LoadedModel } from '../io/model-file/load';
import { MatrixFactorization } from '../models/matrix-factorization';
import { TwoTower } from '../models/two-tower';
import { ItemKnn } from '../neighbours/item-knn';
import { topK, topKBatch } from '../core/scoring';
import { EmbeddingTable } from '../core/table';
import { Interactions } from '../data/interactions';
import { foldIn, type FoldInOptions } from '../transfer/fold-in';
import {
  expectBoolean,
  expectInteger,
  expectOptions,
  expectPositiveInteger,
  expectSignal,
  rangeError,
  toFloat32Array,
  typeError,
} from '../core/validate';
import { QuantizedTable } from './quantized';
import { SharedIds } from './shared-ids';
import { Snapshot, type SharedSnapshotHandle, type SnapshotParts } from './snapshot';

export type Strategy = 'model' | 'fold-in' | 'features' | 'popularity' | 'vector';
/** A known or unknown external user id, a history of item ids, side features, or a query vector. */
export type RecommendUser =
  | string
  | { history: ReadonlyArray<string> }
  | { features: Float32Array | ReadonlyArray<number> }
  | { vector: Float32Array | ReadonlyArray<number> };

/**
 * Turns a new user's content (side features, a text embedding, their vector in another domain) into
 * a query vector: e.g. a ContentToCf network, `{ encode: (f) => net.encode(f, Int32Array.of(0)) }`.
 */
export interface FeatureEncoder {
  encode(features: Float32Array): Float32Array;
}
/** Item ids (unknown ids are ignored) or an ItemSet of item rows. */
export type ItemList = ReadonlyArray<string> | ItemSet;

export interface RecommenderOptions {
  /** External user ids by row. Default: a loaded model's vocabulary, else decimal row numbers ("17"). */
  users?: Vocabulary;
  /** External item ids by row. Default: a loaded model's vocabulary, else decimal row numbers. */
  items?: Vocabulary;
  /** Interactions (user row, item row) whose items excludeSeen removes; also the default popularity. */
  seen?: Interactions;
  /** Popularity per item row (or a PopularityModel) for the popularity fallback. */
  popularity?: ArrayLike<number> | PopularityModel;
  /** Unknown users without history: 'popularity' (default) or 'error' (a RangeError naming user). */
  fallback?: 'popularity' | 'error';
  /** Item table used by recommend: 'f32' (default, exact), 'bf16' or 'int8' (see QuantizedTable). */
  quantize?: 'f32' | 'bf16' | 'int8';
  /**
   * Quantized tables: re-score the best max(rerank, k) candidates in float32 and return the exact
   * float32 top-k among them. Default 30 for int8 and bf16 (on 1M × 64 Gaussian items rerank 20
   * already gave recall@10 = 1 against float32; see bench/RESULTS.md); 0 returns the quantized top-k
   * and its quantized scores.
   */
  rerank?: number;
  /** similarItems uses this item-kNN graph instead of cosine over the item vectors. */
  knn?: ItemKnn;
  /** Fold-in settings. Default { unobservedWeight: 0 }: foldIn's w₀ term costs O(items·d²) per call. */
  foldIn?: FoldInOptions;
  /** Threads per single request (default 1: a service runs many requests at once). */
  threads?: number;
  /** The 'features' strategy: `{ features }` users (and unknown ids with options.features) are encoded by it. */
  userFeatures?: FeatureEncoder;
}

export interface RecommendOptions {
  /** Items never returned for this request. */
  exclude?: ItemList;
  /** Remove the user's seen items (known users: options.seen; histories: the history). Default true. */
  excludeSeen?: boolean;
  /** Only these items are candidates. */
  allow?: ItemList;
  /** For an unknown user id: fold in from these item ids instead of falling back to popularity. */
  history?: ReadonlyArray<string>;
  /** For an unknown user id without history: encode these features (options.userFeatures) instead. */
  features?: Float32Array | ReadonlyArray<number>;
}

export interface RecommendBatchOptions extends Omit<RecommendOptions, 'history'> {
  /** Threads for the batch. Default: configure().threads. */
  threads?: number;
  signal?: AbortSignal;
}

export interface Recommendation {
  /** External item ids, best first. */
  items: string[];
  /** Item rows, same order. */
  indices: Int32Array;
  /** Scores (dot products; popularity counts for 'popularity'), same order. */
  scores: Float32Array;
  strategy: Strategy;
  /** The snapshot version that answered. */
  version: number;
}

export type RecommenderSource = MatrixFactorization | LoadedModel | { items: EmbeddingTable; users?: EmbeddingTable | null };

interface Resolved {
  strategy: Strategy;
  query: Float32Array | null;
  seen: Int32Array | null;
}

const DEFAULT_RERANK = 30;

function isLoaded(x: unknown): x is LoadedModel {
  return typeof x === 'object' && x !== null && 'model' in x && 'vocabularies' in x;
}

function sharedTable(t: EmbeddingTable): EmbeddingTable {
  if (t.shared) return t;
  const out = EmbeddingTable.create(t.rows, t.dim);
  out.data.set(t.data);
  return out;
}

/** The parts of a snapshot (every array shared) from a model or tables. */
function buildParts(
  source: RecommenderSource,
  options: RecommenderOptions,
  tables?: { items: EmbeddingTable; users: EmbeddingTable | null },
): SnapshotParts {
  const o = options;
  let model: unknown = source;
  let vocab: { users?: Vocabulary; items?: Vocabulary } = {};
  if (isLoaded(source)) {
    model = source.model;
    vocab = source.vocabularies;
  }
  let items: EmbeddingTable,
    itemVectors: EmbeddingTable,
    users: EmbeddingTable | null,
    appendOne = false;
  if (tables) {
    items = itemVectors = sharedTable(tables.items);
    users = tables.users ? sharedTable(tables.users) : null;
  } else if (model instanceof MatrixFactorization) {
    itemVectors = sharedTable(model.itemEmbedding.table);
    users = sharedTable(model.userEmbedding.table);
    appendOne = model.itemBias !== null;
    items = appendOne ? sharedTable(model.encodeItems()) : itemVectors;
  } else if (model instanceof TwoTower) {
    throw typeError('model', 'MatrixFactorization (use await Recommender.create(model) for a TwoTower)', model);
  } else if (typeof model === 'object' && model !== null && (model as { items?: unknown }).items instanceof EmbeddingTable) {
    const m = model as { items: EmbeddingTable; users?: EmbeddingTable | null };
    if (m.users != null && !(m.users instanceof EmbeddingTable)) throw typeError('source.users', 'EmbeddingTable or null', m.users);
    if (m.users && m.users.dim !== m.items.dim) throw rangeError('source.users', `an EmbeddingTable of dim ${m.items.dim}`, m.users.dim);
    items = itemVectors = sharedTable(m.items);
    users = m.users ? sharedTable(m.users) : null;
  } else {
    throw typeError('source', 'MatrixFactorization, a loaded model or { items, users }', source);
  }
  const userVocab = o.users ?? vocab.users;
  const itemVocab = o.items ?? vocab.items;
  if (userVocab !== undefined && !(userVocab instanceof Vocabulary)) throw typeError('options.users', 'Vocabulary', userVocab);
  if (itemVocab !== undefined && !(itemVocab instanceof Vocabulary)) throw typeError('options.items', 'Vocabulary', itemVocab);
  if (itemVocab && itemVocab.size < items.rows)
    throw rangeError('options.items', `a Vocabulary of at least ${items.rows} ids (one per item row)`, itemVocab.size);
  let seen: SnapshotParts['seen'] = null;
  let counts: Float32Array | null = null;
  if (o.seen !== undefined) {
    if (!(o.seen instanceof Interactions)) throw typeError('options.seen', 'Interactions', o.seen);
    if (o.seen.numItems > items.rows) throw rangeError('options.seen', `interactions over at most ${items.rows} items`, o.seen.numItems);
    const csr = o.seen.byUser();
    seen = { offsets: shared(Int32Array, csr.offsets), indices: shared(Int32Array, csr.indices) };
    counts = Float32Array.from(o.seen.itemCounts());
  }
  if (o.popularity !== undefined) {
    const p = o.popularity instanceof PopularityModel ? o.popularity.counts : o.popularity;
    if (p === null || typeof p !== 'object' || typeof (p as ArrayLike<number>).length !== 'number')
      throw typeError('options.popularity', 'array of numbers or PopularityModel', p);
    counts = new Float32Array(items.rows);
    for (let i = 0; i < Math.min(p.length, items.rows); i++) {
      const x = p[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw rangeError(`options.popularity[${i}]`, 'finite number', x);
      counts[i] = x;
    }
  }
  const popularity = EmbeddingTable.create(items.rows, 1);
  if (counts) popularity.data.set(counts.subarray(0, items.rows));
  const kind = o.quantize ?? 'f32';
  if (kind !== 'f32' && kind !== 'bf16' && kind !== 'int8') throw rangeError('options.quantize', '"f32", "bf16" or "int8"', kind);
  const rerank = o.rerank === undefined ? DEFAULT_RERANK : expectInteger('options.rerank', o.rerank, 0, 2 ** 31 - 1);
  return {
    items,
    itemVectors,
    users,
    appendOne,
    userIds: userVocab ? SharedIds.from(userVocab) : null,
    itemIds: itemVocab ? SharedIds.from(itemVocab) : null,
    seen,
    popularity,
    quantized: kind === 'f32' ? null : QuantizedTable.from(items, kind),
    rerank: kind === 'f32' ? 0 : rerank,
  };
}

function shared<T extends Int32Array | Float32Array>(ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, v: T): T {
  const out = new ctor(allocateBuffer(v.length * ctor.BYTES_PER_ELEMENT, true));
  out.set(v as never);
  return out;
}

function checkOptions(options: RecommenderOptions | undefined): RecommenderOptions {
  const o = expectOptions('options', options) as RecommenderOptions;
  if (o.fallback !== undefined && o.fallback !== 'popularity' && o.fallback !== 'error')
    throw rangeError('options.fallback', '"popularity" or "error"', o.fallback);
  if (o.knn !== undefined && !(o.knn instanceof ItemKnn)) throw typeError('options.knn', 'ItemKnn', o.knn);
  if (o.threads !== undefined) expectPositiveInteger('options.threads', o.threads, 256);
  if (o.foldIn !== undefined) expectOptions('options.foldIn', o.foldIn);
  if (o.userFeatures !== undefined && (o.userFeatures === null || typeof o.userFeatures.encode !== 'function')) {
    throw typeError('options.userFeatures', '{ encode(features): Float32Array }', o.userFeatures);
  }
  return o;
}

export class Recommender {
  private snapshot: Snapshot;
  private readonly options: RecommenderOptions;
  private readonly blockedIds = new Set<string>();
  private blockCache: { version: number; set: ItemSet | null } | null = null;
  private nextVersion: number;

  private constructor(snapshot: Snapshot, options: RecommenderOptions) {
    this.snapshot = snapshot;
    this.options = options;
    this.nextVersion = snapshot.version + 1;
  }

  /** From a matrix-factorization model, a loadModel result (its vocabularies become the defaults) or `{ items, users? }` tables. */
  static fromModel(source: RecommenderSource, options?: RecommenderOptions): Recommender {
    const o = checkOptions(options);
    return new Recommender(new Snapshot(buildParts(source, o), 1), o);
  }

  /** Like fromModel, and also a TwoTower (its towers are encoded first, off the event loop). */
  static async create(source: RecommenderSource | TwoTower, options?: RecommenderOptions): Promise<Recommender> {
    const o = checkOptions(options);
    return new Recommender(new Snapshot(await partsOf(source, o), 1), o);
  }

  /** From a model file (loaded for serving: optimizer state skipped). */
  static async fromFile(path: string, options?: RecommenderOptions): Promise<Recommender> {
    if (typeof path !== 'string') throw typeError('path', 'string', path);
    return Recommender.create(await loadModel(path, { forServing: true }), options);
  }

  /** A recommender on a snapshot posted from another thread (RecommenderPool workers use this). */
  static fromShared(handle: SharedSnapshotHandle, options?: Pick<RecommenderOptions, 'fallback' | 'foldIn' | 'threads'>): Recommender {
    return new Recommender(Snapshot.fromShared(handle), checkOptions(options));
  }

  /** The current snapshot's postMessage form (no copies: every array is shared). */
  toShared(): SharedSnapshotHandle {
    return this.snapshot.toShared();
  }

  get version(): number {
    return this.snapshot.version;
  }

  get quantization(): 'f32' | 'bf16' | 'int8' {
    return this.snapshot.quantization;
  }

  /** Requests (async batches) still reading the current snapshot. */
  get inFlight(): number {
    return this.snapshot.inFlight;
  }

  /**
   * Installs a new model (same options unless overridden) as the next snapshot: requests from now
   * on read it; requests already running finish on the old one. Resolves with the new version once
   * the old snapshot has no request left. Throws synchronously on bad input.
   */
  swap(source: RecommenderSource | TwoTower | SharedSnapshotHandle, options?: RecommenderOptions): Promise<number> {
    if (isHandle(source)) return this.install(Snapshot.fromShared(source));
    const o = options === undefined ? this.options : { ...this.options, ...checkOptions(options) };
    const model = isLoaded(source) ? source.model : source;
    // Everything but a TwoTower (whose towers are encoded off the event loop first) is installed
    // before swap returns, so the very next request reads the new model.
    if (!(model instanceof TwoTower)) return this.install(new Snapshot(buildParts(source as RecommenderSource, o), this.nextVersion));
    return partsOf(source, o).then((parts) => this.install(new Snapshot(parts, this.nextVersion)));
  }

  /**
   * Builds the next snapshot without installing it (its postMessage form): RecommenderPool builds once
   * and installs the same shared arrays here and in every worker.
   */
  async prepare(source: RecommenderSource | TwoTower, options?: RecommenderOptions): Promise<SharedSnapshotHandle> {
    const o = options === undefined ? this.options : { ...this.options, ...checkOptions(options) };
    return new Snapshot(await partsOf(source, o), this.nextVersion).toShared();
  }

  private install(next: Snapshot): Promise<number> {
    const old = this.snapshot;
    this.snapshot = next;
    this.nextVersion = Math.max(this.nextVersion, next.version) + 1;
    return old.whenDrained().then(() => next.version);
  }

  /** Adds ids to the global block list (never recommended, by any strategy). Unknown ids are kept for later snapshots. */
  block(ids: ReadonlyArray<string>): void {
    for (const id of stringList('ids', ids)) this.blockedIds.add(id);
    this.blockCache = null;
  }

  unblock(ids: ReadonlyArray<string>): void {
    for (const id of stringList('ids', ids)) this.blockedIds.delete(id);
    this.blockCache = null;
  }

  get blocked(): string[] {
    return [...this.blockedIds];
  }

  /** The k best items for user (see the module comment for the strategies). */
  recommend(user: RecommendUser, k: number, options?: RecommendOptions): Recommendation {
    const snap = this.snapshot;
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const r = this.resolve(snap, user, o.history, 'user', o.features);
    const { exclude, allow } = this.filters(snap, r.seen, o);
    const block = this.blockSet(snap);
    const threads = this.options.threads ?? 1;
    let res: { indices: Int32Array; scores: Float32Array };
    if (r.query === null)
      res = topK(snap.popularity, ONE, k, { exclude: exclude ?? undefined, block: block ?? undefined, allow: allow ?? undefined, threads });
    else if (snap.quantized)
      res = snap.quantized.topK(r.query, k, {
        exclude: exclude ?? undefined,
        block: block ?? undefined,
        allow: allow ?? undefined,
        rerank: snap.rerank,
        reference: snap.items,
        threads,
      });
    else
      res = topK(snap.items, r.query, k, { exclude: exclude ?? undefined, block: block ?? undefined, allow: allow ?? undefined, threads });
    return this.result(snap, res.indices, res.scores, r.strategy);
  }

  /**
   * recommend for many users, off the event loop: one blocked exact float32 top-K over the item table
   * (quantized tables serve single requests; batches are compute-bound and stay exact).
   */
  async recommendBatch(users: ReadonlyArray<RecommendUser>, k: number, options?: RecommendBatchOptions): Promise<Recommendation[]> {
    if (!Array.isArray(users)) throw typeError('users', 'array of users', users);
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    expectSignal('options.signal', o.signal);
    const snap = this.snapshot;
    const release = snap.acquire();
    try {
      const resolved = users.map((u, i) => this.resolve(snap, u, undefined, `users[${i}]`));
      const block = this.blockSet(snap);
      const out: Recommendation[] = new Array(users.length);
      const modelRows: number[] = [];
      const dim = snap.items.dim;
      const exclusions: (Int32Array | null)[] = [];
      let allow: Int32Array | ItemSet | null = null;
      resolved.forEach((r, i) => {
        const f = this.filters(snap, r.seen, o);
        allow = f.allow;
        if (r.query === null) {
          const p = topK(snap.popularity, ONE, k, {
            exclude: f.exclude ?? undefined,
            block: block ?? undefined,
            allow: f.allow ?? undefined,
            threads: 1,
          });
          out[i] = this.result(snap, p.indices, p.scores, 'popularity');
        } else {
          modelRows.push(i);
          exclusions.push(f.exclude);
        }
      });
      if (modelRows.length > 0) {
        const queries = new Float32Array(modelRows.length * dim);
        modelRows.forEach((i, j) => queries.set(resolved[i].query!, j * dim));
        const res = await topKBatch(snap.items, queries, k, {
          exclude: exclusions,
          block: block ?? undefined,
          allow: allow ?? undefined,
          threads: o.threads,
          signal: o.signal,
        });
        modelRows.forEach((i, j) => {
          const q = res.query(j);
          out[i] = this.result(snap, q.indices, q.scores, resolved[i].strategy);
        });
      }
      return out;
    } finally {
      release();
    }
  }

  /**
   * The k items most similar to item: cosine over the item vectors (built once per snapshot on first
   * use), or the kNN graph's neighbours when options.knn was given. The item itself is never returned.
   */
  similarItems(item: string, k: number, options?: { exclude?: ItemList; allow?: ItemList }): Omit<Recommendation, 'strategy'> {
    const snap = this.snapshot;
    if (typeof item !== 'string') throw typeError('item', 'string (an item id)', item);
    expectPositiveInteger('k', k);
    const o = expectOptions('options', options);
    const row = snap.itemRow(item);
    if (row < 0) throw rangeError('item', 'a known item id', item);
    const extra = o.exclude === undefined ? null : this.rowsOf(snap, 'options.exclude', o.exclude);
    const exclude = extra ? Int32Array.of(row, ...extra) : Int32Array.of(row);
    const block = this.blockSet(snap);
    let res: { indices: Int32Array; scores: Float32Array };
    if (this.options.knn) {
      const blockedRows = block ? Array.from(block.indices) : [];
      const allowRows = o.allow === undefined ? null : new Set(this.rowsOf(snap, 'options.allow', o.allow));
      // The graph has no allow-list: ask for every stored neighbour and keep the allowed ones.
      const all = this.options.knn.similarItems(row, allowRows ? 2 ** 31 - 1 : k, {
        exclude: Int32Array.from([...exclude, ...blockedRows]),
      });
      const keep: number[] = [];
      for (let j = 0; j < all.indices.length && keep.length < k; j++) if (!allowRows || allowRows.has(all.indices[j])) keep.push(j);
      res = { indices: Int32Array.from(keep, (j) => all.indices[j]), scores: Float32Array.from(keep, (j) => all.scores[j]) };
    } else {
      const table = snap.cosineTable();
      const allow = o.allow === undefined ? undefined : this.rowsOf(snap, 'options.allow', o.allow);
      res = topK(table, table.row(row), k, { exclude, block: block ?? undefined, allow, threads: this.options.threads ?? 1 });
    }
    return { items: Array.from(res.indices, (i) => snap.itemId(i)), indices: res.indices, scores: res.scores, version: snap.version };
  }

  private resolve(
    snap: Snapshot,
    user: RecommendUser,
    history: ReadonlyArray<string> | undefined,
    argument: string,
    features?: RecommendOptions['features'],
  ): Resolved {
    if (typeof user === 'string') {
      const row = snap.userRow(user);
      if (row >= 0) {
        const q = snap.users!.row(row);
        return { strategy: 'model', query: snap.appendOne ? withOne(q) : q, seen: snap.seenOf(row) };
      }
      if (history !== undefined) return this.foldInUser(snap, stringList('options.history', history));
      if (features !== undefined) return this.encodeUser(snap, features, 'options.features');
      if (this.options.fallback === 'error') throw rangeError(argument, 'a known user id (fallback is "error")', user);
      return { strategy: 'popularity', query: null, seen: null };
    }
    if (user === null || typeof user !== 'object') throw typeError(argument, 'user id, { history } or { vector }', user);
    if ('vector' in user) {
      const v = toFloat32Array(`${argument}.vector`, user.vector, undefined, true);
      const d = snap.items.dim;
      if (v.length === d) return { strategy: 'vector', query: v, seen: null };
      if (snap.appendOne && v.length === d - 1) return { strategy: 'vector', query: withOne(v), seen: null };
      throw rangeError(`${argument}.vector`, `a vector of length ${snap.appendOne ? d - 1 : d}`, v);
    }
    if ('history' in user) return this.foldInUser(snap, stringList(`${argument}.history`, user.history));
    if ('features' in user) return this.encodeUser(snap, user.features, `${argument}.features`);
    throw typeError(argument, 'user id, { history }, { features } or { vector }', user);
  }

  private encodeUser(snap: Snapshot, features: Float32Array | ReadonlyArray<number>, argument: string): Resolved {
    const encoder = this.options.userFeatures;
    if (!encoder) throw rangeError(argument, 'features only with options.userFeatures (an encoder) set on the Recommender', 'features');
    const v = encoder.encode(toFloat32Array(argument, features, undefined, true));
    const d = snap.appendOne ? snap.items.dim - 1 : snap.items.dim;
    if (!(v instanceof Float32Array) || v.length !== d)
      throw rangeError('options.userFeatures.encode()', `a Float32Array of length ${d}`, v);
    return { strategy: 'features', query: snap.appendOne ? withOne(v) : v, seen: null };
  }

  private foldInUser(snap: Snapshot, history: ReadonlyArray<string>): Resolved {
    const rows = Array.from(new Set(snap.itemRows(history))).sort((a, b) => a - b);
    const seen = Int32Array.from(rows);
    if (rows.length === 0) return { strategy: 'popularity', query: null, seen };
    const options = this.options.foldIn ?? { unobservedWeight: 0 };
    const v = foldIn(snap.itemVectors, { offsets: Int32Array.of(0, rows.length), indices: seen }, options);
    return { strategy: 'fold-in', query: snap.appendOne ? withOne(v) : v, seen };
  }

  private filters(
    snap: Snapshot,
    seen: Int32Array | null,
    o: RecommendOptions,
  ): { exclude: Int32Array | null; allow: Int32Array | ItemSet | null } {
    const excludeSeen = o.excludeSeen === undefined ? true : expectBoolean('options.excludeSeen', o.excludeSeen);
    const extra = o.exclude === undefined ? null : this.rowsOf(snap, 'options.exclude', o.exclude);
    let exclude: Int32Array | null = excludeSeen ? seen : null;
    if (extra?.length) {
      if (!exclude || exclude.length === 0) exclude = extra;
      else {
        const both = new Int32Array(exclude.length + extra.length);
        both.set(exclude);
        both.set(extra, exclude.length);
        exclude = both;
      }
    }
    const allow = o.allow === undefined ? null : o.allow instanceof ItemSet ? o.allow : this.rowsOf(snap, 'options.allow', o.allow);
    return { exclude, allow };
  }

  private rowsOf(snap: Snapshot, argument: string, list: ItemList): Int32Array {
    if (list instanceof ItemSet) {
      if (list.bound > snap.items.rows)
        throw rangeError(argument, `item rows in [0, ${snap.items.rows})`, `an ItemSet containing ${list.bound - 1}`);
      return list.indices;
    }
    return snap.itemRows(stringList(argument, list));
  }

  private blockSet(snap: Snapshot): ItemSet | null {
    if (this.blockedIds.size === 0) return null;
    if (this.blockCache?.version !== snap.version) this.blockCache = { version: snap.version, set: snap.itemSet(this.blockedIds) };
    return this.blockCache.set;
  }

  private result(snap: Snapshot, indices: Int32Array, scores: Float32Array, strategy: Strategy): Recommendation {
    const items = new Array<string>(indices.length);
    for (let j = 0; j < indices.length; j++) items[j] = snap.itemId(indices[j]);
    return { items, indices, scores, strategy, version: snap.version };
  }
}

const ONE = Float32Array.of(1);

function withOne(v: Float32Array): Float32Array {
  const q = new Float32Array(v.length + 1);
  q.set(v);
  q[v.length] = 1;
  return q;
}

function stringList(argument: string, v: unknown): ReadonlyArray<string> {
  if (!Array.isArray(v)) throw typeError(argument, 'array of strings (ids)', v);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') throw typeError(`${argument}[${i}]`, 'string', v[i]);
  return v as string[];
}

function isHandle(x: unknown): x is SharedSnapshotHandle {
  return typeof x === 'object' && x !== null && 'popularity' in x && 'version' in x && 'items' in x;
}

async function partsOf(source: RecommenderSource | TwoTower, o: RecommenderOptions): Promise<SnapshotParts> {
  const model = isLoaded(source) ? source.model : source;
  if (model instanceof TwoTower) {
    const items = await model.encodeItems();
    const users = await model.encodeUsers();
    const vocab = isLoaded(source) ? source.vocabularies : {};
    return buildParts(source as RecommenderSource, { users: vocab.users, items: vocab.items, ...o }, { items, users });
  }
  if (model === null || typeof model !== 'object') throw typeError('source', 'a model, a loaded model or { items, users }', source);
  return buildParts(source as RecommenderSource, o);
}

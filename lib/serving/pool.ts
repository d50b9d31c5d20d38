/**
 * RecommenderPool: N worker threads (node:worker_threads) answering recommend calls from one shared
 * copy of the tables (every snapshot array lives on a SharedArrayBuffer; workers adopt it by
 * reference), with round-robin or least-busy dispatch and atomic model swaps.
 *
 * Swap protocol: the new snapshot is built once on the calling thread and posted to every worker.
 * A worker handles messages one at a time, so each request is answered entirely by the snapshot
 * that was installed when its message was processed — never a mix — and the result carries that
 * snapshot's version. swap resolves once every worker has installed the new snapshot and every
 * request dispatched before it has settled; only then does the pool drop its reference to the old
 * snapshot (its memory is freed when no thread holds it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { ArgumentRangeError, ArgumentTypeError, RecbridgeError, type ErrorCode } from '../core/errors';
import { expectInteger, expectOptions, rangeError, typeError } from '../core/validate';
import {
  Recommender,
  type RecommendBatchOptions,
  type Recommendation,
  type RecommendOptions,
  type RecommendUser,
  type RecommenderOptions,
  type ItemList,
} from './recommender';
import type { SharedSnapshotHandle } from './snapshot';

export type PoolRequest =
  | {
      id: number;
      type: 'init';
      snapshot: SharedSnapshotHandle;
      options: Pick<RecommenderOptions, 'fallback' | 'foldIn' | 'threads'>;
      blocked: string[];
    }
  | { id: number; type: 'swap'; snapshot: SharedSnapshotHandle }
  | { id: number; type: 'block' | 'unblock'; ids: string[] }
  | { id: number; type: 'recommend'; user: RecommendUser; k: number; options?: RecommendOptions }
  | { id: number; type: 'recommendBatch'; users: RecommendUser[]; k: number; options?: Omit<RecommendBatchOptions, 'signal'> }
  | { id: number; type: 'similarItems'; item: string; k: number; options?: { exclude?: ItemList; allow?: ItemList } }
  | { id: number; type: 'memory' };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface PoolResponse {
  id: number;
  error?: { name: string; code?: string; message: string; argument?: string };
  version?: number;
  result?: Recommendation;
  results?: Recommendation[];
  similar?: Omit<Recommendation, 'strategy'>;
  memory?: NodeJS.MemoryUsage;
}

export interface RecommenderPoolOptions {
  /** Worker threads. Default 2. */
  workers?: number;
  /** 'least-busy' (default: the worker with the fewest requests in flight, ties round-robin) or 'round-robin'. */
  dispatch?: 'round-robin' | 'least-busy';
  /** The worker script (default: pool-worker.js next to this module, or dist/serving/pool-worker.js from sources). */
  workerScript?: string;
}

interface WorkerState {
  worker: Worker;
  inFlight: number;
  handled: number;
  pending: Map<number, { resolve: (r: PoolResponse) => void; reject: (e: Error) => void; version: number }>;
}

function workerScript(explicit: string | undefined): string {
  if (explicit !== undefined) {
    if (typeof explicit !== 'string') throw typeError('options.workerScript', 'path string', explicit);
    return explicit;
  }
  const here = path.join(__dirname, 'pool-worker.js');
  if (fs.existsSync(here)) return here;
  // Running from the TypeScript sources (tests): use the built package.
  const built = path.resolve(__dirname, '../../dist/serving/pool-worker.js');
  if (fs.existsSync(built)) return built;
  throw new RecbridgeError(
    'ERR_ADDON_LOAD',
    `The RecommenderPool worker script is missing (${here}); build the package with "npm run build"`,
  );
}

/** Rebuilds a worker's error as the same typed error (name and code) on this thread. */
function rebuild(e: NonNullable<PoolResponse['error']>): Error {
  let err: Error;
  if (e.code === 'ERR_INVALID_ARG_TYPE') err = new ArgumentTypeError(e.message, e.argument ?? 'argument');
  else if (e.code === 'ERR_OUT_OF_RANGE' || e.code === 'ERR_INVALID_ARG_VALUE')
    err = new ArgumentRangeError(e.message, e.argument ?? 'argument', e.code);
  else if (e.code) err = new RecbridgeError(e.code as ErrorCode, e.message);
  else err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class RecommenderPool {
  private readonly states: WorkerState[];
  private readonly dispatch: 'round-robin' | 'least-busy';
  private current: Recommender;
  private nextId = 1;
  private cursor = 0;
  private closed = false;
  private swapping: Promise<unknown> = Promise.resolve();

  private constructor(recommender: Recommender, states: WorkerState[], dispatch: 'round-robin' | 'least-busy') {
    this.current = recommender;
    this.states = states;
    this.dispatch = dispatch;
  }

  /** Starts the workers on recommender's current snapshot (shared, not copied); resolves when all are ready. */
  static async create(
    recommender: Recommender,
    options?: RecommenderPoolOptions & Pick<RecommenderOptions, 'fallback' | 'foldIn' | 'threads'>,
  ): Promise<RecommenderPool> {
    if (!(recommender instanceof Recommender)) throw typeError('recommender', 'Recommender', recommender);
    const o = expectOptions('options', options);
    const n = o.workers === undefined ? 2 : expectInteger('options.workers', o.workers, 1, 256);
    const dispatch = o.dispatch ?? 'least-busy';
    if (dispatch !== 'round-robin' && dispatch !== 'least-busy')
      throw rangeError('options.dispatch', '"round-robin" or "least-busy"', dispatch);
    const script = workerScript(o.workerScript);
    const states: WorkerState[] = Array.from({ length: n }, () => ({
      worker: new Worker(script),
      inFlight: 0,
      handled: 0,
      pending: new Map(),
    }));
    const pool = new RecommenderPool(recommender, states, dispatch);
    for (const s of states) pool.listen(s);
    const init = { fallback: o.fallback, foldIn: o.foldIn, threads: o.threads };
    try {
      await Promise.all(
        states.map((s) => pool.send(s, { type: 'init', snapshot: recommender.toShared(), options: init, blocked: recommender.blocked })),
      );
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.states.length;
  }

  get version(): number {
    return this.current.version;
  }

  /** Requests in flight and answered, per worker. */
  stats(): { inFlight: number; handled: number }[] {
    return this.states.map((s) => ({ inFlight: s.inFlight, handled: s.handled }));
  }

  recommend(user: RecommendUser, k: number, options?: RecommendOptions): Promise<Recommendation> {
    return this.send(this.pick(), { type: 'recommend', user, k, options }).then((r) => r.result!);
  }

  recommendBatch(users: RecommendUser[], k: number, options?: Omit<RecommendBatchOptions, 'signal'>): Promise<Recommendation[]> {
    return this.send(this.pick(), { type: 'recommendBatch', users, k, options }).then((r) => r.results!);
  }

  similarItems(item: string, k: number, options?: { exclude?: ItemList; allow?: ItemList }): Promise<Omit<Recommendation, 'strategy'>> {
    return this.send(this.pick(), { type: 'similarItems', item, k, options }).then((r) => r.similar!);
  }

  /** Adds ids to every worker's global block list (requests dispatched after this call see it). */
  async block(ids: string[]): Promise<void> {
    this.current.block(ids);
    await Promise.all(this.states.map((s) => this.send(s, { type: 'block', ids })));
  }

  async unblock(ids: string[]): Promise<void> {
    this.current.unblock(ids);
    await Promise.all(this.states.map((s) => this.send(s, { type: 'unblock', ids })));
  }

  /**
   * Atomically replaces the model (see the module comment). `source` is anything Recommender.swap
   * takes: a model, a loaded model, tables, or another Recommender (its current snapshot). Resolves
   * with the new version once no request can still be reading the old snapshot. Swaps are serialised.
   */
  swap(source: Parameters<Recommender['prepare']>[0] | Recommender, options?: RecommenderOptions): Promise<number> {
    const run = async () => {
      // Built once, here; the workers adopt it by reference.
      const handle =
        source instanceof Recommender
          ? { ...source.toShared(), version: this.current.version + 1 }
          : await this.current.prepare(source, options);
      const installing = this.current.swap(handle);
      await Promise.all(this.states.map((s) => this.send(s, { type: 'swap', snapshot: handle })));
      await installing;
      // Requests sent before the swap messages were answered before them (per-worker order), and
      // each worker's swap reply waited for its own batches on the old snapshot.
      return handle.version;
    };
    const p = this.swapping.then(run, run);
    this.swapping = p.catch(() => undefined);
    return p;
  }

  /** process.memoryUsage() as seen from each worker (RSS is per process: shared tables count once). */
  async memory(): Promise<NodeJS.MemoryUsage[]> {
    return Promise.all(this.states.map((s) => this.send(s, { type: 'memory' }).then((r) => r.memory!)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.states.map((s) => s.worker.terminate()));
  }

  private pick(): WorkerState {
    if (this.closed) throw new RecbridgeError('ERR_BUSY', 'The RecommenderPool is closed');
    const n = this.states.length;
    if (this.dispatch === 'round-robin') return this.states[this.cursor++ % n];
    let best = this.states[this.cursor % n];
    for (let j = 1; j < n; j++) {
      const s = this.states[(this.cursor + j) % n];
      if (s.inFlight < best.inFlight) best = s;
    }
    this.cursor++;
    return best;
  }

  private send(s: WorkerState, msg: WithoutId<PoolRequest>): Promise<PoolResponse> {
    if (this.closed && msg.type !== 'init') return Promise.reject(new RecbridgeError('ERR_BUSY', 'The RecommenderPool is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      s.inFlight++;
      s.pending.set(id, { resolve, reject, version: this.current.version });
      s.worker.postMessage({ ...msg, id });
    });
  }

  private listen(s: WorkerState): void {
    s.worker.on('message', (r: PoolResponse) => {
      const p = s.pending.get(r.id);
      if (!p) return;
      s.pending.delete(r.id);
      s.inFlight--;
      s.handled++;
      if (r.error) p.reject(rebuild(r.error));
      else p.resolve(r);
    });
    const failAll = (err: Error) => {
      for (const p of s.pending.values()) p.reject(err);
      s.pending.clear();
      s.inFlight = 0;
    };
    s.worker.on('error', (err) => failAll(err));
    s.worker.on('exit', (code) => {
      if (s.pending.size)
        failAll(new RecbridgeError('ERR_NATIVE', `A RecommenderPool worker exited (code ${code}) with requests in flight`));
    });
  }
}

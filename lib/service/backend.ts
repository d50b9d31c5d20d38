/**
 * Who answers the requests: one Recommender on the event loop (single requests are microseconds;
 * a thread hop would cost more than it saves), or a RecommenderPool of worker threads sharing one
 * copy of the tables. Both swap models atomically: a request reads one snapshot from start to end.
 */
import type { LoadedModel } from '../io/model-file/load';
import type { Interactions } from '../data/interactions';
import { RecommenderPool } from '../serving/pool';
import {
  Recommender,
  type ItemList,
  type Recommendation,
  type RecommenderOptions,
  type RecommendOptions,
  type RecommendUser,
} from '../serving/recommender';

export type Similar = Omit<Recommendation, 'strategy'>;

export interface Backend {
  readonly kind: 'in-process' | 'pool';
  readonly version: number;
  readonly quantization: 'f32' | 'bf16' | 'int8';
  recommend(user: RecommendUser, k: number, options: RecommendOptions): Recommendation | Promise<Recommendation>;
  similarItems(item: string, k: number, options: { exclude?: ItemList; allow?: ItemList }): Similar | Promise<Similar>;
  /** Installs a new model; resolves with its version once no request reads the old one. */
  swap(model: LoadedModel, seen: Interactions | undefined): Promise<number>;
  close(): Promise<void>;
}

class InProcess implements Backend {
  readonly kind = 'in-process';
  constructor(private readonly rec: Recommender) {}
  get version(): number {
    return this.rec.version;
  }
  get quantization() {
    return this.rec.quantization;
  }
  recommend(user: RecommendUser, k: number, options: RecommendOptions): Recommendation {
    return this.rec.recommend(user, k, options);
  }
  similarItems(item: string, k: number, options: { exclude?: ItemList; allow?: ItemList }): Similar {
    return this.rec.similarItems(item, k, options);
  }
  swap(model: LoadedModel, seen: Interactions | undefined): Promise<number> {
    return this.rec.swap(model, { seen });
  }
  async close(): Promise<void> {}
}

class Pooled implements Backend {
  readonly kind = 'pool';
  constructor(
    private readonly rec: Recommender,
    private readonly pool: RecommenderPool,
  ) {}
  get version(): number {
    return this.pool.version;
  }
  get quantization() {
    return this.rec.quantization;
  }
  recommend(user: RecommendUser, k: number, options: RecommendOptions): Promise<Recommendation> {
    return this.pool.recommend(user, k, options);
  }
  similarItems(item: string, k: number, options: { exclude?: ItemList; allow?: ItemList }): Promise<Similar> {
    return this.pool.similarItems(item, k, options);
  }
  swap(model: LoadedModel, seen: Interactions | undefined): Promise<number> {
    return this.pool.swap(model, { seen });
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

export async function createBackend(
  model: LoadedModel,
  seen: Interactions | undefined,
  options: RecommenderOptions & { workers?: number; workerScript?: string },
): Promise<Backend> {
  const { workers, workerScript, ...recommenderOptions } = options;
  const rec = await Recommender.create(model, { ...recommenderOptions, seen });
  if (!workers) return new InProcess(rec);
  const pool = await RecommenderPool.create(rec, {
    workers,
    workerScript,
    fallback: recommenderOptions.fallback,
    foldIn: recommenderOptions.foldIn,
    threads: recommenderOptions.threads,
  });
  return new Pooled(rec, pool);
}

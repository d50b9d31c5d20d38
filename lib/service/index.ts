/** The HTTP service: RecommendService (fastify) over a model file, with metrics, hot reload and graceful shutdown. */
export { RecommendService, startService, type ReloadResult, type ServedModelInfo } from './service';
export type { ServiceOptions } from './options';
export { handleSignals, type SignalOptions } from './signals';
export { startServiceCluster, type ServiceCluster, type ServiceClusterOptions } from './cluster';
export { ServiceMetrics } from './metrics';
export type { ModelFileStat } from './model-loader';
export type { ProblemBody, ServiceErrorCode } from './http-errors';
export type { RecommendBody, RecommendResponse, ScoredItem, SimilarBody } from './routes';

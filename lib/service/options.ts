/**
 * The service's options, checked once at start with the library's message shape, so a bad
 * option names itself before anything listens.
 */
import type { LoadInteractionsOptions } from '../data/load-interactions';
import { expectBoolean, expectInteger, expectOptions, rangeError, typeError } from '../core/validate';
import type { RecommenderOptions } from '../serving/recommender';

export interface ServiceOptions {
  /** The model file (saveModel's safetensors). Replacing it (atomically, as saveModel does) reloads the service. */
  model: string;
  /** Interactions file whose items excludeSeen removes for known users (read with the model's vocabularies). */
  seen?: string;
  /** How to read the seen file (format, header, columns, minValue), as loadInteractions takes them. Default: from its name. */
  seenOptions?: SeenFileOptions;
  /** Item table: 'f32' (default, exact), 'bf16' or 'int8' (see Recommender). */
  quantize?: 'f32' | 'bf16' | 'int8';
  /** Unknown users without history: 'popularity' (default) or 'error' (a 404 naming body.user). */
  fallback?: 'popularity' | 'error';
  /** Threads per request (Recommender's threads). Default 1. */
  threads?: number;
  /** Worker threads of a RecommenderPool answering requests; 0 (default) answers on the event loop. */
  workers?: number;
  /**
   * Further Recommender options: fold-in settings, rerank, popularity, and a user-feature encoder
   * for `{ features }` requests (on the event loop only: worker threads have no encoder).
   */
  recommender?: Pick<RecommenderOptions, 'foldIn' | 'rerank' | 'popularity' | 'userFeatures'>;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** TCP port; 0 picks a free one (read it from `service.url`). Default 8080. */
  port?: number;
  /** Largest request body, bytes; a larger one is a 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Milliseconds a client may take to send a request (then a 408), and a worker to answer one
   * (then a 503 ERR_TIMEOUT). Default 10,000.
   */
  timeout?: number;
  /** k when a request gives none. Default 10. */
  defaultK?: number;
  /** Largest k a request may ask for. Default 1000. */
  maxK?: number;
  /** Most ids in one exclude, allow or history list. Default 100,000. */
  maxList?: number;
  /** Most requests in one /recommend/batch. Default 100. */
  maxBatch?: number;
  /** Reload when the model (or seen) file changes. Default true. SIGHUP (with handleSignals) and service.reload() work either way. */
  watch?: boolean;
  /** Stat polling interval of the watch, ms (0: directory events only). Default 2000. */
  pollMs?: number;
  /** Quiet time after a file event before reloading, ms. Default 200. */
  debounceMs?: number;
  /** Grace period of close(): in-flight requests get this long to finish, ms. Default 10,000. */
  grace?: number;
  /**
   * fastify's logger: false (default: silent), true, or pino options such as
   * `{ level: 'info', stream: process.stderr }`. Reloads and failures are logged at info/error.
   */
  logger?: boolean | Record<string, unknown>;
  /** Collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
  /** Called once the socket is bound, before the model is loaded (print the address here). */
  onListening?: (url: string) => void;
  /** Where GET /metrics gets its text. Default: this service's registry (a cluster process asks the primary for every process's). */
  metricsText?: () => Promise<string>;
}

export type SeenFileOptions = Pick<LoadInteractionsOptions, 'format' | 'header' | 'user' | 'item' | 'value' | 'time' | 'minValue'>;

export type ResolvedServiceOptions = Required<
  Omit<ServiceOptions, 'seen' | 'seenOptions' | 'recommender' | 'onListening' | 'metricsText' | 'logger' | 'quantize' | 'fallback'>
> &
  Pick<ServiceOptions, 'seen' | 'seenOptions' | 'recommender' | 'onListening' | 'metricsText' | 'quantize' | 'fallback'> & {
    logger: boolean | Record<string, unknown>;
  };

const MiB = 1 << 20;

function optionalInteger(o: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = o[name];
  return v === undefined ? fallback : expectInteger(`options.${name}`, v, min, max);
}

export function resolveOptions(options: ServiceOptions): ResolvedServiceOptions {
  const o = expectOptions('options', options) as ServiceOptions & Record<string, unknown>;
  if (typeof o.model !== 'string' || o.model === '') throw typeError('options.model', 'path of a model file', o.model);
  if (o.seen !== undefined && (typeof o.seen !== 'string' || o.seen === ''))
    throw typeError('options.seen', 'path of an interactions file', o.seen);
  if (o.quantize !== undefined && !['f32', 'bf16', 'int8'].includes(o.quantize))
    throw rangeError('options.quantize', '"f32", "bf16" or "int8"', o.quantize);
  if (o.fallback !== undefined && o.fallback !== 'popularity' && o.fallback !== 'error')
    throw rangeError('options.fallback', '"popularity" or "error"', o.fallback);
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === ''))
    throw typeError('options.host', 'host name or address', o.host);
  if (o.onListening !== undefined && typeof o.onListening !== 'function') throw typeError('options.onListening', 'function', o.onListening);
  if (o.metricsText !== undefined && typeof o.metricsText !== 'function') throw typeError('options.metricsText', 'function', o.metricsText);
  if (o.logger !== undefined && typeof o.logger !== 'boolean' && (o.logger === null || typeof o.logger !== 'object'))
    throw typeError('options.logger', 'boolean or logger options', o.logger);
  if (o.recommender !== undefined) expectOptions('options.recommender', o.recommender);
  const maxK = optionalInteger(o, 'maxK', 1000, 1, 1_000_000);
  return {
    model: o.model,
    seen: o.seen,
    seenOptions: o.seenOptions === undefined ? undefined : (expectOptions('options.seenOptions', o.seenOptions) as SeenFileOptions),
    quantize: o.quantize,
    fallback: o.fallback,
    recommender: o.recommender,
    onListening: o.onListening,
    metricsText: o.metricsText,
    threads: optionalInteger(o, 'threads', 1, 1, 256),
    workers: optionalInteger(o, 'workers', 0, 0, 256),
    host: o.host ?? '127.0.0.1',
    port: optionalInteger(o, 'port', 8080, 0, 65535),
    bodyLimit: optionalInteger(o, 'bodyLimit', MiB, 1, 2 ** 31 - 1),
    timeout: optionalInteger(o, 'timeout', 10_000, 1, 2 ** 31 - 1),
    defaultK: Math.min(optionalInteger(o, 'defaultK', 10, 1, 1_000_000), maxK),
    maxK,
    maxList: optionalInteger(o, 'maxList', 100_000, 1, 10_000_000),
    maxBatch: optionalInteger(o, 'maxBatch', 100, 1, 100_000),
    watch: o.watch === undefined ? true : expectBoolean('options.watch', o.watch),
    pollMs: optionalInteger(o, 'pollMs', 2000, 0, 2 ** 31 - 1),
    debounceMs: optionalInteger(o, 'debounceMs', 200, 0, 2 ** 31 - 1),
    grace: optionalInteger(o, 'grace', 10_000, 0, 2 ** 31 - 1),
    logger: o.logger ?? false,
    processMetrics: o.processMetrics === undefined ? true : expectBoolean('options.processMetrics', o.processMetrics),
  };
}

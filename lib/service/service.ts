/**
 * RecommendService: an HTTP JSON service (fastify) over a model file. It listens first (so
 * /healthz answers during a long load), loads the model, then reports ready. When the file is
 * replaced it loads the new one next to the old, swaps atomically between requests (a request
 * reads one snapshot from start to end) and keeps the old model when the new file does not load.
 * close() stops accepting connections, lets in-flight requests finish within a grace period,
 * then stops the workers.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { createBackend, type Backend } from './backend';
import { FileWatcher } from './file-watcher';
import { loadFastify } from './lazy-modules';
import { ServiceHttpError, fromLibraryError, fromSchemaErrors, type SchemaError } from './http-errors';
import { ServiceMetrics } from './metrics';
import { fileIdentity, loadServedModel, type ModelFileStat, type ServedModel } from './model-loader';
import { resolveOptions, type ResolvedServiceOptions, type ServiceOptions } from './options';
import { registerRoutes, type TaggedRequest } from './routes';

export interface ReloadResult {
  /** 'swapped': a new model serves; 'unchanged': the file is the one serving; 'failed': the old model keeps serving. */
  status: 'swapped' | 'unchanged' | 'failed';
  /** The version serving after the reload. */
  version: number;
  error?: Error;
}

/** What the service serves now. */
export interface ServedModelInfo extends ModelFileStat {
  version: number;
  quantize: 'f32' | 'bf16' | 'int8';
  /** When the model was loaded, ms since the epoch. */
  loadedAt: number;
  /** Lines of the seen file skipped because the model does not know their user or item. */
  seenSkipped: number;
}

/** fastify's words for body errors, replaced by ones that say what to send. */
const FASTIFY_MESSAGES: Record<string, (err: { message: string }, contentType: string | undefined) => string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (_err, type) =>
    `Expected a JSON body with the header content-type: application/json but received ${type ? `content-type ${JSON.stringify(type)}` : 'no content-type'}`,
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'Expected a JSON object for body but received an empty body',
  FST_ERR_CTP_INVALID_JSON_BODY: (err) => `Expected valid JSON for body but it does not parse (${err.message})`,
};

const FASTIFY_CODES: Record<string, ConstructorParameters<typeof ServiceHttpError>[1]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_INVALID_ARG',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_INVALID_JSON',
};

export class RecommendService {
  readonly app: FastifyInstance;
  readonly metrics: ServiceMetrics;
  private readonly options: ResolvedServiceOptions;
  private backend: Backend | null = null;
  private served: ServedModelInfo | null = null;
  private seenIdentity: string | null = null;
  private watcher: FileWatcher | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  private reloadAgain = false;
  private closing: Promise<{ forced: boolean }> | null = null;
  private boundUrl: string | null = null;

  private constructor(options: ResolvedServiceOptions) {
    this.options = options;
    this.metrics = new ServiceMetrics({ defaultMetrics: options.processMetrics });
    this.metrics.setWorkers(options.workers);
    const { fastify, LogController } = loadFastify();
    this.app = fastify({
      logger: options.logger as boolean,
      bodyLimit: options.bodyLimit,
      requestTimeout: options.timeout,
      // Node checks request deadlines on an interval (30 s by default): check often enough that a
      // slow client gets its 408 close to the deadline.
      http: { headersTimeout: options.timeout, connectionsCheckingInterval: Math.max(10, Math.min(1000, options.timeout >> 2)) },
      // One line per request would cost more than the request: reloads and failures are logged.
      logController: new LogController({ disableRequestLogging: true }),
      // Requests that arrive while closing are still answered (with Connection: close): the model
      // serves until the server has drained.
      return503OnClosing: false,
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, verbose: true } },
    });
    this.app.decorateRequest('strategy', 'none');
    // JSON only: a text/plain body is a 415, not a string that fails the schema.
    this.app.removeContentTypeParser('text/plain');
    this.app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.metrics.observe(route, reply.statusCode, (request as TaggedRequest).strategy, reply.elapsedTime / 1000);
      done();
    });
    this.app.setErrorHandler((err: FastifyError & { validation?: SchemaError[]; validationContext?: string }, request, reply) => {
      let e: ServiceHttpError;
      if (err.validation) e = fromSchemaErrors(err.validationContext ?? 'body', err.validation);
      else if (err instanceof ServiceHttpError) e = err;
      else if (err.code && FASTIFY_CODES[err.code])
        e = new ServiceHttpError(
          err.statusCode ?? 400,
          FASTIFY_CODES[err.code],
          FASTIFY_MESSAGES[err.code]?.(err, request.headers['content-type']) ?? err.message,
          'body',
        );
      else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
        e = new ServiceHttpError(err.statusCode, 'ERR_INVALID_ARG', err.message);
      else e = fromLibraryError(err);
      if (e.statusCode >= 500 && e.error === 'ERR_INTERNAL') request.log.error({ err }, 'request failed');
      reply.code(e.statusCode).send(e.body());
    });
    this.app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({
        error: 'ERR_NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]} (routes: POST /recommend, POST /recommend/batch, POST /similar, GET /healthz, GET /readyz, GET /metrics)`,
      });
    });
    registerRoutes(this.app, {
      backend: () => this.backend,
      limits: { maxK: options.maxK, maxList: options.maxList, maxVector: 65_536, maxBatch: options.maxBatch },
      defaultK: options.defaultK,
      timeout: options.timeout,
      draining: () => this.closing !== null,
      features: options.workers === 0 && options.recommender?.userFeatures !== undefined,
      readiness: () => this.readiness(),
      metrics: async () => ({
        contentType: this.metrics.contentType,
        text: await (options.metricsText ? options.metricsText() : this.metrics.text()),
      }),
    });
  }

  /**
   * Starts a service: checks the options, listens, loads the model (and the seen file), starts
   * watching the file. Rejects (after closing what it opened) when the first load fails.
   */
  static async start(options: ServiceOptions): Promise<RecommendService> {
    const service = new RecommendService(resolveOptions(options));
    await service.listen();
    try {
      await service.loadFirst();
    } catch (err) {
      await service.close({ grace: 0 });
      throw err;
    }
    return service;
  }

  /** `http://host:port` once listening. */
  get url(): string {
    if (this.boundUrl === null) throw new ServiceHttpError(503, 'ERR_NOT_READY', 'The service is not listening');
    return this.boundUrl;
  }

  get ready(): boolean {
    return this.backend !== null && this.closing === null;
  }

  /** The model serving now, or null before the first load. */
  get model(): ServedModelInfo | null {
    return this.served;
  }

  private async listen(): Promise<void> {
    await this.app.listen({ host: this.options.host, port: this.options.port });
    const a = this.app.server.address();
    if (a === null || typeof a === 'string') throw new Error(`Unexpected server address ${String(a)}`);
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    this.boundUrl = `http://${host}:${a.port}`;
    this.options.onListening?.(this.boundUrl);
  }

  private seenOptions() {
    return this.options.seen === undefined ? undefined : { path: this.options.seen, options: this.options.seenOptions };
  }

  private async loadFirst(): Promise<void> {
    const m = await loadServedModel(this.options.model, this.seenOptions());
    const o = this.options;
    this.backend = await createBackend(m.loaded, m.seen, {
      ...o.recommender,
      quantize: o.quantize,
      fallback: o.fallback,
      threads: o.threads,
      workers: o.workers,
    });
    this.installed(m, this.backend.version);
    this.app.log.info({ model: this.served }, 'model loaded');
    if (o.watch) {
      const files = o.seen === undefined ? [o.model] : [o.model, o.seen];
      this.watcher = new FileWatcher(files, () => void this.reload(), { debounceMs: o.debounceMs, pollMs: o.pollMs });
    }
  }

  private installed(m: ServedModel, version: number): void {
    const quantize = this.backend!.quantization;
    this.served = { ...m.file, version, quantize, loadedAt: m.loadedAt, seenSkipped: m.seenSkipped };
    this.seenIdentity = m.seenIdentity;
    this.metrics.model(m.file, version, quantize, m.loadedAt);
  }

  private readiness(): { ready: boolean; body: Record<string, unknown> } {
    if (this.closing !== null) return { ready: false, body: { status: 'closing' } };
    if (this.served === null) return { ready: false, body: { status: 'loading' } };
    const s = this.served;
    return {
      ready: true,
      body: { status: 'ready', version: s.version, sha256: s.sha256, path: s.path, quantize: s.quantize, workers: this.options.workers },
    };
  }

  /**
   * Loads the model file again and swaps it in when it changed (or always, with force). Concurrent
   * calls share one reload, and a change seen during a reload runs one more after it. A file that
   * does not load leaves the serving model in place: the result says 'failed', the error is logged
   * and counted in recbridge_model_reloads_total{result="failed"}.
   */
  reload(options: { force?: boolean } = {}): Promise<ReloadResult> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<ReloadResult> => {
      let result: ReloadResult;
      do {
        this.reloadAgain = false;
        result = await this.reloadOnce(options.force === true);
      } while (this.reloadAgain && this.closing === null);
      return result;
    };
    this.reloading = run().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async reloadOnce(force: boolean): Promise<ReloadResult> {
    const backend = this.backend;
    if (backend === null || this.closing !== null) return { status: 'unchanged', version: backend?.version ?? 0 };
    try {
      const seen = this.options.seen;
      const seenIdentity = seen === undefined ? null : await fileIdentity(seen);
      if (!force && seenIdentity === this.seenIdentity && (await fileIdentity(this.options.model)) === this.served?.identity)
        return { status: 'unchanged', version: backend.version };
      const m = await loadServedModel(this.options.model, this.seenOptions());
      if (!force && m.file.sha256 === this.served?.sha256 && m.seenIdentity === this.seenIdentity) {
        // The same bytes under a new inode (the same model saved again): nothing to swap.
        this.served = { ...this.served, identity: m.file.identity, mtimeMs: m.file.mtimeMs };
        return { status: 'unchanged', version: backend.version };
      }
      const version = await backend.swap(m.loaded, m.seen);
      this.installed(m, version);
      this.metrics.reloaded(true);
      this.app.log.info({ model: this.served }, 'model reloaded');
      return { status: 'swapped', version };
    } catch (err) {
      this.metrics.reloaded(false);
      const e = err as Error & { code?: string };
      this.app.log.error(
        { err, file: this.options.model },
        `model reload failed; version ${backend.version} keeps serving: ${e.code ? `[${e.code}] ` : ''}${e.message}`,
      );
      return { status: 'failed', version: backend.version, error: e };
    }
  }

  /**
   * Stops accepting connections and answers what is in flight (requests arriving on open
   * connections meanwhile are answered with Connection: close), for at most `grace` ms; then
   * closes the rest and the workers. `forced` says whether the grace period ran out.
   */
  close(options: { grace?: number } = {}): Promise<{ forced: boolean }> {
    if (this.closing) return this.closing;
    const grace = options.grace ?? this.options.grace;
    this.closing = (async () => {
      this.watcher?.close();
      let forced = false;
      const server = this.app.server;
      // server.close() reaps idle keep-alive sockets only once; sockets whose last request finishes
      // later are reaped by this sweep, so the drain ends when the last in-flight request does.
      const sweep = setInterval(() => server.closeIdleConnections?.(), 20);
      const timer = setTimeout(() => {
        forced = true;
        server.closeAllConnections?.();
      }, grace);
      try {
        await this.app.close();
      } finally {
        clearInterval(sweep);
        clearTimeout(timer);
      }
      await this.reloading?.catch(() => undefined);
      await this.backend?.close();
      this.app.log.info({ forced }, 'service closed');
      return { forced };
    })();
    return this.closing;
  }
}

/** Starts a RecommendService (see RecommendService.start). */
export function startService(options: ServiceOptions): Promise<RecommendService> {
  return RecommendService.start(options);
}

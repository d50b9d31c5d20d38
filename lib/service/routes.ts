/**
 * The routes: POST /recommend, /recommend/batch and /similar over the current backend, and the
 * probes. Handlers stay synchronous when the backend answers on the event loop, so a request costs
 * no promise beyond fastify's own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Recommendation, RecommendOptions, RecommendUser } from '../serving/recommender';
import type { Backend, Similar } from './backend';
import { ServiceHttpError, fromLibraryError, type ProblemBody } from './http-errors';
import { batchSchema, recommendSchema, similarSchema, type SchemaLimits } from './schemas';

export interface RecommendBody {
  user?: string;
  history?: string[];
  vector?: number[];
  features?: number[];
  k?: number;
  exclude?: string[];
  allow?: string[];
  excludeSeen?: boolean;
}

export interface SimilarBody {
  item: string;
  k?: number;
  exclude?: string[];
  allow?: string[];
}

export interface ScoredItem {
  id: string;
  score: number;
}

export interface RecommendResponse {
  items: ScoredItem[];
  strategy: string;
  version: number;
}

/** What the routes need from the service. */
export interface RouteContext {
  /** The backend, or null while no model is loaded (requests get a 503). */
  backend(): Backend | null;
  limits: SchemaLimits;
  defaultK: number;
  /** Deadline of an asynchronous (worker) answer, ms. */
  timeout: number;
  /** True once close() has begun: answers then carry Connection: close, so clients stop reusing the socket. */
  draining(): boolean;
  /** Whether `{ features }` requests have an encoder. */
  features: boolean;
  readiness(): { ready: boolean; body: Record<string, unknown> };
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** The strategy label of a request's metrics (set by the handlers). */
export interface TaggedRequest extends FastifyRequest {
  strategy: string;
}

const QUERY_FIELDS = ['user', 'history', 'vector', 'features'] as const;

function userOf(body: RecommendBody, base: string, features: boolean): RecommendUser {
  let found: (typeof QUERY_FIELDS)[number] | undefined;
  let count = 0;
  for (const f of QUERY_FIELDS) {
    if (body[f] !== undefined) {
      count++;
      found ??= f;
    }
  }
  if (count !== 1) {
    const given = QUERY_FIELDS.filter((f) => body[f] !== undefined).map((f) => `${base}.${f}`);
    throw new ServiceHttpError(
      400,
      'ERR_INVALID_ARG',
      `Expected exactly one of ${QUERY_FIELDS.map((f) => `${base}.${f}`).join(', ')} but received ${count === 0 ? 'none' : given.join(' and ')}`,
      count === 0 ? base : given[1],
    );
  }
  switch (found) {
    case 'user':
      return body.user!;
    case 'history':
      return { history: body.history! };
    case 'vector':
      return { vector: body.vector! };
    default:
      if (!features)
        throw new ServiceHttpError(
          400,
          'ERR_INVALID_ARG',
          `Expected ${base}.user, ${base}.history or ${base}.vector (this service has no user-feature encoder) but received ${base}.features`,
          `${base}.features`,
        );
      return { features: body.features! };
  }
}

function optionsOf(body: RecommendBody): RecommendOptions {
  return { exclude: body.exclude, allow: body.allow, excludeSeen: body.excludeSeen };
}

function scored(r: Recommendation | Similar): ScoredItem[] {
  const n = r.items.length;
  const out = new Array<ScoredItem>(n);
  for (let j = 0; j < n; j++) out[j] = { id: r.items[j], score: r.scores[j] };
  return out;
}

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown }).then === 'function';
}

function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServiceHttpError(503, 'ERR_TIMEOUT', `No answer within ${ms} ms; try again`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function notReady(): ServiceHttpError {
  return new ServiceHttpError(503, 'ERR_NOT_READY', 'No model is loaded yet; retry when GET /readyz answers 200');
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { limits, defaultK } = ctx;

  const answer = (request: FastifyRequest, r: Recommendation): RecommendResponse => {
    (request as TaggedRequest).strategy = r.strategy;
    return { items: scored(r), strategy: r.strategy, version: r.version };
  };

  app.post('/recommend', { schema: recommendSchema(limits) }, (request: FastifyRequest, reply: FastifyReply) => {
    if (ctx.draining()) reply.header('connection', 'close');
    const backend = ctx.backend();
    if (backend === null) throw notReady();
    const body = request.body as RecommendBody;
    const user = userOf(body, 'body', ctx.features);
    let r: Recommendation | Promise<Recommendation>;
    try {
      r = backend.recommend(user, body.k ?? defaultK, optionsOf(body));
    } catch (err) {
      throw fromLibraryError(err);
    }
    if (!isPromise(r)) return answer(request, r);
    return deadline(r, ctx.timeout).then(
      (x) => answer(request, x),
      (err) => {
        throw fromLibraryError(err);
      },
    );
  });

  app.post('/recommend/batch', { schema: batchSchema(limits) }, async (request: FastifyRequest, reply: FastifyReply) => {
    if (ctx.draining()) reply.header('connection', 'close');
    const backend = ctx.backend();
    if (backend === null) throw notReady();
    const { requests } = request.body as { requests: RecommendBody[] };
    const results = await Promise.all(
      requests.map(async (body, i): Promise<RecommendResponse | (ProblemBody & { status: number })> => {
        const base = `body.requests[${i}]`;
        try {
          const r = backend.recommend(userOf(body, base, ctx.features), body.k ?? defaultK, optionsOf(body));
          const x = isPromise(r) ? await deadline(r, ctx.timeout) : r;
          return { items: scored(x), strategy: x.strategy, version: x.version };
        } catch (err) {
          const e = fromLibraryError(err, base);
          return { status: e.statusCode, ...e.body() };
        }
      }),
    );
    (request as TaggedRequest).strategy = 'batch';
    return { results };
  });

  app.post('/similar', { schema: similarSchema(limits) }, (request: FastifyRequest, reply: FastifyReply) => {
    if (ctx.draining()) reply.header('connection', 'close');
    const backend = ctx.backend();
    if (backend === null) throw notReady();
    const body = request.body as SimilarBody;
    const respond = (s: Similar) => {
      (request as TaggedRequest).strategy = 'similar';
      return { items: scored(s), version: s.version };
    };
    let s: Similar | Promise<Similar>;
    try {
      s = backend.similarItems(body.item, body.k ?? defaultK, { exclude: body.exclude, allow: body.allow });
    } catch (err) {
      throw fromLibraryError(err);
    }
    if (!isPromise(s)) return respond(s);
    return deadline(s, ctx.timeout).then(respond, (err) => {
      throw fromLibraryError(err);
    });
  });

  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', (_request: FastifyRequest, reply: FastifyReply) => {
    const { ready, body } = ctx.readiness();
    reply.code(ready ? 200 : 503);
    return body;
  });

  app.get('/metrics', async (_request: FastifyRequest, reply: FastifyReply) => {
    const { contentType, text } = await ctx.metrics();
    reply.header('content-type', contentType);
    return text;
  });
}

/**
 * JSON schemas of the service's requests and responses. Fastify compiles them once: requests are
 * checked by Ajv before a handler runs (a 400 names the field), responses are written by
 * fast-json-stringify instead of JSON.stringify.
 */

export interface SchemaLimits {
  /** Largest k a request may ask for. */
  maxK: number;
  /** Most ids in exclude, allow and history. */
  maxList: number;
  /** Longest vector or feature list. */
  maxVector: number;
  /** Most requests in one /recommend/batch. */
  maxBatch: number;
}

const ids = (max: number) => ({ type: 'array', items: { type: 'string' }, maxItems: max });
const numbers = (max: number) => ({ type: 'array', items: { type: 'number' }, minItems: 1, maxItems: max });

/** The fields a recommend request may have (one of user, history, vector and features is required). */
export function recommendFields(l: SchemaLimits) {
  return {
    user: { type: 'string' },
    history: ids(l.maxList),
    vector: numbers(l.maxVector),
    features: numbers(l.maxVector),
    k: { type: 'integer', minimum: 1, maximum: l.maxK },
    exclude: ids(l.maxList),
    allow: ids(l.maxList),
    excludeSeen: { type: 'boolean' },
  } as const;
}

const scored = {
  type: 'array',
  items: {
    type: 'object',
    properties: { id: { type: 'string' }, score: { type: 'number' } },
    required: ['id', 'score'],
  },
} as const;

const recommendation = {
  type: 'object',
  properties: { items: scored, strategy: { type: 'string' }, version: { type: 'integer' } },
  required: ['items', 'strategy', 'version'],
} as const;

const problem = {
  type: 'object',
  properties: { error: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;

export function recommendSchema(l: SchemaLimits) {
  return {
    body: { type: 'object', properties: recommendFields(l), additionalProperties: false },
    response: { 200: recommendation },
  };
}

export function batchSchema(l: SchemaLimits) {
  return {
    body: {
      type: 'object',
      properties: {
        requests: {
          type: 'array',
          minItems: 1,
          maxItems: l.maxBatch,
          items: { type: 'object', properties: recommendFields(l), additionalProperties: false },
        },
      },
      required: ['requests'],
      additionalProperties: false,
    },
    response: {
      200: {
        type: 'object',
        properties: {
          results: {
            type: 'array',
            items: {
              type: 'object',
              properties: { ...recommendation.properties, ...problem.properties, status: { type: 'integer' } },
            },
          },
        },
        required: ['results'],
      },
    },
  };
}

export function similarSchema(l: SchemaLimits) {
  return {
    body: {
      type: 'object',
      properties: {
        item: { type: 'string' },
        k: { type: 'integer', minimum: 1, maximum: l.maxK },
        exclude: ids(l.maxList),
        allow: ids(l.maxList),
      },
      required: ['item'],
      additionalProperties: false,
    },
    response: {
      200: {
        type: 'object',
        properties: { items: scored, version: { type: 'integer' } },
        required: ['items', 'version'],
      },
    },
  };
}

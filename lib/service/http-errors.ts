/**
 * What a failed request gets back: a status and `{ error, field?, message }`, where `field` is the
 * request part to fix (`body.k`, `body.exclude[3]`) and `message` has the library's shape
 * ("Expected <what> for <field> but received <value>"). Schema failures (Ajv), the library's
 * argument errors and fastify's own 4xx errors all end up here.
 */
import { describe } from '../core/validate';

export type ServiceErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_INVALID_JSON'
  | 'ERR_UNKNOWN_USER'
  | 'ERR_UNKNOWN_ITEM'
  | 'ERR_NOT_FOUND'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_NOT_READY'
  | 'ERR_TIMEOUT'
  | 'ERR_INTERNAL';

export interface ProblemBody {
  error: ServiceErrorCode;
  field?: string;
  message: string;
}

/** An error that is answered as-is: its status and problem body. */
export class ServiceHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: ServiceErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ServiceHttpError';
  }

  body(): ProblemBody {
    return this.field === undefined
      ? { error: this.error, message: this.message }
      : { error: this.error, field: this.field, message: this.message };
  }
}

/** The subset of an Ajv error object (with `verbose: true`) that the messages use. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: Record<string, unknown>;
}

/** `/requests/0/exclude/3` under `body` → `body.requests[0].exclude[3]`. */
export function fieldPath(base: string, instancePath: string): string {
  let out = base;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return out;
}

function expected(schema: Record<string, unknown> | undefined, fallback: string): string {
  if (!schema) return fallback;
  const { type, minimum, maximum, minItems, maxItems, items } = schema as {
    type?: string;
    minimum?: number;
    maximum?: number;
    minItems?: number;
    maxItems?: number;
    items?: { type?: string };
  };
  if ((type === 'integer' || type === 'number') && minimum !== undefined && maximum !== undefined)
    return `${type} in [${minimum}, ${maximum}]`;
  if (type === 'array') {
    const of = items?.type ? ` of ${items.type}s` : '';
    if (maxItems !== undefined) return `an array${of} with ${minItems ?? 0} to ${maxItems} elements`;
    return `an array${of}`;
  }
  if (type === 'object') return 'an object';
  return type ?? fallback;
}

/** A case-insensitive or prefix match among the known names, for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  const n = name.toLowerCase();
  return known.find((k) => k.toLowerCase() === n) ?? known.find((k) => k.toLowerCase().startsWith(n) || n.startsWith(k.toLowerCase()));
}

/** The first schema error of a request part (`body`, `querystring`) as a 400. */
export function fromSchemaErrors(context: string, errors: SchemaError[]): ServiceHttpError {
  const e = errors[0];
  if (!e) return new ServiceHttpError(400, 'ERR_INVALID_ARG', `Invalid ${context}`, context);
  const at = fieldPath(context, e.instancePath);
  const parent = e.parentSchema;
  if (e.keyword === 'additionalProperties') {
    const name = String(e.params.additionalProperty);
    const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
    const guess = closest(name, known);
    const hint = guess ? ` (did you mean ${guess}?)` : known.length ? ` (known fields: ${known.join(', ')})` : '';
    return new ServiceHttpError(400, 'ERR_INVALID_ARG', `Unknown field ${at}.${name}${hint}`, `${at}.${name}`);
  }
  if (e.keyword === 'required') {
    const name = String(e.params.missingProperty);
    const schema = (parent?.properties as Record<string, Record<string, unknown>> | undefined)?.[name];
    const field = `${at}.${name}`;
    return new ServiceHttpError(
      400,
      'ERR_INVALID_ARG',
      `Expected ${expected(schema, 'a value')} for ${field} but received undefined`,
      field,
    );
  }
  if (e.keyword === 'type' && e.instancePath === '' && context === 'body')
    return new ServiceHttpError(400, 'ERR_INVALID_ARG', `Expected a JSON object for body but received ${describe(e.data)}`, 'body');
  return new ServiceHttpError(
    400,
    'ERR_INVALID_ARG',
    `Expected ${expected(parent, e.message ?? 'a valid value')} for ${at} but received ${describe(e.data)}`,
    at,
  );
}

/**
 * The request field an argument of Recommender.recommend or similarItems stands for: `k` → `body.k`,
 * `options.exclude[2]` → `body.exclude[2]`, `user.vector` → `body.vector`.
 */
export function fieldOfArgument(argument: string, base = 'body'): string {
  const a = argument
    .replace(/^options\./, '')
    .replace(/^users\[\d+\]\./, '')
    .replace(/^user\.(?=vector|history|features)/, '');
  return `${base}.${a}`;
}

/**
 * A library error thrown by a request, as the response to give: argument errors are 400s naming
 * the field, an unknown user (fallback "error") or item is a 404, anything else a 500.
 */
export function fromLibraryError(err: unknown, base = 'body'): ServiceHttpError {
  if (err instanceof ServiceHttpError) return err;
  const e = err as { code?: string; argument?: string; message?: string };
  const message = e?.message ?? String(err);
  if (
    typeof e?.argument === 'string' &&
    (e.code === 'ERR_INVALID_ARG_TYPE' || e.code === 'ERR_OUT_OF_RANGE' || e.code === 'ERR_INVALID_ARG_VALUE')
  ) {
    const field = fieldOfArgument(e.argument, base);
    // For a string user, the only out-of-range case is an id the model does not know (fallback "error");
    // for similarItems, an item id the model does not know.
    if (e.code === 'ERR_OUT_OF_RANGE' && e.argument === 'user')
      return new ServiceHttpError(404, 'ERR_UNKNOWN_USER', message.replace(/ for user /, ` for ${field} `), field);
    if (e.code === 'ERR_OUT_OF_RANGE' && e.argument === 'item')
      return new ServiceHttpError(404, 'ERR_UNKNOWN_ITEM', message.replace(/ for item /, ` for ${field} `), field);
    return new ServiceHttpError(400, 'ERR_INVALID_ARG', message.replace(` for ${e.argument} `, ` for ${field} `), field);
  }
  return new ServiceHttpError(500, 'ERR_INTERNAL', `${e?.code ? `[${e.code}] ` : ''}${message}`);
}

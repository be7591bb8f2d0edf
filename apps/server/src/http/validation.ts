import Ajv, { type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { KeysmithError } from '@keysmith/core';

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({
    // Never drop unknown fields silently: schemas say additionalProperties: false and that is a 400.
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    ...options,
  });
  addFormats(ajv);
  return ajv;
}

/** How deep a request's JSON may nest; deeper is a 400, never a stack overflow (a 500). */
export const MAX_DEPTH = 64;

/**
 * The path of the first string (or key) holding a NUL character, or null. Throws a 400 for a
 * value nested deeper than MAX_DEPTH (64 KiB of `[` would otherwise overflow the stack).
 */
export function findNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_DEPTH) {
    throw new KeysmithError('VALIDATION_FAILED', `body: is nested more than ${MAX_DEPTH} levels deep`, {
      details: [{ path: 'body', message: `is nested more than ${MAX_DEPTH} levels deep` }],
    });
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      if (findNul(value[i], '', depth + 1) !== null) return findNul(value[i], path ? `${path}.${i}` : String(i), depth + 1);
    }
    return null;
  }
  // Paths are only built for what holds a NUL: the common case allocates nothing.
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (key.includes('\u0000') || findNul(record[key], '', depth + 1) !== null) {
      const at = path ? `${path}.${key}` : key;
      return key.includes('\u0000') ? at : findNul(record[key], at, depth + 1);
    }
  }
  return null;
}

/** The 400 for a NUL character at `path` of a request's `part` (PostgreSQL cannot store NUL in text). */
export function nulError(path: string, part: string): KeysmithError {
  const where = path || part;
  return new KeysmithError('VALIDATION_FAILED', `${where}: must not contain NUL characters`, { details: [{ path: where, message: 'must not contain NUL characters' }] });
}

/** Compiles a body schema with the rules every route's body is checked by. */
export type BodyValidatorCompiler = (schema: object) => ValidateFunction;

/**
 * Bodies are validated exactly (a "1" is not a number); query strings and path parameters
 * arrive as text, so only they are coerced. Returns the body compiler, for code that checks a
 * body outside Fastify's pipeline (the verification fast path) by the same rules.
 */
export function installValidation(app: FastifyInstance): BodyValidatorCompiler {
  const strict = createAjv({ coerceTypes: false });
  const coercing = createAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  // PostgreSQL cannot store NUL in text, and no field of ours needs it: refuse it everywhere, up front.
  app.addHook('preValidation', (request, _reply, done) => {
    // Only a body can nest deep enough to throw (query strings and paths are flat).
    let body: string | null;
    try {
      body = findNul(request.body, '');
    } catch (error) {
      return done(error as Error);
    }
    if (body !== null) return done(nulError(body, 'body'));
    const query = findNul(request.query, '');
    if (query !== null) return done(nulError(query, 'query'));
    const params = findNul(request.params, '');
    if (params !== null) return done(nulError(params, 'params'));
    done();
  });
  // A route that declares no query parameters takes none: `?anything=1` is a 400, never silently ignored.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/') || !route.schema || route.schema.hide || route.schema.querystring) return;
    route.schema = { ...route.schema, querystring: { type: 'object', properties: {}, additionalProperties: false } };
  });
  return (schema) => strict.compile(schema);
}

import Ajv, { type Options } from 'ajv';
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

/** The path of the first string (or key) holding a NUL character, or null. */
function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      if (findNul(value[i], '') !== null) return findNul(value[i], path ? `${path}.${i}` : String(i));
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    // Paths are only built for what holds a NUL: the common case allocates nothing.
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (key.includes('\u0000') || findNul(record[key], '') !== null) {
        const at = path ? `${path}.${key}` : key;
        return key.includes('\u0000') ? at : findNul(record[key], at);
      }
    }
  }
  return null;
}

/**
 * Bodies are validated exactly (a "1" is not a number); query strings and path parameters
 * arrive as text, so only they are coerced.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = createAjv({ coerceTypes: false });
  const coercing = createAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  // PostgreSQL cannot store NUL in text, and no field of ours needs it: refuse it everywhere, up front.
  const refuse = (path: string, part: string) => {
    const where = path || part;
    return new KeysmithError('VALIDATION_FAILED', `${where}: must not contain NUL characters`, { details: [{ path: where, message: 'must not contain NUL characters' }] });
  };
  app.addHook('preValidation', (request, _reply, done) => {
    const body = findNul(request.body, '');
    if (body !== null) return done(refuse(body, 'body'));
    const query = findNul(request.query, '');
    if (query !== null) return done(refuse(query, 'query'));
    const params = findNul(request.params, '');
    if (params !== null) return done(refuse(params, 'params'));
    done();
  });
  // A route that declares no query parameters takes none: `?anything=1` is a 400, never silently ignored.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/') || !route.schema || route.schema.hide || route.schema.querystring) return;
    route.schema = { ...route.schema, querystring: { type: 'object', properties: {}, additionalProperties: false } };
  });
}

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
      const found = findNul(value[i], path ? `${path}.${i}` : String(i));
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return at;
      const found = findNul(item, at);
      if (found !== null) return found;
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
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
      const path = findNul(value, '');
      if (path !== null) {
        const where = path || part;
        return done(new KeysmithError('VALIDATION_FAILED', `${where}: must not contain NUL characters`, { details: [{ path: where, message: 'must not contain NUL characters' }] }));
      }
    }
    done();
  });
  // A route that declares no query parameters takes none: `?anything=1` is a 400, never silently ignored.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/v1/') || !route.schema || route.schema.hide || route.schema.querystring) return;
    route.schema = { ...route.schema, querystring: { type: 'object', properties: {}, additionalProperties: false } };
  });
}

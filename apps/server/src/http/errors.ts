import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KeysmithError, type ErrorCode, type ErrorDetail } from '@keysmith/core';

/** The one table from error code to HTTP status; a new code without a status does not compile. */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
  CREDENTIAL_UNAVAILABLE: 503,
};

/** The contract's error body, repeating the request's id. */
export function errorPayload(requestId: string, code: ErrorCode, message: string, details?: ErrorDetail[]) {
  return { error: { code, message, ...(details ? { details } : {}), requestId } };
}

export function errorBody(request: FastifyRequest, code: ErrorCode, message: string, details?: ErrorDetail[]) {
  return errorPayload(String(request.id), code, message, details);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: KeysmithError) {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.status(STATUS_OF[error.code]).send(errorBody(request, error.code, error.message, error.details));
}

export interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/credits/limit` → `credits.limit`. */
function toPath(pointer: string): string {
  return pointer.replace(/^\//, '').split('/').join('.');
}

function detailsOf(errors: AjvError[], context: string | undefined): ErrorDetail[] {
  return errors.map((e) => {
    let path = toPath(e.instancePath);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      path = path ? `${path}.${e.params.additionalProperty}` : e.params.additionalProperty;
      message = 'is not an allowed field';
    } else if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      path = path ? `${path}.${e.params.missingProperty}` : e.params.missingProperty;
      message = 'is required';
    }
    return { path: path || (context ?? 'body'), message };
  });
}

/** The 400 for a body that failed its schema (Ajv's errors, first one in the message). */
export function schemaError(errors: AjvError[], context: string | undefined): KeysmithError {
  const details = detailsOf(errors, context);
  const first = details[0];
  return new KeysmithError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : 'invalid request', { details });
}

/** The 400 for a body that is not JSON (or is empty, or carries a prototype-poisoning key). */
export function invalidJsonError(): KeysmithError {
  return new KeysmithError('VALIDATION_FAILED', 'body: is not valid JSON', { details: [{ path: 'body', message: 'is not valid JSON' }] });
}

/** Maps a Fastify error (bad JSON, wrong content type, too large…) to a KeysmithError. */
function fromFastifyError(error: FastifyError): KeysmithError | undefined {
  if (error instanceof KeysmithError) return error;
  if (error.validation) return schemaError(error.validation as AjvError[], error.validationContext);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KeysmithError('PAYLOAD_TOO_LARGE', 'The request body is larger than 64 KiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KeysmithError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidJsonError();
  }
  const status = error.statusCode ?? 500;
  if (status === 404) return new KeysmithError('NOT_FOUND', 'Not found');
  if (status === 413) return new KeysmithError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (status === 415) return new KeysmithError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type');
  if (status === 400 && error instanceof SyntaxError) return invalidJsonError();
  if (status >= 400 && status < 500) return new KeysmithError('VALIDATION_FAILED', 'The request is not valid');
  return undefined;
}

export interface ErrorHandlingOptions {
  /** Answers page requests that match no route (the dashboard's client-side routes); true if it did. */
  spaFallback?: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

/** Installs the one error handler and the not-found handler; every error leaves in the contract's shape. */
export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions = {}): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = fromFastifyError(error);
    if (mapped) {
      if (STATUS_OF[mapped.code] >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(request, reply, mapped);
    }
    // Unexpected: log it, answer without internals.
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody(request, 'INTERNAL', 'Something went wrong on our side'));
  });
  app.setNotFoundHandler((request, reply) => {
    if (options.spaFallback?.(request, reply)) return reply;
    return sendError(request, reply, new KeysmithError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));
  });
}

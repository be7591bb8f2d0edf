import type { IncomingMessage, ServerResponse } from 'node:http';
import fastJson from 'fast-json-stringify';
import type { FastifyBaseLogger } from 'fastify';
import { parse as parseJson } from 'secure-json-parse';
import { KeysmithError, type VerifyRequest, type VerifyResult, type VerifyService } from '@keysmith/core';
import { errorPayload, invalidJsonError, schemaError, STATUS_OF, type AjvError } from './errors';
import { findNul, nulError, type BodyValidatorCompiler } from './validation';

export const VERIFY_PATH = '/api/v1/keys/verify';
/** The app's bodyLimit; a larger declared body goes to Fastify, which answers 413. */
const BODY_LIMIT = 64 * 1024;
/** Fastify's defaults for JSON bodies: a `__proto__` or `constructor.prototype` key is a 400. */
const JSON_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

export interface FastVerifyOptions {
  verifier: VerifyService;
  /** The service tokens from the environment (KEYSMITH_SERVICE_TOKENS), raw. */
  serviceTokens: readonly string[];
  /** The route's body schema and the compiler Fastify validates bodies with. */
  bodySchema: object;
  compileBody: BodyValidatorCompiler;
  /** The route's 200 schema; answers are serialized by it, as Fastify would. */
  responseSchema: object;
  /** The security headers of every JSON API answer. */
  securityHeaders: readonly (readonly [string, string])[];
  /** The app's request id generator (ids stay unique across both paths). */
  nextRequestId: () => string;
  log: FastifyBaseLogger;
  /** True once the app is closing: Fastify then answers everything (503, Connection: close). */
  closing: () => boolean;
}

/** Answers the request and returns true, or returns false (untouched) for Fastify to handle. */
export type FastVerify = (req: IncomingMessage, res: ServerResponse) => boolean;

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true;
  const lower = contentType.toLowerCase();
  return lower === 'application/json' || lower === 'application/json; charset=utf-8';
}

/**
 * The verification route without the framework: every verification pays for Fastify's routing,
 * request and reply objects, hook chain, per-request child logger and response listeners, which
 * together cost more than verifying a cached key. This serves the common request — POST to the
 * exact path, a JSON body within the limit, an environment service token — straight from Node's
 * request event, checking the body by the route's own schema, serializer and error shapes.
 * Anything else (another token, another content type, a query string, a stop in progress) is
 * left to the Fastify route, which stays the reference and answers identically.
 */
export function createFastVerify(options: FastVerifyOptions): FastVerify {
  const { verifier, log, nextRequestId, closing } = options;
  // Whole header values: a Set lookup, no parsing, no SHA-256 of the token per request. The Set
  // hashes the whole presented value before it compares any characters, so its timing tells
  // nothing about how much of a token was right.
  const authorizations = new Set(options.serviceTokens.map((token) => `Bearer ${token}`));
  const validate = options.compileBody(options.bodySchema);
  const serialize = fastJson(options.responseSchema) as (result: VerifyResult) => string;
  // One header list, reused: writeHead copies it into the response before returning.
  const headers: string[] = ['content-type', 'application/json; charset=utf-8', 'content-length', '', 'x-request-id', ''];
  for (const [name, value] of options.securityHeaders) headers.push(name, value);

  function send(res: ServerResponse, status: number, body: string, requestId: string, retryAfterSeconds?: number): void {
    headers[3] = String(Buffer.byteLength(body));
    headers[5] = requestId;
    // During a stop, the connection closes after this answer (Connection: close) instead of
    // keeping the stop waiting for the client's keep-alive to time out.
    if (closing()) res.shouldKeepAlive = false;
    res.writeHead(status, retryAfterSeconds === undefined ? headers : [...headers, 'retry-after', String(retryAfterSeconds)]);
    res.end(body);
    // One line per verification only when asked for (LOG_LEVEL=debug): at thousands a second,
    // Fastify's two info lines per request would cost more than the verification itself.
    if (log.level === 'debug' || log.level === 'trace') log.debug({ reqId: requestId, req: { method: 'POST', url: VERIFY_PATH }, res: { statusCode: status } }, 'verification answered');
  }

  function fail(res: ServerResponse, requestId: string, error: unknown): void {
    if (res.headersSent) return;
    if (error instanceof KeysmithError) {
      const status = STATUS_OF[error.code];
      if (status >= 500) log.error({ err: error, reqId: requestId, req: { method: 'POST', url: VERIFY_PATH } }, 'request failed');
      send(res, status, JSON.stringify(errorPayload(requestId, error.code, error.message, error.details)), requestId, error.retryAfterSeconds);
      return;
    }
    log.error({ err: error, reqId: requestId, req: { method: 'POST', url: VERIFY_PATH } }, 'unhandled error');
    send(res, 500, JSON.stringify(errorPayload(requestId, 'INTERNAL', 'Something went wrong on our side')), requestId);
  }

  function answer(res: ServerResponse, requestId: string, text: string): void {
    let body: unknown;
    try {
      // An empty body throws too, as the route's "empty JSON body" does.
      body = parseJson(text, undefined, JSON_OPTIONS);
    } catch {
      return fail(res, requestId, invalidJsonError());
    }
    // The same order as the route: NUL characters (preValidation), then the schema.
    const nul = findNul(body, '');
    if (nul !== null) return fail(res, requestId, nulError(nul, 'body'));
    if (!validate(body)) return fail(res, requestId, schemaError((validate.errors ?? []) as AjvError[], 'body'));
    const result = verifier.verify(body as VerifyRequest);
    if (!(result instanceof Promise)) return send(res, 200, serialize(result), requestId);
    result.then(
      (value) => {
        // Runs in a promise callback: anything thrown here must still answer (500), never escape.
        try {
          send(res, 200, serialize(value), requestId);
        } catch (error) {
          fail(res, requestId, error);
        }
      },
      (error: unknown) => fail(res, requestId, error),
    );
  }

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== VERIFY_PATH || closing()) return false;
    const { authorization, 'content-type': contentType, 'content-length': contentLength } = req.headers;
    if (authorization === undefined || !authorizations.has(authorization) || !isJson(contentType)) return false;
    // A declared length within the limit (so never chunked, never more than the limit).
    const length = contentLength === undefined ? Number.NaN : Number(contentLength);
    if (!(length <= BODY_LIMIT) || req.headers['transfer-encoding'] !== undefined) return false;
    const requestId = nextRequestId();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      // An event callback: an unexpected error answers 500 here rather than crash the process.
      try {
        answer(res, requestId, (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8'));
      } catch (error) {
        fail(res, requestId, error);
      }
    });
    return true;
  };
}

import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** The headers of every JSON API answer, as [name, value] pairs (also sent by the verification fast path). */
export function apiSecurityHeaders(options: { hsts: boolean }): [string, string][] {
  return Object.entries({
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    ...(options.hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  });
}

/**
 * Security headers, computed once. Pages (dashboard, /docs) get helmet's full set; JSON API
 * answers get the short set OWASP's REST cheat sheet recommends (a CSP that allows nothing),
 * which also keeps the verification path light.
 */
export function installSecurityHeaders(app: FastifyInstance, options: { hsts: boolean }): void {
  const pageHeaders = helmet({
    strictTransportSecurity: options.hsts,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  const apiHeaderList = apiSecurityHeaders(options);
  app.addHook('onRequest', (request, reply, done) => {
    // Straight onto the response: Node checks each header once, without Fastify's per-call
    // lower-casing and copying (these run for every verification).
    const res = reply.raw;
    res.setHeader('x-request-id', request.id);
    if (request.url.startsWith('/api/')) {
      for (const [name, value] of apiHeaderList) res.setHeader(name, value);
      done();
    } else {
      pageHeaders(request.raw, reply.raw, (error?: unknown) => done(error instanceof Error ? error : undefined));
    }
  });
}

import { existsSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  KeysmithError,
  createAuditLogService,
  createKeyCache,
  createKnownHashes,
  createCreditLeases,
  createUsageBuffer,
  createProviderKeyService,
  createWebhookDelivery,
  createWebhookService,
  createAlertService,
  type WebhookTransport,
  createAuthService,
  createKeyService,
  createMemoryRateLimiter,
  createServiceTokenService,
  createTeamService,
  createVerifyService,
  type Clock,
  type PasswordHasher,
  type Random,
  type RateLimiter,
  type CacheEvent,
  type CacheEventSource,
  type KeyEventType,
  type Repositories,
  type Store,
  type Vault,
} from '@keysmith/core';
import { isPoolExhausted } from '@keysmith/db';
import type { Config } from './config';
import { createRequestAuth } from './http/auth';
import { installErrorHandling, sendError } from './http/errors';
import { ErrorSchema } from './http/schemas';
import { createFastVerify } from './http/fast-verify';
import { apiSecurityHeaders, installSecurityHeaders } from './http/security-headers';
import { installValidation } from './http/validation';
import { auditRoutes } from './routes/audit.routes';
import { authRoutes } from './routes/auth.routes';
import { keyRoutes } from './routes/keys.routes';
import { opsRoutes } from './routes/ops.routes';
import { providerKeyRoutes } from './routes/provider-keys.routes';
import { webhookRoutes } from './routes/webhooks.routes';
import { createHttpWebhookTransport } from './webhook-transport';
import { startWebhookWorker } from './webhook-worker';
import { alertRoutes } from './routes/alerts.routes';
import { startAlertsWorker } from './alerts-worker';
import { teamRoutes } from './routes/teams.routes';
import { VerifyBody, VerifyResponse, verifyRoutes } from './routes/verify.routes';

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  rateLimiter?: RateLimiter;
  /** Tells this instance of other instances' key changes (PostgreSQL); none on a single instance. */
  cacheEvents?: CacheEventSource | null;
  /** Seals provider credentials; null fails those endpoints closed (503). */
  vault?: Vault | null;
  /** The dashboard's production build to serve at `/`, if any. */
  dashboardDir?: string | null;
  /** Fastify's logger option: pino options, or false. */
  logger?: FastifyServerOptions['logger'];
  /** How webhook deliveries are sent; node:http/https with guarded DNS by default. */
  webhookTransport?: WebhookTransport;
}

/** Paths pino must never print: credentials travel in these. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'body.key',
  'body.password',
  'rawKey',
  'password',
  'token',
  'secret',
];

/**
 * The store, reporting failed verification queries so the instance knows the database is down.
 * A query that only found the pool busy is not reported: load must shed requests, not mark an outage.
 */
function observeFailures(store: Store, onFailure: () => void): Store {
  const findByHash = store.keys.findByHash.bind(store.keys);
  return {
    ...store,
    keys: {
      ...store.keys,
      findByHash: (hash) =>
        findByHash(hash).catch((error: unknown) => {
          if (!isPoolExhausted(error)) onFailure();
          throw error;
        }),
    },
  };
}

/** Builds the whole HTTP app from its dependencies; wires every service in one place. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store, clock, random, hasher } = deps;
  const requestIdPrefix = `req_${Buffer.from(random.bytes(8)).toString('hex')}`;
  let requestCounter = 0;
  // A random prefix per process and a counter: unique, and no CSPRNG call per request.
  const nextRequestId = () => `${requestIdPrefix}${(requestCounter += 1).toString(36)}`;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 64 * 1024,
    genReqId: nextRequestId,
    requestIdHeader: false,
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors Fastify meets before routing (a badly encoded or over-long path) leave in our shape too.
    frameworkErrors: (error, request, reply) => {
      void reply.header('x-request-id', request.id);
      return sendError(request, reply, new KeysmithError('VALIDATION_FAILED', error.code === 'FST_ERR_BAD_URL' ? 'The request path is not valid' : 'The request path is too long'));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The verification hot path: key records cached by hash, uses counted in memory and written in batches.
  const cache = createKeyCache({ clock, maxEntries: config.cacheSize, negativeTtlMs: config.negativeCacheMs, maxNegative: 100_000 });
  // Batches are written through the alert service, which runs the usage rules once each is written (never in verify).
  const usage = createUsageBuffer({ write: (batch) => alerts.writeUsage(batch) });
  // Every existing secret hash in a Bloom filter, so floods of unknown keys need no lookup.
  const knownHashes = createKnownHashes({ count: () => store.keys.countHashes(), scan: (add) => store.keys.scanHashes(add) });
  // Blocks of credits leased to this instance and spent in memory; this instance's id is on its leases.
  const creditLeases = createCreditLeases({ store: store.creditLeases, clock, random, instanceId: `ins_${Buffer.from(random.bytes(8)).toString('hex')}` });
  const releaseCredits = (subject: { kind: 'key' | 'team'; id: string }) =>
    creditLeases.invalidate(subject).catch((error: unknown) => app.log.warn({ err: error }, 'could not give back leased credits; will retry'));
  const invalidate = (event: CacheEvent) => {
    // A change of the key or its team's balance also ends spending from their blocks at once.
    if (event.type === 'key') {
      cache.invalidateKey(event.id);
      void releaseCredits({ kind: 'key', id: event.id });
    } else if (event.type === 'team') {
      cache.invalidateTeam(event.id);
      void releaseCredits({ kind: 'team', id: event.id });
    } else {
      knownHashes.add(event.hash);
      cache.invalidateHash(event.hash);
    }
  };
  const rebuildKnownHashes = () =>
    knownHashes.rebuild().catch((error: unknown) => app.log.warn({ err: error }, 'could not load key hashes; unknown keys are looked up until it works'));

  // Signed webhooks: deliveries are stored, then sent by the worker (started below); never unsigned.
  const webhookDelivery = createWebhookDelivery({
    store,
    clock,
    random,
    vault: deps.vault ?? null,
    transport: deps.webhookTransport ?? createHttpWebhookTransport(),
    timeoutMs: config.webhookTimeoutMs,
    onError: (error, what) => app.log.warn({ err: error }, `${what} failed; will retry`),
  });
  const webhooks = createWebhookService({ store, clock, random, vault: deps.vault ?? null, delivery: webhookDelivery });
  // Key events are stored in the key change's own transaction (an outbox): no change commits without them.
  const keyEvents = { emit: (tx: Repositories, teamId: string, type: KeyEventType, data: Record<string, unknown>) => webhooks.emit(teamId, type, data, tx) };
  // Usage monitoring: rules run after each usage flush and in a periodic sweep; every alert also goes to the webhooks.
  const alerts = createAlertService({
    store,
    clock,
    random,
    webhooks,
    onError: (error, what) => app.log.warn({ err: error }, `alerts: ${what} failed`),
    beforeRead: () => usage.flush(),
  });
  const auth = createAuthService({ store, clock, random, hasher });
  const teams = createTeamService({ store, clock, random, invalidate });
  const keys = createKeyService({ store, clock, random, keyPrefix: config.keyPrefix, scopeCatalog: config.scopes, invalidate, beforeRead: () => Promise.all([usage.flush(), creditLeases.report()]).then(() => {}), events: keyEvents });
  const auditLog = createAuditLogService({ store });
  const serviceTokens = createServiceTokenService({ store, clock, random, envTokens: config.serviceTokens });
  const providerKeys = createProviderKeyService({ store, clock, random, vault: deps.vault ?? null });
  // The database's health as this instance sees it: checked every second, and at once on a failed query.
  let downSince: number | null = null;
  const markDown = () => {
    downSince ??= clock.now();
  };
  const health = { since: () => downSince };
  // Whether other instances' news cannot reach this one (the invalidation channel below is down).
  let channelDown = false;
  const checkHealth = async () => {
    if (await store.ping()) {
      downSince = null;
      // Records kept for an outage's grace must go once the database answers but the channel does not.
      if (channelDown) cache.setEnabled(false);
    } else markDown();
  };
  const verifier = createVerifyService({
    store: observeFailures(store, markDown),
    clock,
    rateLimiter: deps.rateLimiter ?? createMemoryRateLimiter(),
    cache,
    usage,
    health,
    outageGraceMs: config.outageGraceMs,
    knownHashes,
    creditLeases,
  });
  const requestAuth = createRequestAuth({ store, auth, serviceTokens, trustedOrigins: config.trustedOrigins, secureCookies: config.secureCookies });

  const compileBody = installValidation(app);
  const dashboard = deps.dashboardDir && existsSync(join(deps.dashboardDir, 'index.html')) ? deps.dashboardDir : null;
  installErrorHandling(app, {
    spaFallback: (request, reply) => {
      // Client-side routes of the dashboard get its index page; API paths keep their JSON 404.
      const path = request.url.split('?')[0] ?? '';
      if (!dashboard || (request.method !== 'GET' && request.method !== 'HEAD') || path.startsWith('/api/') || path.startsWith('/docs')) return false;
      if (!(request.headers.accept ?? '').includes('text/html')) return false;
      void reply.header('cache-control', 'no-cache').sendFile('index.html', dashboard);
      return true;
    },
  });
  // Only JSON bodies are accepted; anything else is 415.
  app.removeContentTypeParser('text/plain');
  // HSTS only makes sense behind TLS; the embedded default serves plain HTTP on loopback.
  installSecurityHeaders(app, { hsts: config.secureCookies });


  app.addSchema(ErrorSchema);
  // Every route documents the contract's error shape for its 4xx and 5xx answers.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.url.startsWith('/docs')) return;
    const response = (route.schema.response ?? {}) as Record<string, unknown>;
    route.schema.response = { ...response, '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Keysmith API', version: '1.0.0', description: 'Self-hostable API key platform. See shared/API.md for the contract.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'keysmith_session' },
          serviceToken: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { serviceToken: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (dashboard) {
    await app.register(fastifyStatic, {
      root: dashboard,
      prefix: '/',
      wildcard: false,
      cacheControl: false,
      index: ['index.html'],
      // Hashed assets never change; the index page must always be revalidated.
      setHeaders: (res, filePath) => {
        res.setHeader('cache-control', filePath.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  // The routes people use from the dashboard: cookies are parsed and set, and the CSRF origin
  // check runs. Verification (service tokens only) stays outside this scope, so neither hook
  // runs on its hot path.
  await app.register(async (dashboardApi) => {
    await dashboardApi.register(cookie);
    requestAuth.installOriginCheck(dashboardApi);
    await dashboardApi.register(opsRoutes, { store, scopes: config.scopes, requestAuth });
    await dashboardApi.register(authRoutes, { auth, teams, requestAuth });
    await dashboardApi.register(teamRoutes, { teams, requestAuth });
    await dashboardApi.register(keyRoutes, { keys, requestAuth });
    await dashboardApi.register(auditRoutes, { auditLog, requestAuth });
    await dashboardApi.register(providerKeyRoutes, { providerKeys, requestAuth });
    await dashboardApi.register(webhookRoutes, { webhooks, requestAuth });
    await dashboardApi.register(alertRoutes, { alerts, requestAuth });
  });
  await app.register(verifyRoutes, { verifier, requestAuth });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const fastVerify = createFastVerify({
    verifier,
    serviceTokens: config.serviceTokens,
    bodySchema: VerifyBody,
    compileBody,
    responseSchema: VerifyResponse,
    securityHeaders: apiSecurityHeaders({ hsts: config.secureCookies }),
    nextRequestId,
    log: app.log,
    closing: () => closing,
  });
  // The fast path goes in front of Fastify's router on Fastify's own server (its options and its
  // binding of every address of HOST kept). Servers Fastify adds for further addresses of HOST
  // (e.g. ::1 for localhost) and app.inject() reach the Fastify route, which answers the same.
  const [routing] = app.server.listeners('request') as RequestListener[];
  if (routing) {
    app.server.removeListener('request', routing);
    app.server.on('request', (req, res) => {
      if (!fastVerify(req, res)) routing(req, res);
    });
  }

  const healthTimer = setInterval(() => void checkHealth(), 1000);
  healthTimer.unref();
  // Counts are written every usageFlushMs and once more when the app closes (graceful stop).
  const flushTimer = setInterval(() => {
    usage.flush().catch((error: unknown) => app.log.warn({ err: error }, 'usage flush failed; will retry'));
    creditLeases.report().catch((error: unknown) => app.log.warn({ err: error }, 'could not report spent credits; will retry'));
  }, config.usageFlushMs);
  flushTimer.unref();
  // Idle blocks and those near expiry go back every second; expired leases of crashed instances are swept.
  const leaseTimer = setInterval(() => {
    creditLeases.tick().catch((error: unknown) => app.log.warn({ err: error }, 'credit lease upkeep failed; will retry'));
  }, 1000);
  leaseTimer.unref();
  // Due webhook deliveries are sent every webhookIntervalMs; stopped (in-flight attempts recorded) on close.
  startWebhookWorker(app, webhookDelivery, config.webhookIntervalMs);
  // The expiring_soon and unused sweep, every 10 minutes; on close, the rules of the last flush run before the database closes.
  startAlertsWorker(app, alerts, { flush: () => usage.flush() });
  // With other instances about, a cached record is only trusted while their news can reach us.
  let stopListening: (() => Promise<void>) | null = null;
  if (deps.cacheEvents) {
    cache.setEnabled(false);
    // A block must not outlive a change this instance did not hear of: no leasing while deaf.
    creditLeases.setEnabled(false);
    let listening = false;
    stopListening = await deps.cacheEvents.start(invalidate, (healthy) => {
      listening = healthy;
      creditLeases.setEnabled(healthy);
      channelDown = !healthy;
      if (!healthy) {
        app.log.warn('cache invalidation channel lost: caching off until it is back');
        // New keys made elsewhere may be missed meanwhile: the filter must be rebuilt before use.
        knownHashes.distrust();
      } else if (stopListening) void rebuildKnownHashes();
      // Back: forget whatever changed unheard meanwhile. Lost: caching off, except that an outage grace
      // keeps the records while the database is down too (checkHealth tells which, at once).
      if (healthy) cache.clear();
      if (healthy || config.outageGraceMs === 0) cache.setEnabled(healthy);
      else void checkHealth();
    });
    if (listening) await rebuildKnownHashes();
  } else {
    await rebuildKnownHashes();
  }
  app.addHook('onClose', async () => {
    clearInterval(flushTimer);
    clearInterval(leaseTimer);
    clearInterval(healthTimer);
    await stopListening?.();
    // A stop while the database is down cannot write the last counts; say so rather than fail the stop.
    await usage.flush().catch((error: unknown) => app.log.error({ err: error, pending: usage.pending }, 'could not write the last usage counts'));
    // Unspent leased credits go back before the database closes; if that fails they stay out until the lease expires (forfeit).
    await creditLeases.close().catch((error: unknown) => app.log.error({ err: error }, 'could not give back leased credits'));
  });

  return app;
}

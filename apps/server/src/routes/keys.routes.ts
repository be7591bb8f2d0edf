import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MAX_GRACE_SECONDS, type KeyService, type KeySort, type KeyStatus } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { IdParam, Nullable, PageOf, PageQuery, StrictObject, StringEnum, Timestamp, toMillis } from '../http/schemas';

const RefillSchema = StrictObject({ amount: Type.Integer({ minimum: 0, maximum: 1e12 }), interval: StringEnum(['day', 'month'] as const) });
const CreditsInput = StrictObject({
  limit: Type.Integer({ minimum: 0, maximum: 1e12 }),
  remaining: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
  refill: Type.Optional(Nullable(RefillSchema)),
});
const RateLimitSchema = StrictObject({ limit: Type.Integer({ minimum: 1, maximum: 1e9 }), windowSeconds: Type.Integer({ minimum: 1, maximum: 86400 }) });
// PostgreSQL text cannot hold NUL: refuse it here (400) rather than fail in SQL (500).
const NO_NUL = '^[^\\u0000]*$';
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL });
const Description = Type.String({ maxLength: 500, pattern: NO_NUL });
const Scopes = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 });
const Metadata = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true });

export const KeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    prefix: Type.String(),
    environment: StringEnum(['live', 'test'] as const),
    status: StringEnum<KeyStatus>(['active', 'inactive', 'expired', 'revoked']),
    scopes: Type.Array(Type.String()),
    createdAt: Timestamp,
    createdBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    expiresAt: Nullable(Timestamp),
    lastUsedAt: Nullable(Timestamp),
    revokedAt: Nullable(Timestamp),
    usageCount: Type.Integer(),
    credits: Nullable(Type.Object({ limit: Type.Integer(), remaining: Type.Integer(), refill: Nullable(Type.Object({ amount: Type.Integer(), interval: Type.String() })) })),
    rateLimit: Nullable(Type.Object({ limit: Type.Integer(), windowSeconds: Type.Integer() })),
    metadata: Metadata,
  },
  { description: 'An API key; never carries the raw key or its hash.' },
);

const UsagePoint = Type.Object({ t: Timestamp, valid: Type.Integer(), rejected: Type.Integer(), creditsUsed: Type.Integer() });
const UsageQuery = StrictObject({
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  interval: Type.Optional(StringEnum(['hour', 'day'] as const)),
});
const KeyId = IdParam('key');

export interface KeyRoutesOptions {
  keys: KeyService;
  requestAuth: RequestAuth;
}

export const keyRoutes: FastifyPluginAsyncTypebox<KeyRoutesOptions> = async (app, { keys, requestAuth }) => {
  app.get(
    '/api/v1/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'List keys, paginated, searchable, sortable',
        querystring: StrictObject({
          ...PageQuery,
          q: Type.Optional(Type.String({ maxLength: 200, pattern: NO_NUL })),
          status: Type.Optional(StringEnum<KeyStatus>(['active', 'inactive', 'expired', 'revoked'])),
          sort: Type.Optional(StringEnum<KeySort>(['createdAt', '-createdAt', 'name', '-name', 'lastUsedAt', '-lastUsedAt'])),
        }),
        response: { 200: PageOf(KeySchema) },
      },
    },
    async (request) => keys.list(await requestAuth.teamAccess(request), request.query),
  );

  app.post(
    '/api/v1/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Create a key; the raw key is in this response only',
        body: StrictObject({
          name: Name,
          description: Type.Optional(Nullable(Description)),
          environment: Type.Optional(StringEnum(['live', 'test'] as const)),
          expiresAt: Type.Optional(Nullable(Timestamp)),
          scopes: Type.Optional(Scopes),
          credits: Type.Optional(Nullable(CreditsInput)),
          rateLimit: Type.Optional(Nullable(RateLimitSchema)),
          metadata: Type.Optional(Metadata),
        }),
        response: { 201: Type.Object({ data: KeySchema, rawKey: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { expiresAt, ...rest } = request.body;
      const result = await keys.create(await requestAuth.teamAccess(request), { ...rest, expiresAt: toMillis(expiresAt) });
      return reply.status(201).header('cache-control', 'no-store').send({ data: result.key, rawKey: result.rawKey });
    },
  );

  app.get(
    '/api/v1/keys/:id',
    { schema: { tags: ['keys'], summary: 'One key', params: KeyId, response: { 200: Type.Object({ data: KeySchema }) } } },
    async (request) => ({ data: await keys.get(await requestAuth.teamAccess(request), request.params.id) }),
  );

  app.patch(
    '/api/v1/keys/:id',
    {
      schema: {
        tags: ['keys'],
        summary: 'Change a key; enabled:false disables it (reversible)',
        params: KeyId,
        body: StrictObject({
          name: Type.Optional(Name),
          description: Type.Optional(Nullable(Description)),
          enabled: Type.Optional(Type.Boolean()),
          expiresAt: Type.Optional(Nullable(Timestamp)),
          scopes: Type.Optional(Scopes),
          credits: Type.Optional(Nullable(CreditsInput)),
          rateLimit: Type.Optional(Nullable(RateLimitSchema)),
          metadata: Type.Optional(Metadata),
        }),
        response: { 200: Type.Object({ data: KeySchema }) },
      },
    },
    async (request) => {
      const { expiresAt, ...rest } = request.body;
      return { data: await keys.update(await requestAuth.teamAccess(request), request.params.id, { ...rest, expiresAt: toMillis(expiresAt) }) };
    },
  );

  app.post(
    '/api/v1/keys/:id/regenerate',
    {
      schema: {
        tags: ['keys'],
        summary: 'Issue a new secret; the old one stops at once or after a grace period',
        params: KeyId,
        body: StrictObject({ expireOldAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GRACE_SECONDS })) }),
        response: { 200: Type.Object({ data: KeySchema, rawKey: Type.String() }) },
      },
      // Every field is optional, so a request without a body is an empty one (a JSON schema
      // cannot make the body itself optional: Fastify would validate `undefined` as "must be object").
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const result = await keys.regenerate(await requestAuth.teamAccess(request), request.params.id, request.body);
      return reply.header('cache-control', 'no-store').send({ data: result.key, rawKey: result.rawKey });
    },
  );

  app.delete(
    '/api/v1/keys/:id',
    {
      schema: {
        tags: ['keys'],
        summary: 'Revoke a key (final), or with purge=true remove its record',
        params: KeyId,
        querystring: StrictObject({ purge: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.Object({ data: KeySchema }), 204: Type.Null({ description: 'Purged' }) },
      },
    },
    async (request, reply) => {
      const access = await requestAuth.teamAccess(request);
      if (request.query.purge) {
        await keys.purge(access, request.params.id);
        return reply.status(204).send(null);
      }
      return { data: await keys.revoke(access, request.params.id) };
    },
  );

  app.get(
    '/api/v1/keys/:id/usage',
    {
      schema: {
        tags: ['keys', 'usage'],
        summary: 'Usage series of one key',
        params: KeyId,
        querystring: UsageQuery,
        response: { 200: Type.Object({ data: Type.Array(UsagePoint) }) },
      },
    },
    async (request) => {
      const q = request.query;
      return {
        data: await keys.usage(await requestAuth.teamAccess(request), request.params.id, {
          from: toMillis(q.from) ?? undefined,
          to: toMillis(q.to) ?? undefined,
          interval: q.interval,
        }),
      };
    },
  );

  app.get(
    '/api/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage of the whole team: totals, per key, series',
        querystring: UsageQuery,
        response: {
          200: Type.Object({
            totals: Type.Object({ valid: Type.Integer(), rejected: Type.Integer(), creditsUsed: Type.Integer() }),
            byKey: Type.Array(
              Type.Object({ keyId: Type.String(), name: Nullable(Type.String()), valid: Type.Integer(), rejected: Type.Integer(), creditsUsed: Type.Integer() }),
            ),
            series: Type.Array(UsagePoint),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return keys.teamUsage(await requestAuth.teamAccess(request), {
        from: toMillis(q.from) ?? undefined,
        to: toMillis(q.to) ?? undefined,
        interval: q.interval,
      });
    },
  );
};

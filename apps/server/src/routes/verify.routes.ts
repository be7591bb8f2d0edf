import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { KeysmithError, type VerifyService } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { Nullable, StrictObject, StringEnum, Timestamp } from '../http/schemas';

const VERIFY_CODES = ['VALID', 'MALFORMED', 'NOT_FOUND', 'INACTIVE', 'EXPIRED', 'REVOKED', 'INSUFFICIENT_SCOPES', 'USAGE_EXCEEDED', 'RATE_LIMITED'] as const;

export const VerifyResponse = Type.Object({
  valid: Type.Boolean(),
  code: StringEnum(VERIFY_CODES),
  keyId: Type.Optional(Type.String()),
  teamId: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String())),
  missingScopes: Type.Optional(Type.Array(Type.String())),
  metadata: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
  expiresAt: Type.Optional(Nullable(Timestamp)),
  credits: Type.Optional(Nullable(Type.Object({ remaining: Type.Integer() }))),
  rateLimit: Type.Optional(Nullable(Type.Object({ limit: Type.Integer(), remaining: Type.Integer(), resetAt: Timestamp }))),
});

export const VerifyBody = StrictObject({
  key: Type.String({ minLength: 1, maxLength: 512 }),
  scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
  cost: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  context: Type.Optional(
    StrictObject({
      ip: Type.Optional(Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })])),
      userAgent: Type.Optional(Type.String({ maxLength: 512 })),
    }),
  ),
});

export interface VerifyRoutesOptions {
  verifier: VerifyService;
  requestAuth: RequestAuth;
}

export const verifyRoutes: FastifyPluginAsyncTypebox<VerifyRoutesOptions> = async (app, { verifier, requestAuth }) => {
  app.post(
    '/api/v1/keys/verify',
    {
      schema: {
        tags: ['verification'],
        summary: 'Verify a key (service token required); always 200 for a well-formed request',
        body: VerifyBody,
        response: { 200: VerifyResponse },
      },
    },
    async (request) => {
      const principal = await requestAuth.principal(request);
      if (principal.type !== 'service') {
        throw new KeysmithError('UNAUTHENTICATED', 'Verification needs a service token');
      }
      return verifier.verify(request.body);
    },
  );
};

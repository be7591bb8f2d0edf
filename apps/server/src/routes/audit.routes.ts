import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { createAuditLogService } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { AuditActionSchema, Nullable, PageOf, PageQuery, StrictObject, Timestamp } from '../http/schemas';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  action: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.String(), label: Type.String() }),
  target: Type.Object({ type: Type.String(), id: Type.String(), label: Type.String() }),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  createdAt: Timestamp,
  details: Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }),
});

export interface AuditRoutesOptions {
  auditLog: ReturnType<typeof createAuditLogService>;
  requestAuth: RequestAuth;
}

export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { auditLog, requestAuth }) => {
  app.get(
    '/api/v1/audit-logs',
    {
      schema: {
        tags: ['audit'],
        summary: 'The team audit log, newest first',
        querystring: StrictObject({
          ...PageQuery,
          action: Type.Optional(AuditActionSchema),
          targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 200: PageOf(AuditEntrySchema) },
      },
    },
    async (request) => auditLog.list(await requestAuth.teamAccess(request), request.query),
  );
};

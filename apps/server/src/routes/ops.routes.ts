import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';

export interface OpsRoutesOptions {
  store: Store;
  scopes: readonly string[];
  requestAuth: RequestAuth;
}

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, { store, scopes, requestAuth }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'The database answers',
        response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) },
      },
    },
    async (_request, reply) => ((await store.ping()) ? { status: 'ready' } : reply.status(503).send({ status: 'database unavailable' })),
  );

  app.get(
    '/api/v1/scopes',
    {
      schema: {
        tags: ['keys'],
        summary: "The instance's scope catalog",
        response: { 200: Type.Object({ data: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })) }) },
      },
    },
    async (request) => {
      await requestAuth.principal(request);
      return { data: scopes.map((name) => ({ name, description: `Grants ${name} access` })) };
    },
  );
};

import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PROVIDER_KEY_TYPE_IDS, type ProviderKeyService, type ProviderKeySort, type ProviderKeyType } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { IdParam, Nullable, PageOf, PageQuery, StrictObject, StringEnum, Timestamp } from '../http/schemas';

const TypeSchema = StringEnum<ProviderKeyType>(PROVIDER_KEY_TYPE_IDS);
const Description = Type.String({ minLength: 1, maxLength: 200 });
const Key = Type.String({ minLength: 1, maxLength: 4096 });

const ProviderKeySchema = Type.Object(
  {
    id: Type.String(),
    type: TypeSchema,
    description: Type.String(),
    maskedKey: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    createdBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  },
  { description: 'A stored credential; the key itself only through reveal.' },
);
const PvkId = IdParam('pvk');

export interface ProviderKeyRoutesOptions {
  providerKeys: ProviderKeyService;
  requestAuth: RequestAuth;
}

export const providerKeyRoutes: FastifyPluginAsyncTypebox<ProviderKeyRoutesOptions> = async (app, { providerKeys, requestAuth }) => {
  app.get(
    '/api/v1/provider-keys/types',
    {
      schema: {
        tags: ['provider credentials'],
        summary: 'The kinds of credential a team can store',
        response: { 200: Type.Object({ data: Type.Array(Type.Object({ id: TypeSchema, label: Type.String(), category: Type.String() })) }) },
      },
    },
    async (request) => {
      await requestAuth.teamAccess(request);
      return { data: providerKeys.types() };
    },
  );

  app.get(
    '/api/v1/provider-keys',
    {
      schema: {
        tags: ['provider credentials'],
        summary: 'List credentials (masked), searchable by description',
        querystring: StrictObject({
          ...PageQuery,
          q: Type.Optional(Type.String({ maxLength: 200 })),
          type: Type.Optional(TypeSchema),
          sort: Type.Optional(StringEnum<ProviderKeySort>(['createdAt', '-createdAt', 'updatedAt', '-updatedAt', 'description', '-description', 'type', '-type'])),
        }),
        response: { 200: PageOf(ProviderKeySchema) },
      },
    },
    async (request) => providerKeys.list(await requestAuth.teamAccess(request), request.query),
  );

  app.post(
    '/api/v1/provider-keys',
    {
      schema: {
        tags: ['provider credentials'],
        summary: 'Store a credential, sealed under the master key',
        body: StrictObject({ type: TypeSchema, description: Description, key: Key }),
        response: { 201: Type.Object({ data: ProviderKeySchema }) },
      },
    },
    async (request, reply) => reply.status(201).send({ data: await providerKeys.create(await requestAuth.teamAccess(request), request.body) }),
  );

  app.get(
    '/api/v1/provider-keys/:id',
    { schema: { tags: ['provider credentials'], summary: 'One credential (masked)', params: PvkId, response: { 200: Type.Object({ data: ProviderKeySchema }) } } },
    async (request) => ({ data: await providerKeys.get(await requestAuth.teamAccess(request), request.params.id) }),
  );

  app.patch(
    '/api/v1/provider-keys/:id',
    {
      schema: {
        tags: ['provider credentials'],
        summary: 'Change type, description or the key itself',
        params: PvkId,
        body: StrictObject({ type: Type.Optional(TypeSchema), description: Type.Optional(Description), key: Type.Optional(Key) }),
        response: { 200: Type.Object({ data: ProviderKeySchema }) },
      },
    },
    async (request) => ({ data: await providerKeys.update(await requestAuth.teamAccess(request), request.params.id, request.body) }),
  );

  app.delete(
    '/api/v1/provider-keys/:id',
    { schema: { tags: ['provider credentials'], summary: 'Delete a credential', params: PvkId, response: { 204: Type.Null({ description: 'Deleted' }) } } },
    async (request, reply) => {
      await providerKeys.remove(await requestAuth.teamAccess(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/provider-keys/:id/reveal',
    {
      schema: {
        tags: ['provider credentials'],
        summary: 'The credential in clear (provider_keys.reveal); audited',
        params: PvkId,
        // Takes no fields: a body that names any is a 400, never silently ignored.
        body: StrictObject({}),
        response: { 200: Type.Object({ data: Type.Object({ key: Type.String() }) }) },
      },
      // No body at all is an empty one (Fastify would validate `undefined` as "must be object").
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const result = await providerKeys.reveal(await requestAuth.teamAccess(request), request.params.id);
      return reply.header('cache-control', 'no-store').send({ data: result });
    },
  );
};

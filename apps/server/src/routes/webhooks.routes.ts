import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MAX_WEBHOOK_URL_LENGTH, WEBHOOK_EVENT_TYPES, type WebhookEventType, type WebhookService } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { IdParam, Nullable, PageOf, PageQuery, StrictObject, StringEnum, Timestamp } from '../http/schemas';

// PostgreSQL text cannot hold NUL: refuse it here (400) rather than fail in SQL (500).
const Url = Type.String({ minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[^\\u0000]*$', description: 'http(s); no user info; not link-local or a cloud metadata address' });
const EventType = StringEnum<WebhookEventType>(WEBHOOK_EVENT_TYPES);
const Events = Type.Array(EventType, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length * 2 });

const WebhookSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(EventType),
    enabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    createdBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  },
  { description: 'A webhook; its signing secret is shown only in the answer that created it.' },
);

const AttemptSchema = Type.Object({
  at: Timestamp,
  status: Nullable(Type.Integer({ description: "The receiver's HTTP status; null when it did not answer" })),
  durationMs: Type.Integer(),
  error: Nullable(Type.String()),
});

const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    webhookId: Type.String(),
    eventId: Type.String(),
    type: Type.String(),
    status: StringEnum(['pending', 'delivered', 'failed'] as const),
    createdAt: Timestamp,
    deliveredAt: Nullable(Timestamp),
    nextAttemptAt: Nullable(Timestamp),
    attempts: Type.Array(AttemptSchema),
  },
  { description: 'One event sent to one webhook, with every attempt so far.' },
);

const WhkId = IdParam('whk');
const DeliveryParams = StrictObject({ id: WhkId.properties.id, deliveryId: Type.String({ pattern: '^whd_[0-9A-Za-z]{1,64}$' }) });
const Tags = ['webhooks'];

export interface WebhookRoutesOptions {
  webhooks: WebhookService;
  requestAuth: RequestAuth;
}

/** Every webhook endpoint needs members.manage (owners and admins). */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { webhooks, requestAuth }) => {
  app.get(
    '/api/v1/webhooks',
    { schema: { tags: Tags, summary: "List the team's webhooks", querystring: StrictObject({ ...PageQuery }), response: { 200: PageOf(WebhookSchema) } } },
    async (request) => webhooks.list(await requestAuth.teamAccess(request), request.query),
  );

  app.post(
    '/api/v1/webhooks',
    {
      schema: {
        tags: Tags,
        summary: 'Create a webhook; the answer holds its signing secret, shown this once',
        body: StrictObject({ url: Url, events: Events, enabled: Type.Optional(Type.Boolean()) }),
        response: { 201: Type.Object({ data: WebhookSchema, secret: Type.String({ description: 'whsec_…: signs every delivery; never shown again' }) }) },
      },
    },
    async (request, reply) => {
      const { webhook, secret } = await webhooks.create(await requestAuth.teamAccess(request), request.body);
      return reply.status(201).header('cache-control', 'no-store').send({ data: webhook, secret });
    },
  );

  app.get(
    '/api/v1/webhooks/:id',
    { schema: { tags: Tags, summary: 'One webhook', params: WhkId, response: { 200: Type.Object({ data: WebhookSchema }) } } },
    async (request) => ({ data: await webhooks.get(await requestAuth.teamAccess(request), request.params.id) }),
  );

  app.patch(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags: Tags,
        summary: 'Change the URL, the events or whether it is enabled',
        params: WhkId,
        body: StrictObject({ url: Type.Optional(Url), events: Type.Optional(Events), enabled: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.Object({ data: WebhookSchema }) },
      },
    },
    async (request) => ({ data: await webhooks.update(await requestAuth.teamAccess(request), request.params.id, request.body) }),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    { schema: { tags: Tags, summary: 'Delete a webhook and its delivery log', params: WhkId, response: { 204: Type.Null({ description: 'Deleted' }) } } },
    async (request, reply) => {
      await webhooks.remove(await requestAuth.teamAccess(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/webhooks/:id/test',
    {
      schema: {
        tags: Tags,
        summary: 'Send a webhook.test event now; answers with the delivery and its first attempt',
        params: WhkId,
        // Takes no fields: a body that names any is a 400, never silently ignored.
        body: StrictObject({}),
        response: { 200: Type.Object({ data: DeliverySchema }) },
      },
      // No body at all is an empty one (Fastify would validate `undefined` as "must be object").
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => ({ data: await webhooks.sendTest(await requestAuth.teamAccess(request), request.params.id) }),
  );

  app.post(
    '/api/v1/webhooks/:id/deliveries/:deliveryId/retry',
    {
      schema: {
        tags: Tags,
        summary: 'Attempt a pending or failed delivery again now; answers with the delivery and every attempt',
        description:
          'One attempt, now. 409 when the delivery was already delivered, when another attempt of it is in progress, or when the webhook is disabled. A failed attempt is retried on the usual schedule; after the 24 h window since the event, the delivery is failed again.',
        params: DeliveryParams,
        // Takes no fields, like the test route.
        body: StrictObject({}),
        response: { 200: Type.Object({ data: DeliverySchema }) },
      },
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request) => ({ data: await webhooks.retry(await requestAuth.teamAccess(request), request.params.id, request.params.deliveryId) }),
  );

  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: Tags,
        summary: 'Deliveries of a webhook, newest first, with every attempt (status, duration, error)',
        params: WhkId,
        querystring: StrictObject({ ...PageQuery }),
        response: { 200: PageOf(DeliverySchema) },
      },
    },
    async (request) => webhooks.deliveries(await requestAuth.teamAccess(request), request.params.id, request.query),
  );
};

import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ALERT_SETTING_LIMITS, ALERT_SEVERITIES, ALERT_TYPES, type AlertService, type AlertType } from '@keysmith/core';
import type { RequestAuth } from '../http/auth';
import { IdParam, Nullable, PageOf, PageQuery, StrictObject, StringEnum, Timestamp } from '../http/schemas';

const AlertTypeSchema = StringEnum<AlertType>(ALERT_TYPES);
const Details = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description: "The rule's figures (network, calls, credits, expiry…)" });

const AlertSchema = Type.Object(
  {
    id: Type.String(),
    type: AlertTypeSchema,
    severity: StringEnum(ALERT_SEVERITIES),
    keyId: Nullable(Type.String({ description: 'null for a team-wide alert (the team balance)' })),
    message: Type.String(),
    details: Details,
    createdAt: Timestamp,
    readAt: Nullable(Timestamp),
  },
  { description: 'An alert raised by a usage rule; also sent to the webhooks subscribed to its type.' },
);

const L = ALERT_SETTING_LIMITS;
const Enabled = Type.Boolean();
const Factor = Type.Number({ minimum: L.factor.min, maximum: L.factor.max, description: 'calls in the last hour above this many times the hourly average' });
const MinCalls = Type.Integer({ minimum: L.minCalls.min, maximum: L.minCalls.max, description: 'and at least this many calls in the last hour' });
const Percent = Type.Number({ minimum: L.percent.min, maximum: L.percent.max, description: 'remaining credits below this percentage of the limit' });
const ExpiringDays = Type.Integer({ minimum: L.expiringDays.min, maximum: L.expiringDays.max });
const UnusedDays = Type.Integer({ minimum: L.unusedDays.min, maximum: L.unusedDays.max });

const RulesInput = StrictObject({
  'key.new_network': Type.Optional(StrictObject({ enabled: Enabled })),
  'key.revoked_used': Type.Optional(StrictObject({ enabled: Enabled })),
  'key.usage_spike': Type.Optional(StrictObject({ enabled: Enabled, factor: Type.Optional(Factor), minCalls: Type.Optional(MinCalls) })),
  'key.credits_low': Type.Optional(StrictObject({ enabled: Enabled, percent: Type.Optional(Percent) })),
  'key.expiring_soon': Type.Optional(StrictObject({ enabled: Enabled, days: Type.Optional(ExpiringDays) })),
  'key.unused': Type.Optional(StrictObject({ enabled: Enabled, days: Type.Optional(UnusedDays) })),
});

const SettingsSchema = Type.Object(
  {
    rules: Type.Object({
      'key.new_network': Type.Object({ enabled: Enabled }),
      'key.revoked_used': Type.Object({ enabled: Enabled }),
      'key.usage_spike': Type.Object({ enabled: Enabled, factor: Type.Number(), minCalls: Type.Integer() }),
      'key.credits_low': Type.Object({ enabled: Enabled, percent: Type.Number() }),
      'key.expiring_soon': Type.Object({ enabled: Enabled, days: Type.Integer() }),
      'key.unused': Type.Object({ enabled: Enabled, days: Type.Integer() }),
    }),
    updatedAt: Nullable(Timestamp),
  },
  { description: "The team's effective alert rules, defaults included; updatedAt is null until the team saves its own." },
);

const Seen = { firstSeenAt: Timestamp, lastSeenAt: Timestamp, count: Type.Integer() };
const ActivitySchema = Type.Object(
  {
    networks: Type.Array(Type.Object({ network: Type.String({ description: '/24 (IPv4) or /48 (IPv6)' }), ...Seen })),
    userAgents: Type.Array(Type.Object({ userAgent: Type.String(), ...Seen })),
  },
  { description: 'What the callers of verify reported for this key (context), most recently seen first; the most recent 50 of each are kept.' },
);

const Tags = ['alerts'];
// A POST that takes no fields: a body naming any is a 400; no body at all is an empty one.
const NoBody = StrictObject({});
const emptyBody = async (request: { body: unknown }) => {
  if (request.body === undefined || request.body === null) request.body = {};
};

export interface AlertRoutesOptions {
  alerts: AlertService;
  requestAuth: RequestAuth;
}

/** Alerts and key activity need keys.read; changing the rules needs members.manage. */
export const alertRoutes: FastifyPluginAsyncTypebox<AlertRoutesOptions> = async (app, { alerts, requestAuth }) => {
  app.get(
    '/api/v1/alerts',
    {
      schema: {
        tags: Tags,
        summary: "The team's alerts, newest first; filter by type, by unread and by key",
        querystring: StrictObject({
          ...PageQuery,
          type: Type.Optional(AlertTypeSchema),
          unread: Type.Optional(Type.Boolean()),
          keyId: Type.Optional(Type.String({ pattern: '^key_[0-9A-Za-z]{1,64}$', description: 'only the alerts of this key' })),
        }),
        response: { 200: PageOf(AlertSchema) },
      },
    },
    async (request) => alerts.list(await requestAuth.teamAccess(request), request.query),
  );

  app.post(
    '/api/v1/alerts/read-all',
    { schema: { tags: Tags, summary: "Mark every unread alert of the team read", body: NoBody, response: { 200: Type.Object({ data: Type.Object({ updated: Type.Integer() }) }) } }, preValidation: emptyBody },
    async (request) => ({ data: await alerts.markAllRead(await requestAuth.teamAccess(request)) }),
  );

  app.post(
    '/api/v1/alerts/:id/read',
    { schema: { tags: Tags, summary: 'Mark one alert read (for the whole team)', params: IdParam('alr'), body: NoBody, response: { 200: Type.Object({ data: AlertSchema }) } }, preValidation: emptyBody },
    async (request) => ({ data: await alerts.markRead(await requestAuth.teamAccess(request), request.params.id) }),
  );

  app.get(
    '/api/v1/alert-settings',
    { schema: { tags: Tags, summary: "The team's alert rules, defaults included", response: { 200: Type.Object({ data: SettingsSchema }) } } },
    async (request) => ({ data: await alerts.getSettings(await requestAuth.teamAccess(request)) }),
  );

  app.put(
    '/api/v1/alert-settings',
    {
      schema: {
        tags: Tags,
        summary: "Replace the team's alert rules; rules and thresholds left out take their defaults",
        body: StrictObject({ rules: RulesInput }),
        response: { 200: Type.Object({ data: SettingsSchema }) },
      },
    },
    async (request) => ({ data: await alerts.putSettings(await requestAuth.teamAccess(request), request.body) }),
  );

  app.get(
    '/api/v1/keys/:id/activity',
    { schema: { tags: ['keys'], summary: 'The networks and user agents a key was used from', params: IdParam('key'), response: { 200: Type.Object({ data: ActivitySchema }) } } },
    async (request) => ({ data: await alerts.activity(await requestAuth.teamAccess(request), request.params.id) }),
  );
};

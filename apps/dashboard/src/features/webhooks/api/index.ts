import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api';

/** Key lifecycle events and alerts, in the groups the form shows them. */
export const KEY_EVENTS = ['key.created', 'key.revoked', 'key.regenerated'] as const;
export const ALERT_EVENTS = ['key.new_network', 'key.revoked_used', 'key.usage_spike', 'key.credits_low', 'key.expiring_soon', 'key.unused'] as const;
export const WEBHOOK_EVENTS = [...KEY_EVENTS, ...ALERT_EVENTS] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The longest URL the server stores. */
export const WEBHOOK_URL_MAX = 2048;

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

export interface WebhookInput {
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
}

export interface DeliveryAttempt {
  at: string;
  /** The receiver's HTTP status; null when it did not answer. */
  status: number | null;
  durationMs: number;
  error: string | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  attempts: DeliveryAttempt[];
}

export const webhooksKey = ['webhooks'] as const;

export function useWebhooks(cursor: string | null, enabled: boolean) {
  return useQuery({
    queryKey: [...webhooksKey, 'list', cursor],
    queryFn: () => api<Page<Webhook>>('GET', `/api/v1/webhooks${qs({ limit: 20, cursor })}`),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useWebhook(id: string, enabled: boolean) {
  return useQuery({ queryKey: [...webhooksKey, 'one', id], queryFn: () => api<{ data: Webhook }>('GET', `/api/v1/webhooks/${encodeURIComponent(id)}`), enabled, retry: false });
}

/** How often an open delivery log looks again while a delivery still waits for an attempt. */
export const PENDING_REFRESH_MS = 5_000;

export function useDeliveries(id: string, cursor: string | null, enabled: boolean) {
  return useQuery({
    queryKey: [...webhooksKey, 'deliveries', id, cursor],
    queryFn: () => api<Page<Delivery>>('GET', `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries${qs({ limit: 20, cursor })}`),
    placeholderData: keepPreviousData,
    enabled,
    refetchInterval: (query) => (query.state.data?.data.some((d) => d.status === 'pending') ? PENDING_REFRESH_MS : false),
  });
}

/**
 * Changes to webhooks. Plain calls, not mutations: the signing secret of `create` goes to the
 * caller only and never enters the query or mutation cache.
 */
export function useWebhookActions() {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: webhooksKey });
  return {
    async create(input: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
      const result = await api<{ data: Webhook; secret: string }>('POST', '/api/v1/webhooks', input);
      void refresh();
      return { webhook: result.data, secret: result.secret };
    },
    async update(id: string, changes: Partial<WebhookInput>): Promise<Webhook> {
      const result = await api<{ data: Webhook }>('PATCH', `/api/v1/webhooks/${encodeURIComponent(id)}`, changes);
      void refresh();
      return result.data;
    },
    async remove(id: string): Promise<void> {
      await api('DELETE', `/api/v1/webhooks/${encodeURIComponent(id)}`);
      // Only the lists: the deleted webhook's own queries may still be on screen until the page
      // leaves, and refetching them now would only answer 404.
      void queryClient.invalidateQueries({ queryKey: [...webhooksKey, 'list'] });
    },
    /** Sends a webhook.test event now; answers with the delivery and its first attempt. */
    async sendTest(id: string): Promise<Delivery> {
      const result = await api<{ data: Delivery }>('POST', `/api/v1/webhooks/${encodeURIComponent(id)}/test`, {});
      void queryClient.invalidateQueries({ queryKey: [...webhooksKey, 'deliveries', id] });
      return result.data;
    },
    /** Attempts a pending or failed delivery again now; answers with the delivery and every attempt. */
    async retryDelivery(webhookId: string, deliveryId: string): Promise<Delivery> {
      const url = `/api/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/retry`;
      try {
        return (await api<{ data: Delivery }>('POST', url, {})).data;
      } finally {
        // Refused too (e.g. delivered meanwhile): the log shows what the server holds now.
        void queryClient.invalidateQueries({ queryKey: [...webhooksKey, 'deliveries', webhookId] });
      }
    },
  };
}

export type UrlProblem = 'required' | 'invalid' | 'scheme' | 'credentials' | 'tooLong';

/**
 * The checks the browser can make before sending: an http(s) URL with a host and no user name or
 * password, at most 2048 characters. The server also refuses link-local and cloud-metadata
 * addresses; its message is shown beside the field.
 */
export function checkUrl(input: string): UrlProblem | null {
  const value = input.trim();
  if (value === '') return 'required';
  if (value.length > WEBHOOK_URL_MAX) return 'tooLong';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'invalid';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme';
  if (url.hostname === '') return 'invalid';
  if (url.username !== '' || url.password !== '') return 'credentials';
  return null;
}

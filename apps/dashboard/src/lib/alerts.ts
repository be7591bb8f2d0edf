import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, qs, type Page } from './api';

/**
 * Alerts are read in two places (the Alerts page with the bell, and a key's detail page), so
 * their types and queries live here rather than in either feature.
 */

export const ALERT_TYPES = ['key.new_network', 'key.revoked_used', 'key.usage_spike', 'key.credits_low', 'key.expiring_soon', 'key.unused'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export type Severity = 'info' | 'warning' | 'critical';

export interface Alert {
  id: string;
  /** One of ALERT_TYPES; typed as string so an alert type this dashboard does not know yet still shows. */
  type: string;
  severity: Severity;
  keyId: string | null;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export interface AlertListParams {
  type?: string;
  /** 'true': unread only; 'false': read only; '' or undefined: both. */
  unread?: string;
  cursor?: string | null;
  /** Only this key's alerts. */
  keyId?: string;
  limit: number;
}

export const alertsKey = ['alerts'] as const;

export function useAlerts(params: AlertListParams, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: [...alertsKey, 'list', params],
    queryFn: () => api<Page<Alert>>('GET', `/api/v1/alerts${qs({ limit: params.limit, cursor: params.cursor, type: params.type, unread: params.unread, keyId: params.keyId })}`),
    placeholderData: keepPreviousData,
    enabled: options.enabled ?? true,
  });
}

/** How often the bell asks for the unread count. */
export const UNREAD_REFRESH_MS = 20_000;

/** Whether an error means "this will not work by asking again" (no permission, no such endpoint). */
function permanent(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 403 || error.status === 404);
}

/**
 * The number of unread alerts, refreshed in the background. Its failures show no toast (the bell
 * simply has no count); a 403 or 404 stops the refreshing.
 */
export function useUnreadAlertCount() {
  return useQuery({
    queryKey: [...alertsKey, 'unread-count'],
    queryFn: async () => (await api<Page<Alert>>('GET', `/api/v1/alerts${qs({ unread: 'true', limit: 1 })}`)).total,
    refetchInterval: (query) => (permanent(query.state.error) ? false : UNREAD_REFRESH_MS),
    meta: { silent: true },
    retry: false,
  });
}

/** Marking read; every alert query (lists and the bell's count) is refreshed afterwards. */
export function useAlertActions() {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: alertsKey });
  return {
    async markRead(id: string): Promise<void> {
      await api('POST', `/api/v1/alerts/${encodeURIComponent(id)}/read`, {});
      await refresh();
    },
    async markAllRead(): Promise<void> {
      await api('POST', '/api/v1/alerts/read-all', {});
      await refresh();
    },
  };
}

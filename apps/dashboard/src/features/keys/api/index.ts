import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api';
import type { KeyStatus } from '../../../components/ui/misc';

export interface ApiKey {
  id: string;
  name: string;
  description: string | null;
  prefix: string;
  environment: 'live' | 'test';
  status: KeyStatus;
  scopes: string[];
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  usageCount: number;
  credits: { limit: number; remaining: number; refill: { amount: number; interval: 'day' | 'month' } | null } | null;
  rateLimit: { limit: number; windowSeconds: number } | null;
  metadata: Record<string, unknown>;
}

export interface KeyInput {
  name?: string;
  description?: string | null;
  expiresAt?: string | null;
  scopes?: string[];
  credits?: { limit: number; refill?: { amount: number; interval: 'day' | 'month' } | null } | null;
  rateLimit?: { limit: number; windowSeconds: number } | null;
  enabled?: boolean;
}

export interface KeyListParams {
  q: string;
  status: string;
  sort: string;
  cursor: string | null;
  limit: number;
}

export const keysKey = ['keys'] as const;

export function useKeys(params: KeyListParams) {
  return useQuery({
    queryKey: [...keysKey, 'list', params],
    queryFn: () => api<Page<ApiKey>>('GET', `/api/v1/keys${qs({ limit: params.limit, q: params.q, status: params.status, sort: params.sort, cursor: params.cursor })}`),
    placeholderData: keepPreviousData,
  });
}

export function useKey(id: string) {
  return useQuery({ queryKey: [...keysKey, 'one', id], queryFn: () => api<{ data: ApiKey }>('GET', `/api/v1/keys/${encodeURIComponent(id)}`) });
}

export function useScopes() {
  return useQuery({ queryKey: ['scopes'], queryFn: () => api<{ data: Array<{ name: string; description: string }> }>('GET', '/api/v1/scopes'), staleTime: 5 * 60_000 });
}

export interface UsagePoint {
  t: string;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

export function useKeyUsage(id: string) {
  return useQuery({ queryKey: [...keysKey, 'usage', id], queryFn: () => api<{ data: UsagePoint[] }>('GET', `/api/v1/keys/${encodeURIComponent(id)}/usage?interval=day`) });
}

export interface AuditEntry {
  id: string;
  action: string;
  actor: { type: string; id: string; label: string };
  createdAt: string;
  details: Record<string, unknown>;
}

export function useKeyAudit(id: string, enabled: boolean) {
  return useQuery({
    queryKey: [...keysKey, 'audit', id],
    queryFn: () => api<Page<AuditEntry>>('GET', `/api/v1/audit-logs${qs({ targetId: id, limit: 10 })}`),
    enabled,
  });
}

export interface KeyActivity {
  networks: Array<{ network: string; firstSeenAt: string; lastSeenAt: string; count: number }>;
  userAgents: Array<{ userAgent: string; firstSeenAt: string; lastSeenAt: string; count: number }>;
}

/** The networks and user agents this key was verified from. */
export function useKeyActivity(id: string) {
  return useQuery({ queryKey: [...keysKey, 'activity', id], queryFn: () => api<{ data: KeyActivity }>('GET', `/api/v1/keys/${encodeURIComponent(id)}/activity`) });
}

/**
 * Changes to keys. The raw key of create/regenerate is returned to the caller and never put in
 * the query cache: only the key object is.
 */
export function useKeyActions() {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: keysKey });
  return {
    async create(input: KeyInput): Promise<{ data: ApiKey; rawKey: string }> {
      const result = await api<{ data: ApiKey; rawKey: string }>('POST', '/api/v1/keys', input);
      void refresh();
      return result;
    },
    async update(id: string, input: KeyInput): Promise<ApiKey> {
      const result = await api<{ data: ApiKey }>('PATCH', `/api/v1/keys/${encodeURIComponent(id)}`, input);
      void refresh();
      return result.data;
    },
    async regenerate(id: string, expireOldAfterSeconds: number): Promise<{ data: ApiKey; rawKey: string }> {
      const result = await api<{ data: ApiKey; rawKey: string }>('POST', `/api/v1/keys/${encodeURIComponent(id)}/regenerate`, expireOldAfterSeconds > 0 ? { expireOldAfterSeconds } : {});
      void refresh();
      return result;
    },
    async revoke(id: string): Promise<void> {
      await api('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
      void refresh();
    },
    async purge(id: string): Promise<void> {
      await api('DELETE', `/api/v1/keys/${encodeURIComponent(id)}?purge=true`);
      queryClient.removeQueries({ queryKey: [...keysKey, 'one', id] });
      void refresh();
    },
  };
}

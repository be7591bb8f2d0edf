import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api';

export interface AuditEntry {
  id: string;
  action: string;
  actor: { type: 'user' | 'service'; id: string; label: string };
  target: { type: string; id: string; label: string };
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  details: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  'key.created', 'key.updated', 'key.enabled', 'key.disabled', 'key.regenerated', 'key.revoked', 'key.purged',
  'provider_key.created', 'provider_key.updated', 'provider_key.deleted', 'provider_key.revealed',
  'member.invited', 'member.joined', 'member.role_changed', 'member.removed',
  'team.created', 'team.updated', 'auth.login', 'auth.login_failed',
] as const;

export function useAuditLog(action: string, cursor: string | null) {
  return useQuery({
    queryKey: ['audit', action, cursor],
    queryFn: () => api<Page<AuditEntry>>('GET', `/api/v1/audit-logs${qs({ action, cursor, limit: 25 })}`),
    placeholderData: keepPreviousData,
  });
}

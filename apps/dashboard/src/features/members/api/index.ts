import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api';

export type Role = 'owner' | 'admin' | 'developer' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

const membersKey = ['members'] as const;

export function useMembers() {
  return useQuery({ queryKey: membersKey, queryFn: () => api<{ data: Member[] }>('GET', '/api/v1/team/members') });
}

export function useMemberActions() {
  const queryClient = useQueryClient();
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: membersKey }), queryClient.invalidateQueries({ queryKey: ['me'] })]);
  return {
    async invite(email: string, role: Role) {
      const result = await api<{ data: { id: string; email: string; role: Role; expiresAt: string }; inviteToken: string }>('POST', '/api/v1/team/invitations', { email, role });
      return result;
    },
    async changeRole(userId: string, role: Role) {
      await api('PATCH', `/api/v1/team/members/${encodeURIComponent(userId)}`, { role });
      await refresh();
    },
    async remove(userId: string) {
      await api('DELETE', `/api/v1/team/members/${encodeURIComponent(userId)}`);
      await refresh();
    },
  };
}

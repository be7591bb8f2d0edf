import { useQuery } from '@tanstack/react-query';
import { api, currentTeam } from './api';

export interface Me {
  user: { id: string; email: string; name: string; createdAt: string } | null;
  teams: Array<{ id: string; name: string; role: string; permissions: string[] }>;
}

export const meQueryKey = ['me'] as const;

export function useMe() {
  return useQuery({ queryKey: meQueryKey, queryFn: () => api<Me>('GET', '/api/v1/auth/session', undefined, { team: false }), retry: false, staleTime: 30_000 });
}

/** The team the dashboard acts on: the stored choice if still a member, else the first (personal) team. */
export function activeTeam(me: Me | undefined) {
  if (!me) return undefined;
  const stored = currentTeam.get();
  const team = me.teams.find((t) => t.id === stored) ?? me.teams[0];
  if (team && team.id !== stored) currentTeam.set(team.id);
  return team;
}

/** Whether the signed-in person may do `permission` in the active team. */
export function usePermission(permission: string): boolean {
  const { data } = useMe();
  return activeTeam(data)?.permissions.includes(permission) ?? false;
}

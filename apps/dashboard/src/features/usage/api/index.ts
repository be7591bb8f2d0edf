import { useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';

export interface TeamUsage {
  totals: { valid: number; rejected: number; creditsUsed: number };
  byKey: Array<{ keyId: string; name: string | null; valid: number; rejected: number; creditsUsed: number }>;
  series: Array<{ t: string; valid: number; rejected: number; creditsUsed: number }>;
}

export function useTeamUsage() {
  return useQuery({ queryKey: ['usage', 'team'], queryFn: () => api<TeamUsage>('GET', '/api/v1/usage?interval=day') });
}

export function useTeam() {
  return useQuery({ queryKey: ['team'], queryFn: () => api<{ data: { id: string; name: string; credits: { balance: number } | null; createdAt: string } }>('GET', '/api/v1/team') });
}

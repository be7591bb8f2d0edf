import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api';

/** When and how each alert fires, per team. */
export interface AlertRules {
  'key.new_network': { enabled: boolean };
  'key.revoked_used': { enabled: boolean };
  'key.usage_spike': { enabled: boolean; factor: number; minCalls: number };
  'key.credits_low': { enabled: boolean; percent: number };
  'key.expiring_soon': { enabled: boolean; days: number };
  'key.unused': { enabled: boolean; days: number };
}

export type AlertRuleType = keyof AlertRules;

/** The rules in the order the form shows them, with the numbers each one takes. */
export const RULE_FIELDS: Array<{ type: AlertRuleType; fields: Array<'factor' | 'minCalls' | 'percent' | 'days'> }> = [
  { type: 'key.revoked_used', fields: [] },
  { type: 'key.new_network', fields: [] },
  { type: 'key.usage_spike', fields: ['factor', 'minCalls'] },
  { type: 'key.credits_low', fields: ['percent'] },
  { type: 'key.expiring_soon', fields: ['days'] },
  { type: 'key.unused', fields: ['days'] },
];

export interface AlertSettings {
  rules: AlertRules;
}

const settingsKey = ['alert-settings'] as const;

// The settings may come as `{rules}` or wrapped as `{data: {rules}}` like most answers; take either.
function unwrap(body: Partial<AlertSettings> & { data?: AlertSettings }): AlertSettings {
  return body.data ?? (body as AlertSettings);
}

export function useAlertSettings() {
  return useQuery({ queryKey: settingsKey, queryFn: async () => unwrap(await api('GET', '/api/v1/alert-settings')) });
}

export function useAlertSettingsActions() {
  const queryClient = useQueryClient();
  return {
    async save(rules: AlertRules): Promise<AlertSettings> {
      const saved = unwrap(await api('PUT', '/api/v1/alert-settings', { rules }));
      queryClient.setQueryData(settingsKey, saved.rules ? saved : { rules });
      return saved;
    },
  };
}

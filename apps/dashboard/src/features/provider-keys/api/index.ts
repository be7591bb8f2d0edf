import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, qs, type Page } from '../../../lib/api';

/** A stored credential as the list shows it: never the value, only its masked form. */
export interface ProviderKey {
  id: string;
  type: string;
  description: string;
  maskedKey: string;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

export interface ProviderKeyType {
  id: string;
  label: string;
  category: string;
}

export interface ProviderKeyInput {
  type: string;
  description: string;
  key: string;
}

/** An edit: a missing `key` keeps the stored value. */
export type ProviderKeyChanges = Partial<ProviderKeyInput>;

export interface ProviderKeyListParams {
  q: string;
  type: string;
  sort: string;
  cursor: string | null;
  limit: number;
}

/** The sort values the server accepts, by column. */
export const PROVIDER_KEY_SORTS = ['description', 'type', 'createdAt', 'updatedAt'] as const;

export const providerKeysKey = ['provider-keys'] as const;

export function useProviderKeys(params: ProviderKeyListParams) {
  return useQuery({
    queryKey: [...providerKeysKey, 'list', params],
    queryFn: () =>
      api<Page<ProviderKey>>('GET', `/api/v1/provider-keys${qs({ limit: params.limit, q: params.q, type: params.type, sort: params.sort, cursor: params.cursor })}`),
    placeholderData: keepPreviousData,
  });
}

export function useProviderKeyTypes() {
  return useQuery({
    queryKey: [...providerKeysKey, 'types'],
    queryFn: () => api<{ data: ProviderKeyType[] }>('GET', '/api/v1/provider-keys/types'),
    staleTime: 10 * 60_000,
  });
}

/** The types grouped by category, in the server's order. */
export function groupByCategory(types: ProviderKeyType[]): Array<{ category: string; types: ProviderKeyType[] }> {
  const groups = new Map<string, ProviderKeyType[]>();
  for (const type of types) groups.set(type.category, [...(groups.get(type.category) ?? []), type]);
  return [...groups].map(([category, members]) => ({ category, types: members }));
}

/**
 * Changes to provider credentials. These are plain calls, not mutations: a revealed value is
 * handed to the caller only and never enters the query or mutation cache.
 */
export function useProviderKeyActions() {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: [...providerKeysKey, 'list'] });
  return {
    async create(input: ProviderKeyInput): Promise<ProviderKey> {
      const result = await api<{ data: ProviderKey }>('POST', '/api/v1/provider-keys', input);
      void refresh();
      return result.data;
    },
    async update(id: string, changes: ProviderKeyChanges): Promise<ProviderKey> {
      const result = await api<{ data: ProviderKey }>('PATCH', `/api/v1/provider-keys/${encodeURIComponent(id)}`, changes);
      void refresh();
      return result.data;
    },
    async remove(id: string): Promise<void> {
      await api('DELETE', `/api/v1/provider-keys/${encodeURIComponent(id)}`);
      void refresh();
    },
    /** The credential in clear, for the caller's state only. */
    async reveal(id: string): Promise<string> {
      const result = await api<{ data: { key: string } }>('POST', `/api/v1/provider-keys/${encodeURIComponent(id)}/reveal`);
      return result.data.key;
    },
  };
}

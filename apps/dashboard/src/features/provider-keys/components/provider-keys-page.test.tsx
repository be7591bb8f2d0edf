import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../../../lib/session';
import { fakeApi, renderWithProviders, type Call } from '../../../test/render';
import type { ProviderKey } from '../api';
import { ProviderKeysPage } from './provider-keys-page';

const TYPES = [
  { id: 'openai', label: 'OpenAI', category: 'ai' },
  { id: 'exa', label: 'Exa', category: 'search' },
];
const item = (n: number): ProviderKey => ({
  id: `pvk_${n}`, type: 'openai', description: `Credential ${n}`, maskedKey: '•••••••••••',
  createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z', createdBy: null,
});

function session(role: string, permissions: string[]): () => { json: Me } {
  return () => ({ json: { user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', createdAt: '2026-11-01T10:00:00.000Z' }, teams: [{ id: 'team_1', name: 'Ada', role, permissions }] } });
}
const OWNER = ['provider_keys.read', 'provider_keys.write', 'provider_keys.reveal'];

const lists = (calls: Call[]) => calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/provider-keys?')).map((c) => new URLSearchParams(c.url.split('?')[1]));

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('ProviderKeysPage', () => {
  it('shows skeletons, then the page of credentials with Previous disabled at the start, and pages on', async () => {
    let resolve: () => void = () => {};
    const gate = new Promise<void>((r) => (resolve = r));
    const calls = fakeApi({
      'GET /api/v1/auth/session': session('owner', OWNER),
      'GET /api/v1/provider-keys/types': () => ({ json: { data: TYPES } }),
      'GET /api/v1/provider-keys': () => ({ json: { data: [item(1), item(2)], nextCursor: 'c2', prevCursor: null, total: 3 } }),
    });
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      if (url.startsWith('/api/v1/provider-keys?')) await gate;
      return realFetch(url, init);
    });
    renderWithProviders(<ProviderKeysPage />);
    expect(await screen.findByLabelText('Loading…')).toHaveAttribute('aria-busy', 'true');
    resolve();
    await screen.findByRole('button', { name: 'Credential 1' });
    expect(screen.getByText('3 credentials')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Next' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Add credential' })).toBeInTheDocument();
    expect(lists(calls)[0]?.get('sort')).toBe('-createdAt');

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(lists(calls).at(-1)?.get('cursor')).toBe('c2'));
  });

  it('searches by description after a pause, filters by type from a grouped list, and sorts', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/session': session('owner', OWNER),
      'GET /api/v1/provider-keys/types': () => ({ json: { data: TYPES } }),
      'GET /api/v1/provider-keys': () => ({ json: { data: [item(1)], nextCursor: null, prevCursor: null, total: 1 } }),
    });
    renderWithProviders(<ProviderKeysPage />);
    await screen.findByRole('button', { name: 'Credential 1' });
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search credentials' }), 'prod');
    await waitFor(() => expect(lists(calls).at(-1)?.get('q')).toBe('prod'));
    expect(lists(calls).filter((p) => p.get('q') === 'p')).toHaveLength(0);

    const filter = screen.getByRole('combobox', { name: 'Filter by type' });
    await within(filter).findByRole('group', { name: 'Search' });
    await userEvent.selectOptions(filter, 'exa');
    await waitFor(() => expect(lists(calls).at(-1)?.get('type')).toBe('exa'));
    expect(lists(calls).at(-1)?.get('q')).toBe('prod');

    await userEvent.click(screen.getByRole('button', { name: 'Sort by Description' }));
    await waitFor(() => expect(lists(calls).at(-1)?.get('sort')).toBe('description'));
  });

  it('invites the first credential when there is none, and says so when nothing matches', async () => {
    fakeApi({
      'GET /api/v1/auth/session': session('owner', OWNER),
      'GET /api/v1/provider-keys/types': () => ({ json: { data: TYPES } }),
      'GET /api/v1/provider-keys': () => ({ json: { data: [], nextCursor: null, prevCursor: null, total: 0 } }),
    });
    renderWithProviders(<ProviderKeysPage />);
    expect(await screen.findByText('No provider credentials yet')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: 'Add credential' })).toHaveLength(2);
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search credentials' }), 'zzz');
    expect(await screen.findByText('No credentials match')).toBeInTheDocument();
  });

  it('tells a developer their role cannot add, and offers no Reveal', async () => {
    fakeApi({
      'GET /api/v1/auth/session': session('developer', ['keys.read', 'keys.write', 'provider_keys.read']),
      'GET /api/v1/provider-keys/types': () => ({ json: { data: TYPES } }),
      'GET /api/v1/provider-keys': () => ({ json: { data: [item(1)], nextCursor: null, prevCursor: null, total: 1 } }),
    });
    renderWithProviders(<ProviderKeysPage />);
    expect(await screen.findByText('Your role can view credentials but not add or change them.')).toBeInTheDocument();
    await screen.findByText('Credential 1');
    expect(screen.queryByRole('button', { name: 'Add credential' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Reveal/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Delete/ })).toBeNull();
  });
});

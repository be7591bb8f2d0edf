import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../lib/session';
import { fakeApi, renderWithProviders } from '../test/render';
import { AppShell } from './layout';

function me(permissions: string[]): () => { json: Me } {
  return () => ({ json: { user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', createdAt: '2026-11-01T10:00:00.000Z' }, teams: [{ id: 'team_1', name: 'Ada', role: 'custom', permissions }] } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('AppShell navigation', () => {
  it('links to provider credentials for a role that may read them', async () => {
    fakeApi({ 'GET /api/v1/auth/session': me(['keys.read', 'provider_keys.read']) });
    renderWithProviders(<AppShell />);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(nav).toContainElement(screen.getByRole('link', { name: 'Provider credentials' }));
    expect(screen.getByRole('link', { name: 'Provider credentials' })).toHaveAttribute('href', '/team/provider-keys');
  });

  it('hides the link from a role without provider_keys.read', async () => {
    fakeApi({ 'GET /api/v1/auth/session': me(['keys.read']) });
    renderWithProviders(<AppShell />);
    await screen.findByRole('navigation', { name: 'Main' });
    expect(screen.getByRole('link', { name: 'API keys' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Provider credentials' })).toBeNull();
  });
});

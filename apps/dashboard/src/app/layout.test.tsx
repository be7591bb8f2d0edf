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

  it('links to webhooks for owners and admins only', async () => {
    fakeApi({ 'GET /api/v1/auth/session': me(['keys.read', 'members.manage']) });
    const { unmount } = renderWithProviders(<AppShell />);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(nav).toContainElement(screen.getByRole('link', { name: 'Webhooks' }));
    expect(screen.getByRole('link', { name: 'Webhooks' })).toHaveAttribute('href', '/team/webhooks');
    unmount();

    fakeApi({ 'GET /api/v1/auth/session': me(['keys.read']) });
    renderWithProviders(<AppShell />);
    await screen.findByRole('navigation', { name: 'Main' });
    expect(screen.queryByRole('link', { name: 'Webhooks' })).toBeNull();
  });

  it('shows the alerts bell with the unread count in the header', async () => {
    fakeApi({
      'GET /api/v1/auth/session': me(['keys.read']),
      'GET /api/v1/alerts': () => ({ json: { data: [], nextCursor: null, prevCursor: null, total: 2 } }),
    });
    renderWithProviders(<AppShell />);
    expect(await screen.findByRole('link', { name: 'Alerts, 2 unread' })).toHaveAttribute('href', '/alerts');
  });
});

import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../../lib/alerts';
import { fakeApi, renderWithProviders } from '../../../test/render';
import { KeyActivitySection, KeyAlertsSection } from './key-activity';

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const alert = (id: string, keyId: string, type = 'key.new_network'): Alert => ({ id, type, severity: 'warning', keyId, message: `message ${id}`, details: {}, createdAt: ago(60), readAt: null });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('KeyActivitySection', () => {
  it('lists the networks and user agents seen, most recent first, with their calls', async () => {
    fakeApi({
      'GET /api/v1/keys/key_1/activity': () => ({
        json: {
          data: {
            networks: [
              { network: '198.51.100.0/24', firstSeenAt: ago(86_400 * 3), lastSeenAt: ago(86_400), count: 1200 },
              { network: '203.0.113.0/24', firstSeenAt: ago(7200), lastSeenAt: ago(60), count: 3 },
            ],
            userAgents: [{ userAgent: 'billing-service/2.1', firstSeenAt: ago(86_400 * 3), lastSeenAt: ago(60), count: 1203 }],
          },
        },
      }),
    });
    renderWithProviders(<KeyActivitySection keyId="key_1" />);
    await screen.findByText('203.0.113.0/24');
    const rows = screen.getAllByRole('row').map((r) => r.textContent ?? '');
    expect(rows.findIndex((r) => r.includes('203.0.113.0/24'))).toBeLessThan(rows.findIndex((r) => r.includes('198.51.100.0/24')));
    const ua = screen.getByRole('row', { name: /billing-service\/2.1/ });
    expect(within(ua).getByText('1,203')).toBeInTheDocument();
    expect(within(ua).getByText('3 days ago')).toBeInTheDocument();
    expect(screen.getByRole('columnheader', { name: 'User agent' })).toBeInTheDocument();
  });

  it('says when the key was never used', async () => {
    fakeApi({ 'GET /api/v1/keys/key_1/activity': () => ({ json: { data: { networks: [], userAgents: [] } } }) });
    renderWithProviders(<KeyActivitySection keyId="key_1" />);
    expect(await screen.findByText(/No network seen yet/)).toBeInTheDocument();
    expect(screen.getByText('No user agent seen yet.')).toBeInTheDocument();
  });
});

describe('KeyAlertsSection', () => {
  it("asks the server for this key's newest alerts and lists them", async () => {
    const calls = fakeApi({ 'GET /api/v1/alerts': () => ({ json: { data: [alert('alr_2', 'key_1', 'key.revoked_used')], nextCursor: null, prevCursor: null, total: 1 } }) });
    renderWithProviders(<KeyAlertsSection keyId="key_1" />);
    const list = await screen.findByRole('list', { name: 'Alerts for this key' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(1);
    expect(within(list).getByText('Revoked key used')).toBeInTheDocument();
    expect(within(list).queryByRole('link', { name: 'View key' })).toBeNull();
    expect(screen.getByRole('link', { name: 'All alerts' })).toHaveAttribute('href', '/alerts');
    const query = new URLSearchParams(calls[0]?.url.split('?')[1]);
    expect(query.get('keyId')).toBe('key_1');
    expect(query.get('limit')).toBe('5');
  });

  it('says when this key has none', async () => {
    fakeApi({ 'GET /api/v1/alerts': () => ({ json: { data: [], nextCursor: null, prevCursor: null, total: 0 } }) });
    renderWithProviders(<KeyAlertsSection keyId="key_1" />);
    expect(await screen.findByText('No recent alerts for this key.')).toBeInTheDocument();
  });
});

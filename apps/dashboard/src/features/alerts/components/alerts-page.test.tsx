import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../../lib/alerts';
import { fakeApi, renderWithProviders, type Call } from '../../../test/render';
import { AlertsPage } from './alerts-page';

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const ALERTS: Alert[] = [
  { id: 'alr_2', type: 'key.revoked_used', severity: 'critical', keyId: 'key_1', message: 'The revoked key "GitHub CI" was used.', details: {}, createdAt: ago(120), readAt: null },
  { id: 'alr_1', type: 'key.new_network', severity: 'warning', keyId: 'key_2', message: 'Key "Billing" was used from 203.0.113.0/24.', details: {}, createdAt: ago(7200), readAt: ago(3600) },
];

/** The list queries (not the bell's count, which asks for one unread). */
const lists = (calls: Call[]) =>
  calls
    .filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/alerts?'))
    .map((c) => new URLSearchParams(c.url.split('?')[1]))
    .filter((p) => p.get('limit') !== '1');

/** The list answers from `items`; the bell's count (a one-item unread page) from `unread`. */
function fake(opts: { unread: () => number; items?: () => Alert[] }) {
  const items = () => opts.items?.() ?? ALERTS;
  const calls = fakeApi({
    'GET /api/v1/alerts': () => ({ json: { data: items(), nextCursor: null, prevCursor: null, total: items().length } }),
    'POST /api/v1/alerts/alr_2/read': () => ({ status: 204 }),
    'POST /api/v1/alerts/read-all': () => ({ status: 204 }),
  });
  const table = globalThis.fetch;
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
    if (url.startsWith('/api/v1/alerts?') && new URLSearchParams(url.split('?')[1]).get('limit') === '1') {
      calls.push({ method: 'GET', url, body: undefined });
      return new Response(JSON.stringify({ data: [], nextCursor: null, prevCursor: null, total: opts.unread() }), { status: 200 });
    }
    return table(url, init);
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('AlertsPage', () => {
  it('lists alerts newest first with severity, type, message, a link to the key, and which are unread', async () => {
    fake({ unread: () => 1 });
    renderWithProviders(<AlertsPage />);
    const list = await screen.findByRole('list', { name: 'Alerts' });
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(within(items[0]!).getByText('Critical')).toBeInTheDocument();
    expect(within(items[0]!).getByRole('heading', { name: 'Revoked key used' })).toBeInTheDocument();
    expect(within(items[0]!).getByText('Unread')).toBeInTheDocument();
    expect(within(items[0]!).getByText('The revoked key "GitHub CI" was used.')).toBeInTheDocument();
    expect(within(items[0]!).getByRole('link', { name: 'View key' })).toHaveAttribute('href', '/keys/key_1');
    expect(within(items[1]!).getByText('Warning')).toBeInTheDocument();
    expect(within(items[1]!).queryByRole('button', { name: /Mark/ })).toBeNull();
    expect(within(items[1]!).getByText('Read 1 hour ago')).toBeInTheDocument();
    expect(screen.getByText('2 alerts')).toBeInTheDocument();
  });

  it('filters by type and by read state through the query', async () => {
    const calls = fake({ unread: () => 1 });
    renderWithProviders(<AlertsPage />);
    await screen.findByRole('list', { name: 'Alerts' });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Filter by type' }), 'Revoked key used');
    await waitFor(() => expect(lists(calls).at(-1)?.get('type')).toBe('key.revoked_used'));
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Filter by read state' }), 'Unread');
    await waitFor(() => expect(lists(calls).at(-1)?.get('unread')).toBe('true'));
    expect(lists(calls).at(-1)?.get('type')).toBe('key.revoked_used');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Filter by read state' }), 'Read');
    await waitFor(() => expect(lists(calls).at(-1)?.get('unread')).toBe('false'));
  });

  it('marks one alert read, then refreshes the list and the count', async () => {
    let unread = 1;
    const calls = fake({ unread: () => unread });
    renderWithProviders(<AlertsPage />);
    const button = await screen.findByRole('button', { name: 'Mark “Revoked key used” as read' });
    unread = 0;
    const before = calls.length;
    await userEvent.click(button);
    expect(await screen.findByText('Alert marked as read')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')?.url).toBe('/api/v1/alerts/alr_2/read');
    await waitFor(() => expect(calls.slice(before).filter((c) => c.method === 'GET').length).toBeGreaterThanOrEqual(2));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Mark all as read' })).toBeDisabled());
  });

  it('marks all read, and disables that while nothing is unread', async () => {
    let unread = 3;
    const calls = fake({ unread: () => unread });
    renderWithProviders(<AlertsPage />);
    const all = await screen.findByRole('button', { name: 'Mark all as read' });
    await waitFor(() => expect(all).toBeEnabled());
    unread = 0;
    await userEvent.click(all);
    expect(await screen.findByText('All alerts marked as read')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/v1/alerts/read-all']);
    await waitFor(() => expect(all).toBeDisabled());
  });

  it('says when there are no alerts, and when none match the filters', async () => {
    fake({ unread: () => 0, items: () => [] });
    renderWithProviders(<AlertsPage />);
    expect(await screen.findByText('No alerts')).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Filter by type' }), 'Usage spike');
    expect(await screen.findByText('No alerts match')).toBeInTheDocument();
  });
});

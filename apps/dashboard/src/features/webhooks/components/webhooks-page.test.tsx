import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../../../lib/session';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { Delivery, Webhook } from '../api';
import { WebhooksPage } from './webhooks-page';

function session(role: string, permissions: string[]): () => { json: Me } {
  return () => ({ json: { user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', createdAt: '2026-11-01T10:00:00.000Z' }, teams: [{ id: 'team_1', name: 'Ada', role, permissions }] } });
}
const ADMIN = session('admin', ['keys.read', 'members.manage']);
const hook = (n: number, enabled = true): Webhook => ({
  id: `whk_${n}`, url: `https://example.com/hook-${n}`, events: ['key.created', 'key.revoked'], enabled,
  createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z', createdBy: null,
});
const page = (items: Webhook[]) => () => ({ json: { data: items, nextCursor: null, prevCursor: null, total: items.length } });
const delivery = (over: Partial<Delivery>): Delivery => ({
  id: 'dlv_1', webhookId: 'whk_1', eventId: 'evt_1', type: 'webhook.test', status: 'delivered', createdAt: new Date().toISOString(),
  deliveredAt: new Date().toISOString(), nextAttemptAt: null, attempts: [{ at: new Date().toISOString(), status: 200, durationMs: 12, error: null }], ...over,
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('WebhooksPage', () => {
  it('tells a developer only owners and admins manage webhooks, and asks the server nothing', async () => {
    const calls = fakeApi({ 'GET /api/v1/auth/session': session('developer', ['keys.read', 'keys.write']) });
    renderWithProviders(<WebhooksPage />);
    expect(await screen.findByText('Only owners and admins can manage webhooks.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Add webhook' })).toBeNull();
    expect(calls.filter((c) => c.url.startsWith('/api/v1/webhooks'))).toHaveLength(0);
  });

  it('invites the first webhook when there is none', async () => {
    fakeApi({ 'GET /api/v1/auth/session': ADMIN, 'GET /api/v1/webhooks': page([]) });
    renderWithProviders(<WebhooksPage />);
    expect(await screen.findByText('No webhooks yet')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: 'Add webhook' })).toHaveLength(2);
  });

  it('lists the webhooks with their events and state, linking each to its log', async () => {
    fakeApi({ 'GET /api/v1/auth/session': ADMIN, 'GET /api/v1/webhooks': page([hook(1), hook(2, false)]) });
    renderWithProviders(<WebhooksPage />);
    const link = await screen.findByRole('link', { name: 'https://example.com/hook-1' });
    expect(link).toHaveAttribute('href', '/team/webhooks/whk_1');
    const second = screen.getByRole('row', { name: /hook-2/ });
    expect(within(second).getByText('Disabled')).toBeInTheDocument();
    expect(within(second).getByText('2 events')).toBeInTheDocument();
    expect(within(second).getByRole('button', { name: 'Send test to https://example.com/hook-2' })).toBeDisabled();
    expect(screen.getByText('2 webhooks')).toBeInTheDocument();
  });

  it('sends a test and says whether the receiver took it', async () => {
    let answer = delivery({});
    fakeApi({ 'GET /api/v1/auth/session': ADMIN, 'GET /api/v1/webhooks': page([hook(1)]), 'POST /api/v1/webhooks/whk_1/test': () => ({ json: { data: answer } }) });
    renderWithProviders(<WebhooksPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Send test to https://example.com/hook-1' }));
    expect(await screen.findByText('Test event delivered: HTTP 200 in 12 ms')).toBeInTheDocument();

    answer = delivery({ status: 'pending', deliveredAt: null, nextAttemptAt: new Date(Date.now() + 30_000).toISOString(), attempts: [{ at: new Date().toISOString(), status: 500, durationMs: 8, error: null }] });
    await userEvent.click(screen.getByRole('button', { name: 'Send test to https://example.com/hook-1' }));
    expect(await screen.findByText('Test event not delivered: HTTP 500. Keysmith tries again in 30 seconds.')).toBeInTheDocument();
  });

  it('deletes a webhook only after a confirmation', async () => {
    const calls = fakeApi({ 'GET /api/v1/auth/session': ADMIN, 'GET /api/v1/webhooks': page([hook(1)]), 'DELETE /api/v1/webhooks/whk_1': () => ({ status: 204 }) });
    renderWithProviders(<WebhooksPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Delete https://example.com/hook-1' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Delete this webhook?' });
    expect(within(confirm).getByText(/stops sending events to https:\/\/example.com\/hook-1/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
    await userEvent.click(within(confirm).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('Webhook deleted')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
  });
});

import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { Delivery } from '../api';
import { DeliveryLog } from './delivery-log';

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
const inFuture = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const DELIVERIES: Delivery[] = [
  {
    id: 'dlv_3', webhookId: 'whk_1', eventId: 'evt_3', type: 'key.revoked_used', status: 'pending', createdAt: ago(60), deliveredAt: null, nextAttemptAt: inFuture(120),
    attempts: [
      { at: ago(60), status: null, durationMs: 10_000, error: 'timed out after 10000 ms' },
      { at: ago(30), status: 503, durationMs: 40, error: null },
    ],
  },
  { id: 'dlv_2', webhookId: 'whk_1', eventId: 'evt_2', type: 'webhook.test', status: 'delivered', createdAt: ago(3600), deliveredAt: ago(3600), nextAttemptAt: null, attempts: [{ at: ago(3600), status: 204, durationMs: 15, error: null }] },
  { id: 'dlv_1', webhookId: 'whk_1', eventId: 'evt_1', type: 'key.created', status: 'failed', createdAt: ago(90_000), deliveredAt: null, nextAttemptAt: null, attempts: [{ at: ago(90_000), status: null, durationMs: 3, error: 'connection refused' }] },
];

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('DeliveryLog', () => {
  it('shows each delivery with its status, last answer and what happens next, and explains retries', async () => {
    fakeApi({ 'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: DELIVERIES, nextCursor: null, prevCursor: null, total: 3 } }) });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    const pending = await screen.findByRole('row', { name: /Revoked key used/ });
    expect(within(pending).getByText('Pending')).toBeInTheDocument();
    expect(within(pending).getByText('HTTP 503')).toBeInTheDocument();
    expect(within(pending).getByText('Next attempt in 2 minutes')).toBeInTheDocument();
    const test = screen.getByRole('row', { name: /Test event/ });
    expect(within(test).getByText('Delivered')).toBeInTheDocument();
    expect(within(test).getByText('HTTP 204')).toBeInTheDocument();
    const failed = screen.getByRole('row', { name: /Key created/ });
    expect(within(failed).getByText('Failed')).toBeInTheDocument();
    expect(within(failed).getByText('connection refused')).toBeInTheDocument();
    expect(within(failed).getByText('No more attempts')).toBeInTheDocument();
    expect(screen.getByText(/There is no manual retry; use Send test/)).toBeInTheDocument();
    expect(screen.getByText('3 deliveries')).toBeInTheDocument();
  });

  it('opens and closes the attempts of a delivery', async () => {
    fakeApi({ 'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: DELIVERIES, nextCursor: null, prevCursor: null, total: 3 } }) });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    const toggle = await screen.findByRole('button', { name: '2 attempts of Revoked key used: show or hide' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const attempts = screen.getByRole('list', { name: 'Attempts of Revoked key used' });
    expect(within(attempts).getAllByRole('listitem')).toHaveLength(2);
    expect(within(attempts).getByText('timed out after 10000 ms')).toBeInTheDocument();
    await userEvent.click(toggle);
    expect(screen.queryByRole('list', { name: 'Attempts of Revoked key used' })).toBeNull();
  });

  it('says when nothing was sent yet', async () => {
    fakeApi({ 'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: [], nextCursor: null, prevCursor: null, total: 0 } }) });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    expect(await screen.findByText('No deliveries yet')).toBeInTheDocument();
  });
});

import { screen, waitFor, within } from '@testing-library/react';
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
    expect(screen.getByText(/Retry now makes one attempt at once, also after Keysmith has given up/)).toBeInTheDocument();
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

  it('offers Retry now on pending and failed deliveries; a retry is disabled while it runs, then says how it went and refreshes the log', async () => {
    let log = DELIVERIES;
    const retried: Delivery = { ...(DELIVERIES[2] as Delivery), status: 'delivered', deliveredAt: ago(0), attempts: [...(DELIVERIES[2] as Delivery).attempts, { at: ago(0), status: 200, durationMs: 9, error: null }] };
    const calls = fakeApi({
      'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: log, nextCursor: null, prevCursor: null, total: 3 } }),
      'POST /api/v1/webhooks/whk_1/deliveries/dlv_1/retry': () => {
        log = [DELIVERIES[0] as Delivery, DELIVERIES[1] as Delivery, retried];
        return { json: { data: retried } };
      },
    });
    // The retry answers only when the test lets it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fake = globalThis.fetch;
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      if (url.endsWith('/retry')) await held;
      return fake(url, init);
    });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    await screen.findByRole('row', { name: /Revoked key used/ });
    expect(within(screen.getByRole('row', { name: /Revoked key used/ })).getByRole('button', { name: 'Retry now: Revoked key used' })).toBeEnabled();
    expect(within(screen.getByRole('row', { name: /Test event/ })).queryByRole('button', { name: /Retry now/ })).toBeNull();

    const button = within(screen.getByRole('row', { name: /Key created/ })).getByRole('button', { name: 'Retry now: Key created' });
    await userEvent.click(button);
    expect(button).toBeDisabled();
    expect(button).toHaveTextContent('Retrying…');
    const reads = calls.filter((c) => c.method === 'GET').length;
    release();
    expect(await screen.findByText('Delivered on retry: HTTP 200 in 9 ms')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([{ method: 'POST', url: '/api/v1/webhooks/whk_1/deliveries/dlv_1/retry', body: {} }]);
    // The log is read again and shows the delivery delivered, with its new attempt.
    await waitFor(() => expect(within(screen.getByRole('row', { name: /Key created/ })).getByText('Delivered')).toBeInTheDocument());
    expect(calls.filter((c) => c.method === 'GET').length).toBeGreaterThan(reads);
    expect(within(screen.getByRole('row', { name: /Key created/ })).getByText('HTTP 200')).toBeInTheDocument();
    expect(within(screen.getByRole('row', { name: /Key created/ })).queryByRole('button', { name: /Retry now/ })).toBeNull();
  });

  it('says why a retry was not delivered and what happens next, or the server\'s refusal', async () => {
    let answer: { status?: number; json: unknown } = { json: {} };
    fakeApi({
      'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: DELIVERIES, nextCursor: null, prevCursor: null, total: 3 } }),
      'POST /api/v1/webhooks/whk_1/deliveries/dlv_3/retry': () => answer,
    });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    const button = await screen.findByRole('button', { name: 'Retry now: Revoked key used' });
    const pending = DELIVERIES[0] as Delivery;

    answer = { json: { data: { ...pending, nextAttemptAt: inFuture(120), attempts: [...pending.attempts, { at: ago(0), status: 500, durationMs: 7, error: null }] } } };
    await userEvent.click(button);
    expect(await screen.findByText('Retry not delivered: HTTP 500. Keysmith tries again in 2 minutes.')).toBeInTheDocument();

    await waitFor(() => expect(button).toBeEnabled());
    answer = { json: { data: { ...pending, status: 'failed', nextAttemptAt: null, attempts: [...pending.attempts, { at: ago(0), status: null, durationMs: 3, error: 'connection refused' }] } } };
    await userEvent.click(button);
    expect(await screen.findByText('Retry not delivered: connection refused. The 24 hours since the event are over: Keysmith makes no more attempts on its own.')).toBeInTheDocument();

    await waitFor(() => expect(button).toBeEnabled());
    answer = { status: 409, json: { error: { code: 'CONFLICT', message: 'This delivery was already delivered', requestId: 'req_1' } } };
    await userEvent.click(button);
    expect(await screen.findByText('This delivery was already delivered')).toBeInTheDocument();
  });

  it('offers no retry while the webhook is disabled', async () => {
    fakeApi({ 'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: DELIVERIES, nextCursor: null, prevCursor: null, total: 3 } }) });
    renderWithProviders(<DeliveryLog webhookId="whk_1" enabled={false} />);
    const button = await screen.findByRole('button', { name: 'Retry now: Key created' });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute('title', 'Enable the webhook to retry a delivery.');
  });

  it('says when nothing was sent yet', async () => {
    fakeApi({ 'GET /api/v1/webhooks/whk_1/deliveries': () => ({ json: { data: [], nextCursor: null, prevCursor: null, total: 0 } }) });
    renderWithProviders(<DeliveryLog webhookId="whk_1" />);
    expect(await screen.findByText('No deliveries yet')).toBeInTheDocument();
  });
});

import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import { AlertBell } from './alert-bell';

const count = (total: number) => () => ({ json: { data: [], nextCursor: null, prevCursor: null, total } });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('AlertBell', () => {
  it('links to the Alerts page with the unread count in its name, and announces the count', async () => {
    const calls = fakeApi({ 'GET /api/v1/alerts': count(1) });
    renderWithProviders(<AlertBell />);
    const bell = await screen.findByRole('link', { name: 'Alerts, 1 unread' });
    expect(bell).toHaveAttribute('href', '/alerts');
    expect(screen.getByRole('status')).toHaveTextContent('1 unread alert');
    expect(screen.getByRole('status')).toHaveAttribute('aria-live', 'polite');
    const query = new URLSearchParams(calls[0]?.url.split('?')[1]);
    expect(query.get('unread')).toBe('true');
    expect(query.get('limit')).toBe('1');
  });

  it('says none are unread and shows no badge at zero', async () => {
    fakeApi({ 'GET /api/v1/alerts': count(0) });
    renderWithProviders(<AlertBell />);
    const bell = await screen.findByRole('link', { name: 'Alerts, none unread' });
    expect(bell).not.toHaveTextContent('0');
    expect(screen.getByRole('status')).toBeEmptyDOMElement();
  });

  it('caps the badge at 99+ but names the real count', async () => {
    fakeApi({ 'GET /api/v1/alerts': count(1234) });
    renderWithProviders(<AlertBell />);
    const bell = await screen.findByRole('link', { name: 'Alerts, 1,234 unread' });
    expect(bell).toHaveTextContent('99+');
  });

  it('is hidden, without an error toast, for a team whose alerts this person may not read', async () => {
    const calls = fakeApi({ 'GET /api/v1/alerts': () => ({ status: 403, json: { error: { code: 'FORBIDDEN', message: 'Your role may not do this', requestId: 'req_1' } } }) });
    renderWithProviders(<AlertBell />);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await vi.waitFor(() => expect(screen.queryByRole('link')).toBeNull());
    expect(screen.queryByText('Your role may not do this')).toBeNull();
  });
});

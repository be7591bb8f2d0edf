import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { Webhook } from '../api';
import { CreateWebhookDialog, EditWebhookDialog } from './webhook-dialogs';

const SECRET = 'whsec_testSecret0123456789abcdefghijklmnopqrstuv';
const hook: Webhook = {
  id: 'whk_1', url: 'https://example.com/keysmith', events: ['key.created', 'key.revoked_used'], enabled: true,
  createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z', createdBy: { id: 'usr_1', name: 'Ada' },
};

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

describe('CreateWebhookDialog', () => {
  it('offers every event as a labelled checkbox, in two groups', () => {
    fakeApi({});
    renderWithProviders(<CreateWebhookDialog open onOpenChange={() => {}} />);
    expect(screen.getByRole('group', { name: 'Key changes' })).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Alerts' })).toBeInTheDocument();
    expect(screen.getAllByRole('checkbox')).toHaveLength(10); // nine events and Enabled
    const revokedUsed = screen.getByRole('checkbox', { name: 'Revoked key used' });
    expect(revokedUsed).not.toBeChecked();
    expect(revokedUsed).toHaveAccessibleDescription('key.revoked_used');
    expect(screen.getByRole('checkbox', { name: /Enabled/ })).toBeChecked();
    expect(screen.getByLabelText('Endpoint URL')).toHaveFocus();
  });

  it('says what is wrong with the URL and asks for an event, without calling the server', async () => {
    const calls = fakeApi({});
    renderWithProviders(<CreateWebhookDialog open onOpenChange={() => {}} />);
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByText('This field is required.')).toBeInTheDocument();
    expect(screen.getByText('Choose at least one event.')).toBeInTheDocument();
    expect(screen.getByLabelText('Endpoint URL')).toHaveAttribute('aria-invalid', 'true');

    await userEvent.type(screen.getByLabelText('Endpoint URL'), 'ftp://example.com/x');
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByText('Use an http or https URL.')).toBeInTheDocument();

    await userEvent.clear(screen.getByLabelText('Endpoint URL'));
    await userEvent.type(screen.getByLabelText('Endpoint URL'), 'https://me:pw@example.com/x');
    await userEvent.click(screen.getByRole('checkbox', { name: /Key created/ }));
    expect(screen.queryByText('Choose at least one event.')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByText('Leave the user name and password out of the URL.')).toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });

  it('creates it with the chosen events in order, then shows the secret once with a warning and Copy focused', async () => {
    const calls = fakeApi({ 'POST /api/v1/webhooks': () => ({ status: 201, json: { data: hook, secret: SECRET } }) });
    const onOpenChange = vi.fn();
    renderWithProviders(<CreateWebhookDialog open onOpenChange={onOpenChange} />);
    await userEvent.type(screen.getByLabelText('Endpoint URL'), ' https://example.com/keysmith ');
    await userEvent.click(screen.getByRole('checkbox', { name: /Revoked key used/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: /Key created/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));

    expect(await screen.findByRole('dialog', { name: 'Save the signing secret' })).toBeInTheDocument();
    expect(screen.getByLabelText('Webhook signing secret')).toHaveTextContent(SECRET);
    expect(screen.getByRole('alert')).toHaveTextContent('This secret will not be shown again.');
    expect(screen.getByRole('button', { name: 'Copy key to clipboard' })).toHaveFocus();
    expect(await screen.findByText('Webhook created')).toBeInTheDocument();
    expect(calls[0]?.body).toEqual({ url: 'https://example.com/keysmith', events: ['key.created', 'key.revoked_used'], enabled: true });
    expect(JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })).not.toContain(SECRET);

    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onOpenChange).toHaveBeenCalledWith(false);
  });

  it("shows the server's reason beside the URL (a metadata address) and keeps the form", async () => {
    fakeApi({
      'POST /api/v1/webhooks': () => ({
        status: 400,
        json: { error: { code: 'VALIDATION_FAILED', message: 'url: must not point at a cloud metadata host', details: [{ path: 'url', message: 'must not point at a cloud metadata host' }], requestId: 'req_1' } },
      }),
    });
    renderWithProviders(<CreateWebhookDialog open onOpenChange={() => {}} />);
    await userEvent.type(screen.getByLabelText('Endpoint URL'), 'http://metadata.google.internal/x');
    await userEvent.click(screen.getByRole('button', { name: 'Select all' }));
    expect(screen.getByRole('checkbox', { name: /Key unused/ })).toBeChecked();
    await userEvent.click(screen.getByRole('button', { name: 'Create webhook' }));
    expect(await screen.findByText('must not point at a cloud metadata host')).toBeInTheDocument();
    expect(screen.getByLabelText('Endpoint URL')).toHaveAttribute('aria-invalid', 'true');
    expect(await screen.findByText('url: must not point at a cloud metadata host')).toBeInTheDocument();
    expect(screen.queryByLabelText('Webhook signing secret')).toBeNull();
  });
});

describe('EditWebhookDialog', () => {
  it('starts from the webhook and sends only what changed', async () => {
    const calls = fakeApi({ 'PATCH /api/v1/webhooks/whk_1': () => ({ json: { data: { ...hook, enabled: false, events: ['key.created'] } } }) });
    const onClose = vi.fn();
    renderWithProviders(<EditWebhookDialog webhook={hook} onClose={onClose} />);
    expect(screen.getByLabelText('Endpoint URL')).toHaveValue('https://example.com/keysmith');
    expect(screen.getByRole('checkbox', { name: /Revoked key used/ })).toBeChecked();
    await userEvent.click(screen.getByRole('checkbox', { name: /Revoked key used/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: /Enabled/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ events: ['key.created'], enabled: false });
    expect(await screen.findByText('Webhook updated')).toBeInTheDocument();
  });
});

import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { ApiKey } from '../api';
import { CreateKeyDialog, RegenerateDialog } from './key-dialogs';

const RAW = 'pk_live_abcdefghijklmnopqrstuvwxyz012345ABCDEF';
const key: ApiKey = {
  id: 'key_1', name: 'GitHub CI', description: null, prefix: RAW.slice(0, 12), environment: 'live', status: 'active', scopes: [],
  createdAt: '2026-11-01T10:00:00.000Z', createdBy: null, expiresAt: null, lastUsedAt: null, revokedAt: null, usageCount: 0, credits: null, rateLimit: null, metadata: {},
};
const scopes = () => ({ json: { data: [{ name: 'read', description: 'Read' }, { name: 'write', description: 'Write' }] } });

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

describe('CreateKeyDialog', () => {
  it('creates a key and shows it once with a warning, a copy button and Done', async () => {
    const calls = fakeApi({ 'GET /api/v1/scopes': scopes, 'POST /api/v1/keys': () => ({ status: 201, json: { data: key, rawKey: RAW } }) });
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onOpenChange = vi.fn();
    const { client } = renderWithProviders(<CreateKeyDialog open onOpenChange={onOpenChange} />);
    await userEvent.type(screen.getByLabelText('Name'), 'GitHub CI');
    await userEvent.click(await screen.findByLabelText('write'));
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByText('This key will not be shown again. Save it now.');
    expect(screen.getByLabelText('Your new API key')).toHaveTextContent(RAW);
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({ name: 'GitHub CI', scopes: ['write'] });

    await userEvent.click(screen.getByRole('button', { name: 'Copy key to clipboard' }));
    expect(writeText).toHaveBeenCalledWith(RAW);
    expect(await screen.findByText('Copied')).toBeInTheDocument();

    // The raw key is in no storage and no cache entry.
    expect(JSON.stringify({ ...localStorage })).not.toContain(RAW);
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(RAW);
    expect(JSON.stringify(client.getQueryCache().getAll().map((q) => q.state.data))).not.toContain(RAW);
    expect(JSON.stringify(client.getMutationCache().getAll().map((m) => m.state.data))).not.toContain(RAW);

    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onOpenChange).toHaveBeenCalledWith(false);
  });

  it('shows a required name inline without calling the server', async () => {
    const calls = fakeApi({ 'GET /api/v1/scopes': scopes });
    renderWithProviders(<CreateKeyDialog open onOpenChange={() => {}} />);
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByText('This field is required.')).toBeInTheDocument();
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it("shows the server's field errors inline and its message as a toast", async () => {
    fakeApi({
      'GET /api/v1/scopes': scopes,
      'POST /api/v1/keys': () => ({ status: 400, json: { error: { code: 'VALIDATION_FAILED', message: 'name: already used here', details: [{ path: 'name', message: 'already used here' }] } } }),
    });
    renderWithProviders(<CreateKeyDialog open onOpenChange={() => {}} />);
    await userEvent.type(screen.getByLabelText('Name'), 'Dup');
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByText('already used here')).toBeInTheDocument();
    expect(await screen.findByText('name: already used here')).toBeInTheDocument();
    expect(screen.queryByLabelText('Your new API key')).toBeNull();
  });
});

describe('RegenerateDialog', () => {
  it('asks first, sends the chosen grace period, then shows the new key once', async () => {
    const calls = fakeApi({ 'POST /api/v1/keys/key_1/regenerate': () => ({ json: { data: key, rawKey: RAW } }) });
    const onClose = vi.fn();
    renderWithProviders(<RegenerateDialog apiKey={key} onClose={onClose} />);
    const dialog = screen.getByRole('alertdialog');
    expect(dialog).toHaveTextContent('Regenerate GitHub CI?');
    await userEvent.selectOptions(within(dialog).getByLabelText('Keep the old key working for'), '86400');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Regenerate' }));
    await waitFor(() => expect(screen.getByLabelText('Your new API key')).toHaveTextContent(RAW));
    expect(calls[0]?.body).toEqual({ expireOldAfterSeconds: 86400 });
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onClose).toHaveBeenCalled();
  });

  it('does nothing when cancelled', async () => {
    const calls = fakeApi({});
    const onClose = vi.fn();
    renderWithProviders(<RegenerateDialog apiKey={key} onClose={onClose} />);
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onClose).toHaveBeenCalled();
    expect(calls).toHaveLength(0);
  });
});

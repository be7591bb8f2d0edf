import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { ProviderKey } from '../api';
import { AddProviderKeyDialog } from './provider-key-dialogs';

const TYPES = [
  { id: 'openai', label: 'OpenAI', category: 'ai' },
  { id: 'anthropic', label: 'Anthropic', category: 'ai' },
  { id: 'support_system', label: 'Support System', category: 'support' },
  { id: 'google_translate', label: 'Google Translate', category: 'support' },
  { id: 'exa', label: 'Exa', category: 'search' },
];
const types = () => ({ json: { data: TYPES } });
const created: ProviderKey = {
  id: 'pvk_1', type: 'openai', description: 'OpenAI production', maskedKey: 'sk-…Wxyz',
  createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z', createdBy: null,
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('AddProviderKeyDialog', () => {
  it('offers the types grouped by category and takes the key in a password field', async () => {
    fakeApi({ 'GET /api/v1/provider-keys/types': types });
    renderWithProviders(<AddProviderKeyDialog open onOpenChange={() => {}} />);
    const select = screen.getByLabelText('Type');
    await within(select).findByRole('option', { name: 'OpenAI' });
    const optionsOf = (group: string) => within(within(select).getByRole('group', { name: group })).getAllByRole('option').map((o) => o.textContent);
    expect(within(select).getAllByRole('group')).toHaveLength(3);
    expect(optionsOf('AI')).toEqual(['OpenAI', 'Anthropic']);
    expect(optionsOf('Support')).toEqual(['Support System', 'Google Translate']);
    expect(optionsOf('Search')).toEqual(['Exa']);
    expect(screen.getByLabelText('Key')).toHaveAttribute('type', 'password');
  });

  it('shows type, description and key as required inline without calling the server', async () => {
    const calls = fakeApi({ 'GET /api/v1/provider-keys/types': types });
    renderWithProviders(<AddProviderKeyDialog open onOpenChange={() => {}} />);
    await within(screen.getByLabelText('Type')).findByRole('option', { name: 'OpenAI' });
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findAllByText('This field is required.')).toHaveLength(3);
    for (const label of ['Type', 'Description', 'Key']) expect(screen.getByLabelText(label)).toHaveAttribute('aria-invalid', 'true');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    // Fixing a field clears its error; the others stay until the next try.
    await userEvent.selectOptions(screen.getByLabelText('Type'), 'openai');
    expect(screen.getByLabelText('Type')).toHaveAttribute('aria-invalid', 'false');
    expect(screen.getAllByText('This field is required.')).toHaveLength(2);
  });

  it('refuses a description over 200 and a key over 4096 characters', async () => {
    const calls = fakeApi({ 'GET /api/v1/provider-keys/types': types });
    renderWithProviders(<AddProviderKeyDialog open onOpenChange={() => {}} />);
    await userEvent.selectOptions(screen.getByLabelText('Type'), await within(screen.getByLabelText('Type')).findByRole('option', { name: 'Exa' }));
    await userEvent.click(screen.getByLabelText('Description'));
    await userEvent.paste('d'.repeat(201));
    await userEvent.click(screen.getByLabelText('Key'));
    await userEvent.paste('k'.repeat(4097));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Use at most 200 characters.')).toBeInTheDocument();
    expect(screen.getByText('Use at most 4096 characters.')).toBeInTheDocument();
    expect(screen.getByLabelText('Type')).toHaveAttribute('aria-invalid', 'false');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('adds a credential, says so, and closes', async () => {
    const calls = fakeApi({ 'GET /api/v1/provider-keys/types': types, 'POST /api/v1/provider-keys': () => ({ status: 201, json: { data: created } }) });
    const onOpenChange = vi.fn();
    renderWithProviders(<AddProviderKeyDialog open onOpenChange={onOpenChange} />);
    await userEvent.selectOptions(screen.getByLabelText('Type'), await within(screen.getByLabelText('Type')).findByRole('option', { name: 'OpenAI' }));
    await userEvent.type(screen.getByLabelText('Description'), '  OpenAI production ');
    await userEvent.type(screen.getByLabelText('Key'), 'sk-abcdefghijklmnopWxyz');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('API key created successfully')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ type: 'openai', description: 'OpenAI production', key: 'sk-abcdefghijklmnopWxyz' });
    expect(onOpenChange).toHaveBeenCalledWith(false);
  });

  it("shows the server's details beside their fields and its message as a toast", async () => {
    fakeApi({
      'GET /api/v1/provider-keys/types': types,
      'POST /api/v1/provider-keys': () => ({
        status: 400,
        json: { error: { code: 'VALIDATION_FAILED', message: 'key: does not look like an OpenAI key', details: [{ path: 'key', message: 'does not look like an OpenAI key' }] } },
      }),
    });
    const onOpenChange = vi.fn();
    renderWithProviders(<AddProviderKeyDialog open onOpenChange={onOpenChange} />);
    await userEvent.selectOptions(screen.getByLabelText('Type'), await within(screen.getByLabelText('Type')).findByRole('option', { name: 'OpenAI' }));
    await userEvent.type(screen.getByLabelText('Description'), 'Prod');
    await userEvent.type(screen.getByLabelText('Key'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('does not look like an OpenAI key')).toBeInTheDocument();
    expect(screen.getByLabelText('Key')).toHaveAttribute('aria-invalid', 'true');
    expect(await screen.findByText('key: does not look like an OpenAI key')).toBeInTheDocument();
    expect(onOpenChange).not.toHaveBeenCalledWith(false);
  });
});

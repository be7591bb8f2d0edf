import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { ProviderKey } from '../api';
import { ProviderKeyTable, type ProviderKeyTableProps } from './provider-key-table';

const TYPES = [
  { id: 'openai', label: 'OpenAI', category: 'ai' },
  { id: 'anthropic', label: 'Anthropic', category: 'ai' },
  { id: 'exa', label: 'Exa', category: 'search' },
];
const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyzWxyz';
const item: ProviderKey = {
  id: 'pvk_1', type: 'openai', description: 'OpenAI production', maskedKey: 'sk-…Wxyz',
  createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-03T10:00:00.000Z', createdBy: { id: 'usr_1', name: 'Ada' },
};
const types = () => ({ json: { data: TYPES } });

function renderTable(props: Partial<ProviderKeyTableProps> = {}) {
  return renderWithProviders(<ProviderKeyTable items={[item]} types={TYPES} sort="-createdAt" onSort={() => {}} canWrite canReveal {...props} />);
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

describe('ProviderKeyTable', () => {
  it('shows description, type with its category, the masked key in monospace, and both dates', () => {
    fakeApi({});
    renderTable();
    const row = screen.getByRole('row', { name: /OpenAI production/ });
    expect(within(row).getByRole('button', { name: 'OpenAI production' })).toBeInTheDocument();
    expect(within(row).getByText('OpenAI')).toBeInTheDocument();
    expect(within(row).getByText('AI')).toBeInTheDocument();
    expect(within(row).getByText('sk-…Wxyz')).toHaveClass('font-mono');
    expect(within(row).getByText('Nov 1, 2026')).toBeInTheDocument();
    expect(within(row).getByText('Nov 3, 2026')).toBeInTheDocument();
  });

  it('sorts by description, type, created and updated from the headers, and announces the order', async () => {
    fakeApi({});
    const onSort = vi.fn();
    renderTable({ sort: 'description', onSort });
    expect(screen.getByRole('columnheader', { name: /Description/ })).toHaveAttribute('aria-sort', 'ascending');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Description' }));
    expect(onSort).toHaveBeenLastCalledWith('-description');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Type' }));
    expect(onSort).toHaveBeenLastCalledWith('type');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Created' }));
    expect(onSort).toHaveBeenLastCalledWith('createdAt');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Updated' }));
    expect(onSort).toHaveBeenLastCalledWith('updatedAt');
  });

  it('edits from the row: an empty key field keeps the stored key, so no key is sent', async () => {
    const calls = fakeApi({
      'GET /api/v1/provider-keys/types': types,
      'PATCH /api/v1/provider-keys/pvk_1': () => ({ json: { data: { ...item, description: 'OpenAI main' } } }),
    });
    renderTable();
    await userEvent.click(screen.getByRole('button', { name: 'OpenAI production' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit OpenAI production' });
    await within(within(dialog).getByLabelText('Type')).findByRole('option', { name: 'OpenAI' });
    expect(within(dialog).getByLabelText('Type')).toHaveValue('openai');
    expect(within(dialog).getByLabelText('Key')).toHaveValue('');
    expect(within(dialog).getByText('Leave empty to keep the current key.')).toBeInTheDocument();
    await userEvent.clear(within(dialog).getByLabelText('Description'));
    await userEvent.type(within(dialog).getByLabelText('Description'), 'OpenAI main');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('API key updated successfully')).toBeInTheDocument();
    const patch = calls.find((c) => c.method === 'PATCH');
    expect(patch?.body).toEqual({ type: 'openai', description: 'OpenAI main' });
    expect(patch?.body).not.toHaveProperty('key');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('sends a new key and type when they are changed, opened by a click anywhere on the row', async () => {
    const calls = fakeApi({
      'GET /api/v1/provider-keys/types': types,
      'PATCH /api/v1/provider-keys/pvk_1': () => ({ json: { data: { ...item, type: 'anthropic' } } }),
    });
    renderTable();
    await userEvent.click(screen.getByText('sk-…Wxyz'));
    const dialog = await screen.findByRole('dialog');
    await userEvent.selectOptions(within(dialog).getByLabelText('Type'), await within(dialog).findByRole('option', { name: 'Anthropic' }));
    await userEvent.type(within(dialog).getByLabelText('Key'), 'sk-ant-new');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await screen.findByText('API key updated successfully');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ type: 'anthropic', description: 'OpenAI production', key: 'sk-ant-new' });
  });

  it('deletes only after confirmation', async () => {
    const calls = fakeApi({ 'DELETE /api/v1/provider-keys/pvk_1': () => ({ status: 204 }) });
    renderTable();
    await userEvent.click(screen.getByRole('button', { name: 'Delete OpenAI production' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog).toHaveTextContent('Delete OpenAI production?');
    expect(dialog).toHaveTextContent('The stored key is removed for good. This cannot be undone.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);

    await userEvent.click(screen.getByRole('button', { name: 'Delete OpenAI production' }));
    await userEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('API key deleted successfully')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/v1/provider-keys/pvk_1']);
  });

  it('shows a failed delete as a toast and keeps the confirmation open', async () => {
    fakeApi({ 'DELETE /api/v1/provider-keys/pvk_1': () => ({ status: 403, json: { error: { code: 'FORBIDDEN', message: 'Your role may not do this' } } }) });
    renderTable();
    await userEvent.click(screen.getByRole('button', { name: 'Delete OpenAI production' }));
    await userEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('Your role may not do this')).toBeInTheDocument();
    expect(screen.getByRole('alertdialog')).toBeInTheDocument();
  });

  it('reveals the key with a copy button, keeps it out of every cache and storage, and forgets it on close', async () => {
    const calls = fakeApi({ 'POST /api/v1/provider-keys/pvk_1/reveal': () => ({ json: { data: { key: SECRET } } }) });
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const { client, container } = renderTable();
    await userEvent.click(screen.getByRole('button', { name: 'Reveal OpenAI production' }));
    const dialog = await screen.findByRole('dialog', { name: 'Key of OpenAI production' });
    expect(within(dialog).getByLabelText('Credential value')).toHaveTextContent(SECRET);
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/v1/provider-keys/pvk_1/reveal']);

    await userEvent.click(within(dialog).getByRole('button', { name: 'Copy key to clipboard' }));
    expect(writeText).toHaveBeenCalledWith(SECRET);

    const caches = () => JSON.stringify([client.getQueryCache().getAll().map((q) => q.state.data), client.getMutationCache().getAll().map((m) => m.state.data)]);
    expect(caches()).not.toContain(SECRET);
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain(SECRET);
    expect(window.location.href).not.toContain(SECRET);

    await userEvent.click(within(dialog).getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(container.innerHTML).not.toContain(SECRET);
    expect(caches()).not.toContain(SECRET);

    // Showing it again asks the server again: nothing was kept.
    await userEvent.click(screen.getByRole('button', { name: 'Reveal OpenAI production' }));
    await screen.findByLabelText('Credential value');
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(document.body.innerHTML).not.toContain(SECRET));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(2);
  });

  it('shows a failed reveal as a toast with the server message and no dialog', async () => {
    fakeApi({ 'POST /api/v1/provider-keys/pvk_1/reveal': () => ({ status: 503, json: { error: { code: 'VAULT_UNAVAILABLE', message: 'The credential cannot be decrypted' } } }) });
    renderTable();
    await userEvent.click(screen.getByRole('button', { name: 'Reveal OpenAI production' }));
    expect(await screen.findByText('The credential cannot be decrypted')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('offers a read-only role no edit, reveal or delete', async () => {
    const calls = fakeApi({});
    renderTable({ canWrite: false, canReveal: false });
    const row = screen.getByRole('row', { name: /OpenAI production/ });
    expect(within(row).getByText('OpenAI production')).toBeInTheDocument();
    expect(within(row).queryByRole('button')).toBeNull();
    await userEvent.click(within(row).getByText('sk-…Wxyz'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls).toHaveLength(0);
  });

  it('shows Reveal without Delete to a role that may reveal but not write', () => {
    fakeApi({});
    renderTable({ canWrite: false, canReveal: true });
    expect(screen.getByRole('button', { name: 'Reveal OpenAI production' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete OpenAI production' })).toBeNull();
  });
});

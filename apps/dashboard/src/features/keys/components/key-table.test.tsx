import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { ApiKey } from '../api';
import { KeyTable } from './key-table';

const base: ApiKey = {
  id: 'key_1',
  name: 'GitHub CI',
  description: 'deploys',
  prefix: 'pk_live_8hT3',
  environment: 'live',
  status: 'active',
  scopes: ['read'],
  createdAt: '2026-11-01T10:00:00.000Z',
  createdBy: { id: 'usr_1', name: 'Ada' },
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  usageCount: 1234,
  credits: { limit: 100, remaining: 41, refill: null },
  rateLimit: null,
  metadata: {},
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('KeyTable', () => {
  it('shows name, monospace prefix, calls, credits, "Never" and the status of each key', () => {
    renderWithProviders(<KeyTable keys={[base]} sort="-createdAt" onSort={() => {}} canWrite />);
    const row = screen.getByRole('row', { name: /GitHub CI/ });
    expect(within(row).getByText('pk_live_8hT3…')).toHaveClass('font-mono');
    expect(within(row).getByText('1,234')).toBeInTheDocument();
    expect(within(row).getByText('41 / 100')).toBeInTheDocument();
    expect(within(row).getAllByText('Never')).toHaveLength(2);
    expect(within(row).getByText('Active')).toBeInTheDocument();
  });

  it('strikes through a revoked key and labels it Revoked', () => {
    renderWithProviders(<KeyTable keys={[{ ...base, status: 'revoked', revokedAt: '2026-11-02T00:00:00.000Z' }]} sort="-createdAt" onSort={() => {}} canWrite />);
    const link = screen.getByRole('link', { name: /^Revoked:\s*GitHub CI$/ });
    expect(link).toHaveClass('line-through');
    expect(screen.getByText('Revoked', { selector: 'span.ring-1' })).toBeInTheDocument();
  });

  it('shows "… ago" for a key used before and the expiry date', () => {
    const lastUsedAt = new Date(Date.now() - 10 * 3600 * 1000).toISOString();
    renderWithProviders(<KeyTable keys={[{ ...base, lastUsedAt, expiresAt: '2027-01-15T00:00:00.000Z' }]} sort="-createdAt" onSort={() => {}} canWrite />);
    expect(screen.getByText('10 hours ago')).toBeInTheDocument();
    expect(screen.getByText('Jan 15, 2027')).toBeInTheDocument();
  });

  it('toggles the sort direction from its column header and announces it', async () => {
    const onSort = vi.fn();
    renderWithProviders(<KeyTable keys={[base]} sort="name" onSort={onSort} canWrite />);
    const header = screen.getByRole('columnheader', { name: /Name/ });
    expect(header).toHaveAttribute('aria-sort', 'ascending');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Name' }));
    expect(onSort).toHaveBeenCalledWith('-name');
    await userEvent.click(screen.getByRole('button', { name: 'Sort by Last used' }));
    expect(onSort).toHaveBeenCalledWith('lastUsedAt');
  });

  it('asks before revoking and revokes only after confirmation', async () => {
    const calls = fakeApi({ 'DELETE /api/v1/keys/key_1': () => ({ json: { data: { ...base, status: 'revoked' } } }) });
    renderWithProviders(<KeyTable keys={[base]} sort="-createdAt" onSort={() => {}} canWrite />);
    await userEvent.click(screen.getByRole('button', { name: 'Actions for GitHub CI' }));
    await userEvent.click(await screen.findByRole('menuitem', { name: 'Revoke' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog).toHaveTextContent('Are you sure you want to revoke this key? Services using it will break immediately.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Actions for GitHub CI' }));
    await userEvent.click(await screen.findByRole('menuitem', { name: 'Revoke' }));
    await userEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Revoke' }));
    await screen.findByText('Key revoked');
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/v1/keys/key_1']);
  });

  it('offers no change actions to a role without keys.write', async () => {
    renderWithProviders(<KeyTable keys={[base]} sort="-createdAt" onSort={() => {}} canWrite={false} />);
    await userEvent.click(screen.getByRole('button', { name: 'Actions for GitHub CI' }));
    await screen.findByRole('menuitem', { name: 'View details' });
    expect(screen.queryByRole('menuitem', { name: 'Revoke' })).toBeNull();
    expect(screen.queryByRole('menuitem', { name: 'Regenerate' })).toBeNull();
  });
});

import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../../../lib/session';
import { fakeApi, renderWithProviders } from '../../../test/render';
import type { AlertRules } from '../api';
import { AlertSettingsPage } from './alert-settings-page';

function session(role: string, permissions: string[]): () => { json: Me } {
  return () => ({ json: { user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', createdAt: '2026-11-01T10:00:00.000Z' }, teams: [{ id: 'team_1', name: 'Ada', role, permissions }] } });
}
const RULES: AlertRules = {
  'key.new_network': { enabled: true },
  'key.revoked_used': { enabled: true },
  'key.usage_spike': { enabled: true, factor: 3, minCalls: 100 },
  'key.credits_low': { enabled: true, percent: 10 },
  'key.expiring_soon': { enabled: true, days: 7 },
  'key.unused': { enabled: false, days: 30 },
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('AlertSettingsPage', () => {
  it("shows each rule with its numbers and saves the changed rules", async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/session': session('owner', ['keys.read', 'members.manage']),
      'GET /api/v1/alert-settings': () => ({ json: { rules: RULES } }),
      'PUT /api/v1/alert-settings': (body) => ({ json: body }),
    });
    renderWithProviders(<AlertSettingsPage />);
    const unused = await screen.findByRole('checkbox', { name: /Key unused/ });
    expect(unused).not.toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Revoked key used' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Revoked key used' })).toHaveAccessibleDescription('Someone tried a key after it was revoked.');
    expect(screen.getByLabelText('Spike factor')).toHaveValue('3');
    expect(screen.getByLabelText('Threshold (%)')).toHaveValue('10');

    await userEvent.click(unused);
    await userEvent.clear(screen.getByLabelText('Threshold (%)'));
    await userEvent.type(screen.getByLabelText('Threshold (%)'), '25');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Alert settings saved')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ rules: { ...RULES, 'key.unused': { enabled: true, days: 30 }, 'key.credits_low': { enabled: true, percent: 25 } } });
  });

  it('refuses numbers out of range beside their fields without saving', async () => {
    const calls = fakeApi({
      'GET /api/v1/auth/session': session('admin', ['keys.read', 'members.manage']),
      'GET /api/v1/alert-settings': () => ({ json: { rules: RULES } }),
    });
    renderWithProviders(<AlertSettingsPage />);
    const factor = await screen.findByLabelText('Spike factor');
    await userEvent.clear(factor);
    await userEvent.type(factor, '0.5');
    await userEvent.clear(screen.getByLabelText('Threshold (%)'));
    await userEvent.type(screen.getByLabelText('Threshold (%)'), '150');
    await userEvent.clear(screen.getByLabelText('Minimum calls'));
    await userEvent.type(screen.getByLabelText('Minimum calls'), '2.5');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Enter a number from 1 to 1,000.')).toBeInTheDocument();
    expect(screen.getByText('Enter a number from 1 to 99.')).toBeInTheDocument();
    expect(screen.getByText('Enter a whole number.')).toBeInTheDocument();
    expect(factor).toHaveAttribute('aria-invalid', 'true');
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);
  });

  it('shows the rules to a developer read-only', async () => {
    fakeApi({
      'GET /api/v1/auth/session': session('developer', ['keys.read', 'keys.write']),
      'GET /api/v1/alert-settings': () => ({ json: { data: { rules: RULES } } }),
    });
    renderWithProviders(<AlertSettingsPage />);
    expect(await screen.findByText('Only owners and admins can change alert settings.')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText('Spike factor')).toBeDisabled());
    expect(screen.getByRole('checkbox', { name: /Revoked key used/ })).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
  });
});

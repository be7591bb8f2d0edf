import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiFromPage, newSession, screenshot, SERVICE_TOKEN, signUp, useServerAndBrowser } from './harness';

// Usage (and with it what the alert rules see) is flushed every 200 ms instead of every second.
const env = useServerAndBrowser({ KEYSMITH_USAGE_FLUSH_MS: '200' });

/** A service verifying a key, as a backend would: the service token, and its caller's address and user agent. */
async function verify(baseUrl: string, key: string, context: { ip: string; userAgent: string } = { ip: '203.0.113.7', userAgent: 'e2e-billing-service/1.0' }): Promise<{ valid: boolean; code: string }> {
  const res = await fetch(`${baseUrl}/api/v1/keys/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, context }),
  });
  return (await res.json()) as { valid: boolean; code: string };
}

async function createKey(page: Page, name: string): Promise<{ id: string; rawKey: string }> {
  const created = await apiFromPage<{ data: { id: string }; rawKey: string }>(page, 'POST', '/api/v1/keys', { name });
  expect(created.status).toBe(201);
  return { id: created.json.data.id, rawKey: created.json.rawKey };
}

describe('alerts', () => {
  it('raises an alert when a revoked key is used: the bell shows 1 and the Alerts page lists it', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Alma Alerts', 'alma@example.com');
    await page.getByRole('link', { name: 'Alerts, none unread' }).waitFor();

    // A key is revoked, and a service still presents it.
    const oldKey = await createKey(page, 'Old CI');
    expect((await apiFromPage(page, 'DELETE', `/api/v1/keys/${oldKey.id}`)).status).toBeLessThan(300);
    expect(await verify(env.server.baseUrl, oldKey.rawKey)).toMatchObject({ valid: false, code: 'REVOKED' });

    // The bell asks again on its own (every 20 s); no reload.
    await page.getByRole('link', { name: 'Alerts, 1 unread' }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'alerts-bell');

    await page.getByRole('link', { name: 'Alerts, 1 unread' }).click();
    await page.waitForURL(/\/alerts$/);
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    const list = page.getByRole('list', { name: 'Alerts' });
    const item = list.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Revoked key used' }) });
    await item.waitFor();
    await item.getByText('Critical', { exact: true }).waitFor();
    await item.getByText('Unread', { exact: true }).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(1);
    await screenshot(page, 'alerts-page');

    // The type filter keeps it for its type and hides it for another.
    await page.getByRole('combobox', { name: 'Filter by type' }).selectOption({ label: 'Usage spike' });
    await page.waitForURL(/type=key\.usage_spike/);
    await page.getByText('No alerts match').waitFor();
    await page.getByRole('combobox', { name: 'Filter by type' }).selectOption({ label: 'Revoked key used' });
    await item.waitFor();

    // It is on the key's page too.
    await item.getByRole('link', { name: 'View key' }).click();
    await page.waitForURL(new RegExp(`/keys/${oldKey.id}$`));
    const keyAlerts = page.getByRole('list', { name: 'Alerts for this key' });
    await keyAlerts.getByRole('heading', { name: 'Revoked key used' }).waitFor();

    // Mark read: the bell follows at once.
    await keyAlerts.getByRole('button', { name: 'Mark “Revoked key used” as read' }).click();
    await page.getByText('Alert marked as read').waitFor();
    await page.getByRole('link', { name: 'Alerts, none unread' }).waitFor();
    const unread = await apiFromPage<{ total: number }>(page, 'GET', '/api/v1/alerts?unread=true');
    expect(unread.json.total).toBe(0);

    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows the networks and user agents a key was used from, changes the alert settings, and reads in German and on a phone", async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Nils Networks', 'nils@example.com');
    const key = await createKey(page, 'Billing');
    expect((await verify(env.server.baseUrl, key.rawKey, { ip: '198.51.100.23', userAgent: 'e2e-billing-service/1.0' })).valid).toBe(true);

    await page.goto(`${env.server.baseUrl}/keys/${key.id}`);
    const section = page.getByRole('region', { name: 'Where this key is used' });
    await section.waitFor();
    // Seen after the next usage flush; reload until it is there.
    await expect
      .poll(
        async () => {
          await page.reload();
          await section.waitFor();
          return section.getByRole('cell', { name: 'e2e-billing-service/1.0' }).count();
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(1);
    await section.getByRole('cell', { name: '198.51.100.0/24' }).waitFor();
    await screenshot(page, 'key-detail-activity');

    // Alert settings: the key.unused rule off, its days changed, saved.
    await page.goto(`${env.server.baseUrl}/alerts`);
    await page.getByRole('link', { name: 'Alert settings' }).click();
    await page.waitForURL(/\/alerts\/settings$/);
    await page.getByRole('checkbox', { name: 'Key unused' }).uncheck();
    const days = page.getByRole('group', { name: 'Key unused' }).getByLabel('Days', { exact: true });
    await days.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Enter a number from 1 to 3,650.').waitFor();
    await days.fill('45');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Alert settings saved').waitFor();
    await screenshot(page, 'alert-settings');
    const saved = await apiFromPage<{ rules?: Record<string, unknown>; data?: { rules: Record<string, unknown> } }>(page, 'GET', '/api/v1/alert-settings');
    expect((saved.json.data ?? saved.json).rules?.['key.unused']).toEqual({ enabled: false, days: 45 });

    // German.
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Einstellungen für Warnmeldungen' }).waitFor();
    await page.getByRole('link', { name: /^Warnmeldungen, / }).click();
    await page.getByRole('heading', { level: 1, name: 'Warnmeldungen' }).waitFor();
    await page.getByRole('combobox', { name: 'Nach Typ filtern' }).waitFor();
    await screenshot(page, 'alerts-german');
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');

    // A phone: nothing sticks out sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, 'alerts-phone');

    expect(errors).toEqual([]);
    await context.close();
  });
});

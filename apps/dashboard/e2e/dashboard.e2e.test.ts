import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiFromPage, newSession, screenshot, SERVICE_TOKEN, signUp, useServerAndBrowser } from './harness';

const env = useServerAndBrowser();

/** No raw key anywhere in the page, its storage or its URL; while the one-time view is open, exactly there. */
async function expectNoRawKeyOutsideOneTimeView(page: Page, rawKeys: string[]): Promise<void> {
  const html = await page.content();
  const oneTime = page.getByLabel('Your new API key');
  const shown = (await oneTime.count()) > 0 ? await oneTime.innerText() : null;
  const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, url: location.href }));
  for (const raw of rawKeys) {
    expect(storage).not.toContain(raw);
    const occurrences = html.split(raw).length - 1;
    if (raw === shown) expect(occurrences).toBe(1);
    else expect(occurrences).toBe(0);
  }
}

async function verify(baseUrl: string, key: string): Promise<{ valid: boolean; code: string }> {
  const res = await fetch(`${baseUrl}/api/v1/keys/verify`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  return (await res.json()) as { valid: boolean; code: string };
}

function row(page: Page, name: string) {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name: new RegExp(`^(Revoked: )?${name}$`) }) });
}

describe('the API keys dashboard', () => {
  it('takes a person from sign-up through the whole life of a key', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    const rawKeys: string[] = [];
    await page.goto(`${env.server.baseUrl}/keys`);
    await page.waitForURL(/\/login\?next=%2Fkeys/);
    await screenshot(page, 'login');
    await signUp(page, env.server.baseUrl, 'Ada Lovelace', 'ada@example.com');
    await page.getByText('No API keys yet').waitFor();
    await screenshot(page, 'keys-empty');

    // Create, copy, Done.
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    await page.getByRole('dialog').getByLabel('Name').fill('GitHub CI');
    await page.getByRole('dialog').getByLabel('Description').fill('deploys the site');
    await page.getByRole('dialog').getByLabel('read').check();
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('This key will not be shown again. Save it now.').waitFor();
    const raw = await page.getByLabel('Your new API key').innerText();
    rawKeys.push(raw);
    expect(raw).toMatch(/^pk_live_[0-9A-Za-z]{38}$/);
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);
    await screenshot(page, 'key-created-one-time-view');
    await page.getByRole('button', { name: 'Copy key to clipboard' }).click();
    await page.getByText('Copied', { exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(raw);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const keyRow = row(page, 'GitHub CI');
    await keyRow.getByText(`${raw.slice(0, 12)}…`).waitFor();
    await keyRow.getByText('Active').waitFor();
    await expect.poll(() => keyRow.getByText('Never').count()).toBe(2); // last used, expires
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);
    await screenshot(page, 'keys-table');

    // A service verifies it: last used and 1 call appear.
    expect((await verify(env.server.baseUrl, raw)).code).toBe('VALID');
    await page.reload();
    await keyRow.getByText(/second(s)? ago/).waitFor();
    await expect.poll(() => keyRow.getByRole('cell', { name: '1', exact: true }).count()).toBe(1);
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);

    // Deactivate, activate.
    await keyRow.getByRole('button', { name: 'Actions for GitHub CI' }).click();
    await page.getByRole('menuitem', { name: 'Deactivate' }).click();
    await keyRow.getByText('Inactive').waitFor();
    expect((await verify(env.server.baseUrl, raw)).code).toBe('INACTIVE');
    await keyRow.getByRole('button', { name: 'Actions for GitHub CI' }).click();
    await page.getByRole('menuitem', { name: 'Activate' }).click();
    await keyRow.getByText('Active').waitFor();
    expect((await verify(env.server.baseUrl, raw)).code).toBe('VALID');
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);

    // Edit: the description changes, and the row's tooltip shows it.
    await keyRow.getByRole('button', { name: 'Actions for GitHub CI' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog');
    await edit.getByLabel('Description').fill('deploys the docs too');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Key updated').waitFor();
    await keyRow.getByRole('link').hover();
    await page.getByRole('tooltip').filter({ hasText: 'deploys the docs too' }).waitFor();
    await page.mouse.move(0, 0);

    // Regenerate: confirm, then the one-time view with a new key.
    await keyRow.getByRole('button', { name: 'Actions for GitHub CI' }).click();
    await page.getByRole('menuitem', { name: 'Regenerate' }).click();
    await page.getByRole('alertdialog').getByText('Regenerate GitHub CI?').waitFor();
    await screenshot(page, 'regenerate-confirm');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Regenerate' }).click();
    await page.getByText('This key will not be shown again. Save it now.').waitFor();
    const regenerated = await page.getByLabel('Your new API key').innerText();
    rawKeys.push(regenerated);
    expect(regenerated).not.toBe(raw);
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);
    await page.getByRole('button', { name: 'Done' }).click();
    await keyRow.getByText(`${regenerated.slice(0, 12)}…`).waitFor();
    expect((await verify(env.server.baseUrl, raw)).code).toBe('REVOKED');
    expect((await verify(env.server.baseUrl, regenerated)).code).toBe('VALID');
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);

    // Revoke, confirmed: struck through and Revoked.
    await keyRow.getByRole('button', { name: 'Actions for GitHub CI' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await page.getByText('Are you sure you want to revoke this key? Services using it will break immediately.').waitFor();
    await screenshot(page, 'revoke-confirm');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await keyRow.getByText('Revoked', { exact: true }).waitFor();
    const decoration = await keyRow.getByRole('link').evaluate((el) => getComputedStyle(el).textDecorationLine);
    expect(decoration).toContain('line-through');
    expect((await verify(env.server.baseUrl, regenerated)).code).toBe('REVOKED');
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);
    await screenshot(page, 'key-revoked');

    // Key detail page.
    await keyRow.getByRole('link').click();
    await page.getByRole('heading', { name: 'GitHub CI', exact: true }).waitFor();
    await page.getByText('Calls in the last 30 days').waitFor();
    await page.getByText('key.revoked').waitFor();
    await screenshot(page, 'key-detail');
    await expectNoRawKeyOutsideOneTimeView(page, rawKeys);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('pages through 25 keys, searches, and switches to German', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Grace Hopper', 'grace@example.com');
    for (let i = 1; i <= 25; i += 1) {
      const res = await apiFromPage(page, 'POST', '/api/v1/keys', { name: `Service ${String(i).padStart(2, '0')}` });
      expect(res.status).toBe(201);
    }
    await page.reload();
    await page.getByText('25 keys').waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(21); // header + 20
    const previous = page.getByRole('button', { name: 'Previous' });
    const next = page.getByRole('button', { name: 'Next' });
    expect(await previous.isDisabled()).toBe(true);
    await next.click();
    await page.getByRole('link', { name: 'Service 01' }).waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(6);
    expect(await next.isDisabled()).toBe(true);
    await previous.click();
    await page.getByRole('link', { name: 'Service 25' }).waitFor();
    expect(await previous.isDisabled()).toBe(true);
    await screenshot(page, 'keys-pagination');

    await page.getByRole('searchbox', { name: 'Search keys' }).fill('service 07');
    await page.waitForURL(/q=service\+07/);
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    await page.getByRole('link', { name: 'Service 07' }).waitFor();
    await screenshot(page, 'keys-search');

    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { name: 'API-Schlüssel' }).waitFor();
    await page.getByRole('button', { name: 'API-Schlüssel erstellen' }).waitFor();
    await page.getByRole('row').nth(1).getByText('Aktiv', { exact: true }).waitFor();
    await screenshot(page, 'keys-german');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a viewer the keys but no create button, also on a phone', async () => {
    const owner = await newSession(env.browser, env.server.baseUrl);
    await signUp(owner.page, env.server.baseUrl, 'Owner', 'owner@example.com');
    const team = await apiFromPage<{ data: { id: string } }>(owner.page, 'GET', '/api/v1/team');
    await apiFromPage(owner.page, 'POST', '/api/v1/keys', { name: 'Shared key' });
    const invite = await apiFromPage<{ inviteToken: string }>(owner.page, 'POST', '/api/v1/team/invitations', { email: 'viewer@example.com', role: 'viewer' });
    expect(invite.status).toBe(201);

    const viewer = await newSession(env.browser, env.server.baseUrl, { width: 390, height: 844 });
    await signUp(viewer.page, env.server.baseUrl, 'Viewer', 'viewer@example.com');
    await viewer.page.goto(`${env.server.baseUrl}/invitations/accept?token=${invite.json.inviteToken}`);
    await viewer.page.getByRole('button', { name: 'Accept invitation' }).click();
    await viewer.page.waitForURL(/\/keys$/);
    await viewer.page.getByRole('link', { name: 'Shared key' }).waitFor();
    expect(await viewer.page.getByRole('combobox', { name: 'Team' }).inputValue()).toBe(team.json.data.id);
    await expect.poll(() => viewer.page.getByRole('button', { name: 'Create API key' }).count()).toBe(0);
    await viewer.page.getByText('Your role can view keys but not create or change them.').waitFor();
    // Nothing sticks out sideways at phone width (wide tables scroll inside their own box).
    for (const path of ['/keys', '/team/members', '/team/usage']) {
      await viewer.page.goto(`${env.server.baseUrl}${path}`);
      await viewer.page.getByRole('heading', { level: 1 }).waitFor();
      expect(await viewer.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    }
    await screenshot(viewer.page, 'viewer-phone');
    expect(owner.errors).toEqual([]);
    expect(viewer.errors).toEqual([]);
    await owner.context.close();
    await viewer.context.close();
  });
});

import { describe, expect, it } from 'vitest';
import { apiFromPage, newSession, screenshot, SERVICE_TOKEN, signUp, useServerAndBrowser } from './harness';

const env = useServerAndBrowser();

describe('team pages', () => {
  it('invites a member with a one-time link, changes the role, removes them after confirming', async () => {
    const owner = await newSession(env.browser, env.server.baseUrl);
    await signUp(owner.page, env.server.baseUrl, 'Olivia Owner', 'olivia@example.com');
    const invitee = await newSession(env.browser, env.server.baseUrl);
    await signUp(invitee.page, env.server.baseUrl, 'Ivan Invitee', 'ivan@example.com');

    const page = owner.page;
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('button', { name: 'Invite member' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email').fill('ivan@example.com');
    await dialog.getByLabel('Role').selectOption('developer');
    await dialog.getByRole('button', { name: 'Create invitation' }).click();
    await dialog.getByText('It is shown only once').waitFor();
    const link = await dialog.getByLabel('Invitation link').innerText();
    expect(link).toMatch(/\/invitations\/accept\?token=/);
    await screenshot(page, 'members-invite-link');
    await dialog.getByRole('button', { name: 'Done' }).click();

    await invitee.page.goto(link);
    await invitee.page.getByRole('button', { name: 'Accept invitation' }).click();
    await invitee.page.waitForURL(/\/keys$/);

    await page.reload();
    const row = page.getByRole('row').filter({ hasText: 'ivan@example.com' });
    expect(await row.getByRole('combobox', { name: 'Role of Ivan Invitee' }).inputValue()).toBe('developer');
    await row.getByRole('combobox', { name: 'Role of Ivan Invitee' }).selectOption('viewer');
    await page.getByText('Role changed').waitFor();
    const members = await apiFromPage<{ data: Array<{ email: string; role: string }> }>(page, 'GET', '/api/v1/team/members');
    expect(members.json.data.find((m) => m.email === 'ivan@example.com')?.role).toBe('viewer');
    await screenshot(page, 'members');

    await row.getByRole('button', { name: 'Remove Ivan Invitee' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByText('They lose access to this team at once.').waitFor();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Member removed').waitFor();
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'ivan@example.com' }).count()).toBe(0);

    expect(owner.errors).toEqual([]);
    expect(invitee.errors).toEqual([]);
    await owner.context.close();
    await invitee.context.close();
  });

  it('shows usage totals and the audit log filtered by action, and pages it', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Uma Usage', 'uma@example.com');
    const created = await apiFromPage<{ rawKey: string }>(page, 'POST', '/api/v1/keys', { name: 'Metered' });
    for (let i = 0; i < 3; i += 1) {
      await fetch(`${env.server.baseUrl}/api/v1/keys/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: created.json.rawKey }),
      });
    }
    for (let i = 0; i < 30; i += 1) await apiFromPage(page, 'PATCH', '/api/v1/team', { name: `Team v${i}` });

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage', exact: true }).waitFor();
    const valid = page.getByRole('term').filter({ hasText: 'Valid' }).locator('xpath=..');
    await expect.poll(() => valid.innerText()).toContain('3');
    await page.getByRole('link', { name: 'Metered' }).waitFor();
    await screenshot(page, 'usage');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('32 entries').waitFor(); // team.created, key.created, 30 × team.updated
    const next = page.getByRole('button', { name: 'Next' });
    const previous = page.getByRole('button', { name: 'Previous' });
    expect(await previous.isDisabled()).toBe(true);
    await next.click();
    await expect.poll(() => page.getByRole('row').count()).toBe(8); // header + 7
    await previous.click();
    await page.getByRole('combobox', { name: 'Filter by action' }).selectOption('key.created');
    await page.getByText('1 entry').waitFor();
    await page.getByRole('cell', { name: 'key.created' }).waitFor();
    await screenshot(page, 'audit-log');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('brings a person back where they were after signing in again, and dialogs keep focus until Escape', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Rita Return', 'rita@example.com', 'another good password');
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getByLabel('Name').evaluate((el) => el === document.activeElement)).toBe(true);
    for (let i = 0; i < 15; i += 1) {
      await page.keyboard.press('Tab');
      expect(await dialog.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto(`${env.server.baseUrl}/team/usage`);
    await page.waitForURL(/\/login\?next=%2Fteam%2Fusage/);
    await page.getByLabel('Email').fill('rita@example.com');
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong e-mail or password' }).waitFor();
    await page.getByLabel('Password').fill('another good password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/team\/usage$/);
    await page.getByRole('heading', { name: 'Usage', exact: true }).waitFor();
    // The wrong password is answered 401 by design; nothing else may log an error.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await context.close();
  });
});

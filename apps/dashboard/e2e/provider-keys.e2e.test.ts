import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiFromPage, newSession, screenshot, signUp, useServerAndBrowser } from './harness';

const env = useServerAndBrowser();

const OPENAI = 'sk-proj-e2eOpenAIsecret0123456789Wxyz';
const ANTHROPIC = 'sk-ant-e2eAnthropicSecret987654321Abcd';
const ANTHROPIC_ROTATED = 'sk-ant-rotated-e2e-0000000000Zz99';
const SECRETS = [OPENAI, ANTHROPIC, ANTHROPIC_ROTATED];

/** The row whose description is `description` (a button for editors, text for others). */
function row(page: Page, description: string) {
  return page.getByRole('row').filter({ has: page.getByRole('cell', { name: description, exact: true }) });
}

/** No credential in the page, its storage or its URL; while a reveal dialog shows one, exactly there. */
async function expectNoSecretOutsideReveal(page: Page): Promise<void> {
  const html = await page.content();
  const revealed = page.getByLabel('Credential value', { exact: true });
  const shown = (await revealed.count()) > 0 ? await revealed.innerText() : null;
  const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, url: location.href, history: history.state as unknown }));
  for (const secret of SECRETS) {
    expect(storage).not.toContain(secret);
    expect(html.split(secret).length - 1).toBe(secret === shown ? 1 : 0);
  }
}

/** The type select's choices as the person sees them: category headings (optgroups) and their options. */
async function typeGroups(page: Page): Promise<Record<string, string[]>> {
  // Playwright's role queries do not expose <optgroup>, so read the grouping from the select found by its label.
  return page
    .getByRole('dialog')
    .getByLabel('Type', { exact: true })
    .evaluate((select) => Object.fromEntries([...select.querySelectorAll('optgroup')].map((g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.text)])));
}

describe('provider credentials page', () => {
  it('adds, searches, filters, sorts, edits, reveals and copies, and deletes credentials, in English and German', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Pia Provider', 'pia@example.com');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Provider credentials' }).click();
    await page.waitForURL(/\/team\/provider-keys$/);
    await page.getByRole('heading', { level: 1, name: 'Provider credentials' }).waitFor();
    await page.getByText('No provider credentials yet').waitFor();
    await screenshot(page, 'provider-keys-empty');

    // Add: required fields first, then the type grouped by category.
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const add = page.getByRole('dialog', { name: 'Add credential' });
    await add.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => add.getByText('This field is required.').count()).toBe(3);
    expect(await add.getByLabel('Key', { exact: true }).getAttribute('type')).toBe('password');
    expect(await typeGroups(page)).toEqual({
      AI: ['OpenAI', 'Anthropic', 'Google', 'DeepSeek', 'Fast Inference', 'XAI', 'Perplexity', 'Data Platform'],
      Support: ['Support System', 'Google Translate'],
      Search: ['Exa'],
    });
    await add.getByLabel('Type', { exact: true }).selectOption({ label: 'OpenAI' });
    await add.getByLabel('Description', { exact: true }).fill('OpenAI production');
    await add.getByLabel('Key', { exact: true }).fill(OPENAI);
    await screenshot(page, 'provider-keys-add');
    await add.getByRole('button', { name: 'Save' }).click();
    await page.getByText('API key created successfully').waitFor();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const openai = row(page, 'OpenAI production');
    await openai.getByText('sk-…Wxyz', { exact: true }).waitFor();
    await openai.getByText('AI', { exact: true }).waitFor();
    await expectNoSecretOutsideReveal(page);

    // A second one through the API; both are listed.
    const second = await apiFromPage(page, 'POST', '/api/v1/provider-keys', { type: 'anthropic', description: 'Anthropic staging', key: ANTHROPIC });
    expect(second.status).toBe(201);
    await page.reload();
    await page.getByText('2 credentials').waitFor();
    await row(page, 'Anthropic staging').getByText('sk-…Abcd', { exact: true }).waitFor();
    await screenshot(page, 'provider-keys-table');

    // Search by description: debounced, kept in the URL.
    const search = page.getByRole('searchbox', { name: 'Search credentials' });
    await search.fill('staging');
    await page.waitForURL(/q=staging/);
    await expect.poll(() => page.getByRole('row').count()).toBe(2); // header + 1
    await row(page, 'Anthropic staging').waitFor();
    await screenshot(page, 'provider-keys-search');
    await search.fill('');
    await expect.poll(() => new URL(page.url()).searchParams.has('q')).toBe(false);
    await expect.poll(() => page.getByRole('row').count()).toBe(3);

    // Filter by type.
    await page.getByRole('combobox', { name: 'Filter by type' }).selectOption({ label: 'OpenAI' });
    await page.waitForURL(/type=openai/);
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    await row(page, 'OpenAI production').waitFor();
    await page.getByRole('combobox', { name: 'Filter by type' }).selectOption({ label: 'All types' });
    await expect.poll(() => page.getByRole('row').count()).toBe(3);

    // Sort by created (oldest first), then by description both ways; each order is in the URL.
    const firstRow = () => page.getByRole('row').nth(1).innerText();
    await page.getByRole('button', { name: 'Sort by Created' }).click();
    await page.waitForURL(/sort=createdAt/);
    await expect.poll(firstRow).toContain('OpenAI production');
    await page.getByRole('button', { name: 'Sort by Description' }).click();
    await page.waitForURL(/sort=description/);
    await expect.poll(firstRow).toContain('Anthropic staging');
    await expect.poll(() => page.getByRole('columnheader', { name: /Description/ }).getAttribute('aria-sort')).toBe('ascending');
    await page.getByRole('button', { name: 'Sort by Description' }).click();
    await page.waitForURL(/sort=-description/);
    await expect.poll(firstRow).toContain('OpenAI production');
    await expect.poll(() => page.getByRole('columnheader', { name: /Description/ }).getAttribute('aria-sort')).toBe('descending');

    // Edit from the row: the key field left empty keeps the stored key.
    await page.getByRole('button', { name: 'OpenAI production', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit OpenAI production' });
    expect(await edit.getByLabel('Type', { exact: true }).inputValue()).toBe('openai');
    expect(await edit.getByLabel('Key', { exact: true }).inputValue()).toBe('');
    await edit.getByLabel('Description', { exact: true }).fill('OpenAI production (main)');
    await screenshot(page, 'provider-keys-edit');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('API key updated successfully').waitFor();
    await row(page, 'OpenAI production (main)').getByText('sk-…Wxyz', { exact: true }).waitFor();

    // Edit with a new key: the masked key follows.
    await row(page, 'Anthropic staging').getByRole('button', { name: 'Anthropic staging', exact: true }).click();
    const rotate = page.getByRole('dialog', { name: 'Edit Anthropic staging' });
    await rotate.getByLabel('Key', { exact: true }).fill(ANTHROPIC_ROTATED);
    await rotate.getByRole('button', { name: 'Save' }).click();
    await row(page, 'Anthropic staging').getByText('sk-…Zz99', { exact: true }).waitFor();
    await expectNoSecretOutsideReveal(page);

    // Reveal: the kept key, shown until the dialog closes, copied to the clipboard.
    await page.getByRole('button', { name: 'Reveal OpenAI production (main)' }).click();
    const revealed = page.getByRole('dialog', { name: 'Key of OpenAI production (main)' });
    await revealed.getByLabel('Credential value', { exact: true }).waitFor();
    expect(await revealed.getByLabel('Credential value', { exact: true }).innerText()).toBe(OPENAI);
    await expectNoSecretOutsideReveal(page);
    await revealed.getByRole('button', { name: 'Copy key to clipboard' }).click();
    await revealed.getByText('Copied', { exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(OPENAI);
    await screenshot(page, 'provider-keys-reveal');
    await revealed.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expectNoSecretOutsideReveal(page);

    await page.getByRole('button', { name: 'Reveal Anthropic staging' }).click();
    expect(await page.getByRole('dialog').getByLabel('Credential value', { exact: true }).innerText()).toBe(ANTHROPIC_ROTATED);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expectNoSecretOutsideReveal(page);

    // Each reveal is in the audit log, without the value.
    const audit = await apiFromPage<{ data: Array<{ action: string }> }>(page, 'GET', '/api/v1/audit-logs?action=provider_key.revealed');
    expect(audit.json.data).toHaveLength(2);
    for (const secret of SECRETS) expect(JSON.stringify(audit.json)).not.toContain(secret);

    // Delete, after a confirmation.
    await page.getByRole('button', { name: 'Delete Anthropic staging' }).click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByText('Delete Anthropic staging?').waitFor();
    await screenshot(page, 'provider-keys-delete-confirm');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('API key deleted successfully').waitFor();
    await expect.poll(() => row(page, 'Anthropic staging').count()).toBe(0);
    await page.getByText('1 credential', { exact: true }).waitFor();
    const list = await apiFromPage<{ data: Array<{ description: string }> }>(page, 'GET', '/api/v1/provider-keys');
    expect(list.json.data.map((k) => k.description)).toEqual(['OpenAI production (main)']);

    // German.
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Anbieter-Zugangsdaten' }).waitFor();
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Anbieter-Zugangsdaten' }).waitFor();
    await page.getByRole('button', { name: 'Zugangsdaten hinzufügen' }).waitFor();
    await page.getByRole('button', { name: 'Nach Beschreibung sortieren' }).waitFor();
    await page.getByRole('searchbox', { name: 'Zugangsdaten suchen' }).waitFor();
    await row(page, 'OpenAI production (main)').getByText('KI', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'OpenAI production (main) anzeigen' }).waitFor();
    await page.getByText('1 Zugangsdatensatz', { exact: true }).waitFor();
    await screenshot(page, 'provider-keys-german');
    await page.getByRole('button', { name: 'OpenAI production (main) löschen' }).click();
    await page.getByRole('alertdialog').getByText('Der gespeicherte Schlüssel wird endgültig entfernt.').waitFor();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Löschen' }).click();
    await page.getByText('API-Schlüssel erfolgreich gelöscht').waitFor();
    await page.getByText('Noch keine Anbieter-Zugangsdaten').waitFor();
    await expectNoSecretOutsideReveal(page);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows a developer the credentials but no Add and no Reveal, also on a phone', async () => {
    const owner = await newSession(env.browser, env.server.baseUrl);
    await signUp(owner.page, env.server.baseUrl, 'Otto Owner', 'otto@example.com');
    const created = await apiFromPage(owner.page, 'POST', '/api/v1/provider-keys', { type: 'exa', description: 'Shared Exa', key: 'exa-shared-credential-0001' });
    expect(created.status).toBe(201);
    const invite = await apiFromPage<{ inviteToken: string }>(owner.page, 'POST', '/api/v1/team/invitations', { email: 'dev@example.com', role: 'developer' });
    expect(invite.status).toBe(201);

    const dev = await newSession(env.browser, env.server.baseUrl, { width: 390, height: 844 });
    await signUp(dev.page, env.server.baseUrl, 'Dana Developer', 'dev@example.com');
    await dev.page.goto(`${env.server.baseUrl}/invitations/accept?token=${invite.json.inviteToken}`);
    await dev.page.getByRole('button', { name: 'Accept invitation' }).click();
    await dev.page.waitForURL(/\/keys$/);
    await dev.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Provider credentials' }).click();
    const shared = row(dev.page, 'Shared Exa');
    await shared.getByText('exa…0001', { exact: true }).waitFor();
    await dev.page.getByText('Your role can view credentials but not add or change them.').waitFor();
    expect(await dev.page.getByRole('button', { name: 'Add credential' }).count()).toBe(0);
    expect(await dev.page.getByRole('button', { name: /^Reveal/ }).count()).toBe(0);
    expect(await dev.page.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
    expect(await shared.getByRole('button').count()).toBe(0);
    // The table scrolls inside its own box; nothing sticks out sideways.
    expect(await dev.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(dev.page, 'provider-keys-developer-phone');

    expect(owner.errors).toEqual([]);
    expect(dev.errors).toEqual([]);
    await owner.context.close();
    await dev.context.close();
  });
});

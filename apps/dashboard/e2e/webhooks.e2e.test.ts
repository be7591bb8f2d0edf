import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFromPage, newSession, screenshot, signUp, useServerAndBrowser } from './harness';

const env = useServerAndBrowser();

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that records each request and answers `status`. */
const receiver = { server: undefined as Server | undefined, url: '', status: 200, received: [] as Received[] };

beforeAll(async () => {
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.server?.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/keysmith-hook`;
});

afterAll(async () => {
  const server = receiver.server;
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The README's check of Keysmith-Signature: HMAC-SHA256 of `<t>.<raw body>` keyed with the secret. */
function signedBy(secret: string, request: Received): boolean {
  const parts = Object.fromEntries(String(request.headers['keysmith-signature']).split(',').map((p) => p.split('=', 2)));
  const expected = createHmac('sha256', secret).update(`${parts.t}.`).update(request.body).digest();
  const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The secret nowhere in the page, its storage or its URL, except once in the one-time view while it is open. */
async function expectSecretOnlyInOneTimeView(page: Page, secret: string): Promise<void> {
  const html = await page.content();
  const view = page.getByLabel('Webhook signing secret', { exact: true });
  const shown = (await view.count()) > 0 ? await view.innerText() : null;
  const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, url: location.href, history: history.state as unknown }));
  expect(storage).not.toContain(secret);
  expect(html.split(secret).length - 1).toBe(shown === secret ? 1 : 0);
}

function deliveryRow(page: Page, event: string) {
  return page.getByRole('row').filter({ hasText: event });
}

describe('webhooks page', () => {
  it('creates a webhook with a one-time secret, sends a test, shows deliveries and retries, retries one now, edits and deletes it', async () => {
    const { page, context, errors } = await newSession(env.browser, env.server.baseUrl);
    await signUp(page, env.server.baseUrl, 'Wes Webhook', 'wes@example.com');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(/\/team\/webhooks$/);
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();
    await page.getByText('No webhooks yet').waitFor();
    await screenshot(page, 'webhooks-empty');

    // Create: the URL is checked and an event is required before anything is sent.
    await page.getByRole('button', { name: 'Add webhook' }).first().click();
    const add = page.getByRole('dialog', { name: 'Add a webhook' });
    await add.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await add.getByRole('button', { name: 'Create webhook' }).click();
    await add.getByText('Use an http or https URL.').waitFor();
    await add.getByText('Choose at least one event.').waitFor();
    await add.getByLabel('Endpoint URL').fill(receiver.url);
    await add.getByRole('checkbox', { name: /Key created/ }).check();
    await add.getByRole('checkbox', { name: /Revoked key used/ }).check();
    await screenshot(page, 'webhooks-create');
    await add.getByRole('button', { name: 'Create webhook' }).click();

    // The signing secret, once, with a warning and Copy.
    const reveal = page.getByRole('dialog', { name: 'Save the signing secret' });
    await reveal.getByText('This secret will not be shown again.', { exact: false }).waitFor();
    const secret = await reveal.getByLabel('Webhook signing secret', { exact: true }).innerText();
    expect(secret).toMatch(/^whsec_/);
    await expectSecretOnlyInOneTimeView(page, secret);
    await screenshot(page, 'webhooks-secret-one-time');
    await reveal.getByRole('button', { name: 'Copy key to clipboard' }).click();
    await reveal.getByText('Copied', { exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await reveal.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await expectSecretOnlyInOneTimeView(page, secret);
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: receiver.url }) });
    await row.getByText('2 events').waitFor();
    await row.getByText('Enabled', { exact: true }).waitFor();
    await screenshot(page, 'webhooks-list');

    // Send test: the receiver gets a signed webhook.test event, the toast says so.
    await page.getByRole('button', { name: `Send test to ${receiver.url}` }).click();
    await page.getByText(/^Test event delivered: HTTP 200 in \d+ ms$/).waitFor();
    const test = receiver.received.at(-1);
    expect(test && JSON.parse(test.body).type).toBe('webhook.test');
    expect(test && signedBy(secret, test)).toBe(true);

    // The delivery log on its page.
    await page.getByRole('link', { name: receiver.url }).click();
    await page.waitForURL(/\/team\/webhooks\/whk_/);
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    const testRow = deliveryRow(page, 'Test event');
    await testRow.getByText('Delivered', { exact: true }).waitFor();
    await testRow.getByText('HTTP 200', { exact: true }).waitFor();

    // A key created meanwhile is delivered by the server's worker, on its own.
    const key = await apiFromPage<{ data: { id: string } }>(page, 'POST', '/api/v1/keys', { name: 'Hooked key' });
    expect(key.status).toBe(201);
    await expect.poll(() => receiver.received.filter((r) => JSON.parse(r.body).type === 'key.created').length, { timeout: 15_000 }).toBe(1);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await deliveryRow(page, 'Key created').getByText('Delivered', { exact: true }).waitFor();
    await page.getByText('2 deliveries').waitFor();

    // A receiver failing: the test says so, and the log shows the scheduled retry and the attempt.
    receiver.status = 500;
    await page.getByRole('button', { name: 'Send test', exact: true }).click();
    await page.getByText(/^Test event not delivered: HTTP 500\. Keysmith tries again in \d+ seconds\.$/).waitFor();
    const failing = page.getByRole('row').filter({ hasText: 'Test event' }).filter({ hasText: 'Pending' });
    await failing.getByText('HTTP 500', { exact: true }).waitFor();
    await failing.getByText(/^Next attempt in \d+ seconds$/).waitFor();
    await failing.getByRole('button', { name: '1 attempt of Test event: show or hide' }).click();
    await page.getByRole('list', { name: 'Attempts of Test event' }).getByText('HTTP 500').waitFor();
    await screenshot(page, 'webhooks-delivery-log');

    // The receiver is fixed: Retry now sends the same event at once, and the log shows it delivered.
    const failedEvent = receiver.received.at(-1);
    const failedEventId = failedEvent ? (JSON.parse(failedEvent.body) as { id: string }).id : '';
    expect(failedEventId).toMatch(/^evt_/);
    receiver.status = 200;
    const sentBefore = receiver.received.length;
    const retriedRow = page.getByRole('row').filter({ hasText: failedEventId });
    await retriedRow.getByRole('button', { name: 'Retry now: Test event' }).click();
    await page.getByText(/^Delivered on retry: HTTP 200 in \d+ ms$/).waitFor();
    await retriedRow.getByText('Delivered', { exact: true }).waitFor();
    await retriedRow.getByText('HTTP 200', { exact: true }).waitFor();
    expect(await retriedRow.getByRole('button', { name: /Retry now/ }).count()).toBe(0);
    await retriedRow.getByRole('button', { name: '2 attempts of Test event: show or hide' }).waitFor();
    expect(receiver.received.length).toBe(sentBefore + 1);
    const resent = receiver.received.at(-1);
    expect(resent?.headers['keysmith-event-id']).toBe(failedEventId);
    expect(resent && signedBy(secret, resent)).toBe(true);
    await screenshot(page, 'webhooks-retried');

    // Edit: events and enabled; a disabled webhook offers no test.
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit webhook' });
    expect(await edit.getByRole('checkbox', { name: /Revoked key used/ }).isChecked()).toBe(true);
    await edit.getByRole('checkbox', { name: /Key revoked$/ }).check();
    await edit.getByRole('checkbox', { name: /^Enabled/ }).uncheck();
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook updated').waitFor();
    await page.getByText('This webhook is disabled', { exact: false }).waitFor();
    expect(await page.getByRole('button', { name: 'Send test', exact: true }).isDisabled()).toBe(true);
    const saved = await apiFromPage<{ data: Array<{ events: string[]; enabled: boolean }> }>(page, 'GET', '/api/v1/webhooks');
    expect(saved.json.data[0]).toMatchObject({ events: ['key.created', 'key.revoked', 'key.revoked_used'], enabled: false });
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByText('Webhook enabled').waitFor();

    // German.
    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.getByRole('heading', { name: 'Zustellprotokoll' }).waitFor();
    await page.getByRole('button', { name: 'Test senden', exact: true }).waitFor();
    await deliveryRow(page, 'Schlüssel erstellt').getByText('Zugestellt', { exact: true }).waitFor();
    await screenshot(page, 'webhooks-german');
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');

    // Delete, after a confirmation: back to the empty list.
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete this webhook?' });
    await confirm.getByText(`Keysmith stops sending events to ${receiver.url}`, { exact: false }).waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Webhook deleted').waitFor();
    await page.waitForURL(/\/team\/webhooks$/);
    await page.getByText('No webhooks yet').waitFor();

    expect(errors).toEqual([]);
    await context.close();
  });

  it('fits a phone and tells a developer only owners and admins manage webhooks', async () => {
    const owner = await newSession(env.browser, env.server.baseUrl, { width: 390, height: 844 });
    await signUp(owner.page, env.server.baseUrl, 'Olga Owner', 'olga@example.com');
    const created = await apiFromPage(owner.page, 'POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/a-rather-long-path/for/keysmith/events', events: ['key.created', 'key.revoked'] });
    expect(created.status).toBe(201);
    await owner.page.goto(`${env.server.baseUrl}/team/webhooks`);
    await owner.page.getByRole('link', { name: 'https://hooks.example.com/a-rather-long-path/for/keysmith/events' }).waitFor();
    expect(await owner.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await screenshot(owner.page, 'webhooks-phone');

    const invite = await apiFromPage<{ inviteToken: string }>(owner.page, 'POST', '/api/v1/team/invitations', { email: 'devi@example.com', role: 'developer' });
    const dev = await newSession(env.browser, env.server.baseUrl, { width: 390, height: 844 });
    await signUp(dev.page, env.server.baseUrl, 'Devi Developer', 'devi@example.com');
    await dev.page.goto(`${env.server.baseUrl}/invitations/accept?token=${invite.json.inviteToken}`);
    await dev.page.getByRole('button', { name: 'Accept invitation' }).click();
    await dev.page.waitForURL(/\/keys$/);
    expect(await dev.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await dev.page.goto(`${env.server.baseUrl}/team/webhooks`);
    await dev.page.getByText('Only owners and admins can manage webhooks.').waitFor();
    expect(await dev.page.getByRole('button', { name: 'Add webhook' }).count()).toBe(0);

    expect(owner.errors).toEqual([]);
    expect(dev.errors).toEqual([]);
    await owner.context.close();
    await dev.context.close();
  });
});

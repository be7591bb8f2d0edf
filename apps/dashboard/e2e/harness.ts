import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');
export const SERVICE_TOKEN = 'e2e_service_token_0123456789abcdefghijklmnop';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Running {
  baseUrl: string;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real server (`keysmith serve`) on a free port with a fresh SQLite data directory.
 * `env` adds to or overrides its environment (e.g. a shorter KEYSMITH_USAGE_FLUSH_MS).
 */
export async function startServer(env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-e2e-'));
  const logs: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'apps/server/bin/keysmith.mjs'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', KEYSMITH_DATA_DIR: dataDir, KEYSMITH_SERVICE_TOKENS: SERVICE_TOKEN, LOG_LEVEL: 'info', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    logs,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
}

export async function newSession(browser: Browser, baseUrl: string, viewport = { width: 1280, height: 800 }): Promise<Session> {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export async function signUp(page: Page, baseUrl: string, name: string, email: string, password = 'correct horse battery'): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/keys/);
}

/** Calls the API with the browser's session (same origin, so the Origin check passes). */
export async function apiFromPage<T>(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  return page.evaluate(
    async ([m, p, b]) => {
      const res = await fetch(p as string, { method: m as string, headers: b === undefined ? {} : { 'content-type': 'application/json' }, body: b === undefined ? undefined : JSON.stringify(b) });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : null) as never };
    },
    [method, path, body] as const,
  );
}

/**
 * One real server and one browser for a test file: started before its tests, stopped after.
 * Read `env.server` and `env.browser` inside the tests. `serverEnv` goes to `startServer`.
 */
export function useServerAndBrowser(serverEnv: Record<string, string> = {}): { server: Running; browser: Browser } {
  const env = {} as { server: Running; browser: Browser };
  beforeAll(async () => {
    env.server = await startServer(serverEnv);
    env.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyForVerification, Store } from '@keysmith/core';
import { buildTestApp, dialect, TEST_PG_URL, type TestApp, type TestUser } from './helpers';
import { createTcpProxy, type TcpProxy } from './tcp-proxy';

// Issue 5, point 6: PostgreSQL goes away (a proxy between the app and the database drops every
// connection and refuses new ones) and comes back, while the app keeps running.

let t: TestApp | undefined;
let proxies: TcpProxy[] = [];
afterEach(async () => {
  // Teardown writes the last counts and drops the schema: the database must be reachable again.
  for (const proxy of proxies) proxy.restore();
  await t?.close();
  for (const proxy of proxies) await proxy.close();
  t = undefined;
  proxies = [];
});

/** Generous: a request during the outage must answer, not wait for a database that is gone. */
const ANSWER_WITHIN_MS = 5_000;
/** How long recovery may take once the database is back (health is checked every second). */
const RECOVERY_MS = 10_000;

/** Counts key lookups in the database, so a test can tell a cached answer from a read one. */
function lookupProbe() {
  const probe = { lookups: 0 };
  const wrap = (store: Store): Store => {
    const findByHash = store.keys.findByHash.bind(store.keys);
    return {
      ...store,
      keys: {
        ...store.keys,
        findByHash(hash): Promise<KeyForVerification | undefined> {
          probe.lookups += 1;
          return findByHash(hash);
        },
      },
    };
  };
  return { probe, wrap };
}

async function within<T>(what: string, promise: Promise<T>, ms = ANSWER_WITHIN_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Outage {
  t: TestApp;
  /** Between the app and PostgreSQL: its pool, and its invalidation channel unless `channel` is apart. */
  proxy: TcpProxy;
  /** Between the app's invalidation channel and PostgreSQL (the same proxy unless asked apart). */
  channel: TcpProxy;
  owner: TestUser;
  probe: { lookups: number };
  /** Every raw key the test made, to look for in the logs. */
  rawKeys: string[];
  createKey(): Promise<{ id: string; rawKey: string }>;
  /** POST /keys/verify, which must answer within a few seconds whatever the database does. */
  verify(key: string): Promise<LightMyRequestResponse>;
  /** Verifies until an answer came from the cache (no database read), so the key is cached. */
  cache(key: string): Promise<void>;
  /** How many answers were VALID, per raw key. */
  valid: Map<string, number>;
}

/** A proxy to the test PostgreSQL, and the URL that goes through it. */
async function proxied(): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(TEST_PG_URL);
  const proxy = await createTcpProxy({ target: { host: target.hostname, port: Number(target.port || 5432) } });
  proxies.push(proxy);
  const url = new URL(TEST_PG_URL);
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

interface SetupOptions {
  /** Gives the invalidation channel a proxy of its own. */
  channelApart?: boolean;
  /** The app's pool size and how long its queries wait for a connection (see buildTestApp). */
  poolSize?: number;
  connectionTimeoutMs?: number;
}

/**
 * An app whose pool and invalidation channel both go through a proxy to the test PostgreSQL,
 * as one database that goes away would.
 */
async function setup(env: Record<string, string> = {}, { channelApart = false, poolSize, connectionTimeoutMs }: SetupOptions = {}): Promise<Outage> {
  const { proxy, url } = await proxied();
  const channel = channelApart ? await proxied() : { proxy, url };
  const { probe, wrap } = lookupProbe();
  // Short flushes, so flushes fail during the outage and must be retried once it is over.
  t = await buildTestApp({ databaseUrl: url, cacheEventsUrl: channel.url, wrapStore: wrap, poolSize, connectionTimeoutMs, env: { KEYSMITH_USAGE_FLUSH_MS: '50', ...env } });
  const app = t;
  const owner = await app.signup();
  const rawKeys: string[] = [];
  const valid = new Map<string, number>();
  const verify = async (key: string) => {
    const res = await within('verify', app.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key } }));
    if (res.statusCode === 200 && res.json().code === 'VALID') valid.set(key, (valid.get(key) ?? 0) + 1);
    return res;
  };
  return {
    t: app,
    proxy,
    channel: channel.proxy,
    owner,
    probe,
    rawKeys,
    valid,
    verify,
    async createKey() {
      const { data, rawKey } = await app.createKey(owner);
      rawKeys.push(rawKey);
      return { id: data.id, rawKey };
    },
    async cache(key) {
      await expect
        .poll(
          async () => {
            const before = probe.lookups;
            const res = await verify(key);
            expect(res.json().code).toBe('VALID');
            return probe.lookups - before;
          },
          { timeout: RECOVERY_MS },
        )
        .toBe(0);
    },
  };
}

/** The contract's error shape, with the code that says the database is the trouble. */
function expectUnavailable(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(503);
  const body = res.json();
  expect(body).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.any(String), requestId: res.headers['x-request-id'] } });
  expect(body).not.toHaveProperty('valid');
}

/** Waits until the app has seen its invalidation channel drop (it says so in its log). */
async function channelLost(t: TestApp): Promise<void> {
  await expect.poll(() => t.logs.join('').includes('cache invalidation channel lost'), { timeout: RECOVERY_MS }).toBe(true);
}

/** The key's usage count, read through the API (which writes this instance's pending counts first). */
async function usageCount(o: Outage, keyId: string): Promise<number> {
  const res = await o.t.request({ url: `/api/v1/keys/${keyId}`, cookie: o.owner.cookie });
  expect(res.statusCode).toBe(200);
  return res.json().data.usageCount as number;
}

/** The key's usage count as stored, read over a connection of its own (not the app's). */
async function storedUsageCount(t: TestApp, keyId: string): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ usage_count: string }>(`select usage_count from ${t.schema}.api_keys where id = $1`, [keyId]);
    return Number(rows[0]?.usage_count);
  } finally {
    await client.end();
  }
}

/** Holds one of the app's pooled connections with a query of `seconds`, named after its schema. */
function holdConnection(t: TestApp, seconds: number): Promise<unknown> {
  return sql`select pg_sleep(${seconds}) as ${sql.id(`hold_${t.schema}`)}`.execute(t.handle.db);
}

/** Whether the holding query is running, as PostgreSQL sees it over a connection of its own. */
async function holding(t: TestApp): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`select 1 from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and position($1 in query) > 0`, [`hold_${t.schema}`]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/** The key with its last (checksum) character changed. */
function nearTwin(rawKey: string): string {
  const i = rawKey.length - 1;
  return rawKey.slice(0, i) + (rawKey[i] === 'A' ? 'B' : 'A');
}

function expectMalformed(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ valid: false, code: 'MALFORMED' });
}

function expectNoRawKeyLogged(o: Outage): void {
  const log = o.t.logs.join('');
  // The log has the requests and the failures, so a leak would be seen.
  expect(log).toContain('/api/v1/keys/verify');
  expect(o.rawKeys.length).toBeGreaterThan(0);
  expect(o.rawKeys.filter((key) => log.includes(key))).toEqual([]);
}

describe.skipIf(dialect !== 'postgres')('verification while PostgreSQL goes away and comes back', () => {
  it('answers 503 SERVICE_UNAVAILABLE for cached and uncached keys while the database is gone, and /readyz says so', async () => {
    const o = await setup();
    const cached = await o.createKey();
    const uncached = await o.createKey();
    await o.cache(cached.rawKey);

    await o.proxy.cut();
    expectUnavailable(await o.verify(uncached.rawKey));
    // Strict by default: a key verified a moment ago is refused too, since revocations cannot arrive.
    expectUnavailable(await o.verify(cached.rawKey));
    await channelLost(o.t);
    for (let i = 0; i < 5; i += 1) {
      expectUnavailable(await o.verify(cached.rawKey));
      expectUnavailable(await o.verify(uncached.rawKey));
    }
    // A mistyped checksum needs no database: still MALFORMED, not 503.
    for (const { rawKey } of [cached, uncached]) expectMalformed(await o.verify(nearTwin(rawKey)));
    const ready = await within('/readyz', o.t.request({ url: '/readyz' }));
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'database unavailable' });
    // The process itself is fine.
    expect((await o.t.request({ url: '/healthz' })).statusCode).toBe(200);
    expectNoRawKeyLogged(o);
  });

  it('resumes by itself once the database is back, and loses no usage count', async () => {
    const o = await setup();
    const key = await o.createKey();
    const other = await o.createKey();
    await o.cache(key.rawKey);
    for (let i = 0; i < 10; i += 1) expect((await o.verify(key.rawKey)).json().code).toBe('VALID');

    await o.proxy.cut();
    expectUnavailable(await o.verify(other.rawKey));
    expectUnavailable(await o.verify(key.rawKey));
    await channelLost(o.t);

    o.proxy.restore();
    // The same app, not rebuilt: it finds the database again by itself.
    await expect.poll(async () => (await o.verify(key.rawKey)).statusCode, { timeout: RECOVERY_MS }).toBe(200);
    expect((await o.verify(key.rawKey)).json().code).toBe('VALID');
    expect((await o.verify(other.rawKey)).json().code).toBe('VALID');
    await expect.poll(async () => (await within('/readyz', o.t.request({ url: '/readyz' }))).statusCode, { timeout: RECOVERY_MS }).toBe(200);
    // It caches again too.
    await o.cache(key.rawKey);

    // Every VALID answer is counted exactly once, those whose flush came too late for the outage too:
    // the background flush writes them once the database is back…
    const validAnswers = o.valid.get(key.rawKey) ?? 0;
    expect(validAnswers).toBeGreaterThanOrEqual(12);
    await expect.poll(() => storedUsageCount(o.t, key.id), { timeout: RECOVERY_MS }).toBe(validAnswers);
    // …and the API reads the same.
    expect(await usageCount(o, key.id)).toBe(validAnswers);
    expect(await usageCount(o, other.id)).toBe(o.valid.get(other.rawKey));
    expectNoRawKeyLogged(o);
  });

  it('answers REVOKED after the outage for a key revoked on another instance meanwhile', async () => {
    const o = await setup();
    const sibling = await o.t.sibling();
    try {
      const doomed = await o.createKey();
      const kept = await o.createKey();
      await o.cache(doomed.rawKey);
      await o.cache(kept.rawKey);

      await o.proxy.cut();
      await channelLost(o.t);
      // Another instance, on the database itself, revokes while this one hears nothing.
      const revoked = await sibling.request({ method: 'DELETE', url: `/api/v1/keys/${doomed.id}`, cookie: o.owner.cookie });
      expect(revoked.statusCode).toBe(200);
      expectUnavailable(await o.verify(doomed.rawKey));

      o.proxy.restore();
      // Never VALID again: unavailable until the database answers, then REVOKED.
      await expect
        .poll(
          async () => {
            const res = await o.verify(doomed.rawKey);
            if (res.statusCode === 503) return 'unavailable';
            expect(res.statusCode).toBe(200);
            expect(res.json().code).not.toBe('VALID');
            return res.json().code as string;
          },
          { timeout: RECOVERY_MS },
        )
        .toBe('REVOKED');
      // Once the channel is back the cache is trusted again: the other key is served from memory.
      await o.cache(kept.rawKey);
      for (let i = 0; i < 3; i += 1) expect((await o.verify(doomed.rawKey)).json().code).toBe('REVOKED');
      expectNoRawKeyLogged(o);
    } finally {
      await sibling.close();
    }
  });

  describe('with an outage grace (KEYSMITH_OUTAGE_GRACE_MS)', () => {
    it('keeps verifying keys already cached until the grace ends, refuses the others, and counts every use', async () => {
      const o = await setup({ KEYSMITH_OUTAGE_GRACE_MS: '60000' });
      const cached = await o.createKey();
      const uncached = await o.createKey();
      await o.cache(cached.rawKey);

      await o.proxy.cut();
      await channelLost(o.t);
      expectUnavailable(await o.verify(uncached.rawKey));
      for (let i = 0; i < 5; i += 1) expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
      // The cache still answers here: the near twin of a key it holds still meets the checksum.
      for (const { rawKey } of [cached, uncached]) expectMalformed(await o.verify(nearTwin(rawKey)));
      // These uses are counted in memory while every flush fails.
      await expect.poll(() => o.t.logs.join('').includes('usage flush failed'), { timeout: RECOVERY_MS }).toBe(true);
      expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');

      o.t.clock.advance(60_001);
      expectUnavailable(await o.verify(cached.rawKey));
      expectUnavailable(await o.verify(uncached.rawKey));
      expect((await within('/readyz', o.t.request({ url: '/readyz' }))).statusCode).toBe(503);

      o.proxy.restore();
      await expect.poll(async () => (await o.verify(uncached.rawKey)).statusCode, { timeout: RECOVERY_MS }).toBe(200);
      expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
      const validAnswers = o.valid.get(cached.rawKey) ?? 0;
      await expect.poll(() => storedUsageCount(o.t, cached.id), { timeout: RECOVERY_MS }).toBe(validAnswers);
      expect(await usageCount(o, cached.id)).toBe(validAnswers);
      expectNoRawKeyLogged(o);
    });

    it('answers REVOKED once the database is back for a key revoked elsewhere during the grace', async () => {
      const o = await setup({ KEYSMITH_OUTAGE_GRACE_MS: '60000' });
      const sibling = await o.t.sibling();
      try {
        const doomed = await o.createKey();
        await o.cache(doomed.rawKey);

        await o.proxy.cut();
        await channelLost(o.t);
        expect((await sibling.request({ method: 'DELETE', url: `/api/v1/keys/${doomed.id}`, cookie: o.owner.cookie })).statusCode).toBe(200);
        // The documented bound: during the grace the revocation cannot arrive.
        expect((await o.verify(doomed.rawKey)).json().code).toBe('VALID');

        o.proxy.restore();
        await expect.poll(async () => (await o.verify(doomed.rawKey)).json().code, { timeout: RECOVERY_MS }).toBe('REVOKED');
        // And it stays so: nothing stale is served from the cache once the channel is back.
        for (let i = 0; i < 20; i += 1) {
          expect((await o.verify(doomed.rawKey)).json().code).toBe('REVOKED');
          await new Promise((r) => setTimeout(r, 100));
        }
        expectNoRawKeyLogged(o);
      } finally {
        await sibling.close();
      }
    });

    it('stops serving from the cache when only the invalidation channel drops and the database still answers', async () => {
      // The grace is for a database outage, not for a lost channel: a revoke elsewhere must bite at once.
      const o = await setup({ KEYSMITH_OUTAGE_GRACE_MS: '60000' }, { channelApart: true });
      const sibling = await o.t.sibling();
      try {
        const doomed = await o.createKey();
        await o.cache(doomed.rawKey);
        await o.channel.cut();
        await channelLost(o.t);
        // What other instances change can no longer reach this one, so it reads the database each time.
        await expect
          .poll(
            async () => {
              const before = o.probe.lookups;
              expect((await o.verify(doomed.rawKey)).json().code).toBe('VALID');
              return o.probe.lookups - before;
            },
            { timeout: RECOVERY_MS },
          )
          .toBe(1);
        expect((await sibling.request({ method: 'DELETE', url: `/api/v1/keys/${doomed.id}`, cookie: o.owner.cookie })).statusCode).toBe(200);
        expect((await o.verify(doomed.rawKey)).json().code).toBe('REVOKED');
        expectNoRawKeyLogged(o);
      } finally {
        await sibling.close();
      }
    });
  });
});

describe.skipIf(dialect !== 'postgres')('verification while every pooled connection is busy (overload, not an outage)', () => {
  it('sheds only what could not get a connection: cached keys stay VALID, /readyz stays 200, nothing is marked down', async () => {
    // One connection, and a short wait for it: a single long query exhausts the pool.
    const o = await setup({}, { poolSize: 1, connectionTimeoutMs: 300 });
    const cached = await o.createKey();
    const uncached = await o.createKey();
    await o.cache(cached.rawKey);

    // The pool's only connection is held by a long query through the app's own handle.
    let held = true;
    const hold = holdConnection(o.t, 4).finally(() => {
      held = false;
    });
    await expect.poll(() => holding(o.t), { timeout: RECOVERY_MS }).toBe(true);

    const lookups = o.probe.lookups;
    expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
    // The ping has a connection of its own, so it does not queue behind the busy pool.
    expect((await within('/readyz', o.t.request({ url: '/readyz' }))).statusCode).toBe(200);
    // A key that needs the database waits for the pool, then is shed with a 503…
    const shed = await o.verify(uncached.rawKey);
    if (shed.statusCode === 503) expectUnavailable(shed);
    else expect(shed.json().code).toBe('VALID');
    // …which does not mark the database down: the cached key still answers (the grace is 0).
    expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
    // Nor does the health check, which has run at least once since (every second).
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
    expect((await within('/readyz', o.t.request({ url: '/readyz' }))).statusCode).toBe(200);
    // All of this happened while the pool was still held, and the cached answers read nothing.
    expect(held).toBe(true);
    expect(o.probe.lookups - lookups).toBe(1);

    await hold;
    expect((await o.verify(uncached.rawKey)).json().code).toBe('VALID');
    expect((await o.verify(cached.rawKey)).json().code).toBe('VALID');
    expectNoRawKeyLogged(o);
  });
});

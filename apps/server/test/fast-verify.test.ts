import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { cryptoRandom, generateKey, type KeyForVerification, type Store } from '@keysmith/core';
import { buildTestApp, dialect, TEST_PG_URL, type TestApp, type TestUser } from './helpers';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Counts key lookups in the database, and can hold them until released (a slowed read). */
function lookupProbe() {
  const probe = { lookups: 0, hold: null as Promise<void> | null };
  const wrap = (store: Store): Store => {
    const findByHash = store.keys.findByHash.bind(store.keys);
    return {
      ...store,
      keys: {
        ...store.keys,
        async findByHash(hash): Promise<KeyForVerification | undefined> {
          probe.lookups += 1;
          const found = await findByHash(hash);
          if (probe.hold) await probe.hold;
          return found;
        },
      },
    };
  };
  return { probe, wrap };
}

/** On PostgreSQL a change's own invalidation comes back through LISTEN a moment later: let it arrive. */
async function settle(): Promise<void> {
  if (dialect === 'postgres') await new Promise((r) => setTimeout(r, 300));
}

async function setup(options: Parameters<typeof buildTestApp>[0] = {}): Promise<{ t: TestApp; owner: TestUser }> {
  t = await buildTestApp(options);
  return { t, owner: await t.signup() };
}

describe('the key cache', () => {
  it('verifies a known key from memory after the first lookup', async () => {
    const { probe, wrap } = lookupProbe();
    const { t, owner } = await setup({ wrapStore: wrap });
    const { rawKey } = await t.createKey(owner);
    await settle();
    for (let i = 0; i < 20; i += 1) expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect(probe.lookups).toBe(1);
  });

  it('remembers an unknown well-formed key briefly: a flood costs one lookup per window', async () => {
    const { probe, wrap } = lookupProbe();
    const { t, owner } = await setup({ wrapStore: wrap });
    const { rawKey } = await t.createKey(owner);
    // A well-formed key that no longer exists: a real one, purged.
    const doomed = await t.createKey(owner);
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${doomed.data.id}?purge=true`, cookie: owner.cookie });
    await settle();
    for (let i = 0; i < 50; i += 1) expect((await t.verify({ key: doomed.rawKey })).code).toBe('NOT_FOUND');
    expect(probe.lookups).toBe(1);
    t.clock.advance(t.config.negativeCacheMs + 1);
    expect((await t.verify({ key: doomed.rawKey })).code).toBe('NOT_FOUND');
    expect(probe.lookups).toBe(2);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
  });

  it('answers a flood of random well-formed keys without any lookup, and still finds keys created meanwhile', async () => {
    const { probe, wrap } = lookupProbe();
    const { t, owner } = await setup({ wrapStore: wrap });
    for (let i = 0; i < 200; i += 1) {
      expect((await t.verify({ key: generateKey(cryptoRandom, 'pk', 'live') })).code).toBe('NOT_FOUND');
      if (i === 100) {
        const created = await t.createKey(owner);
        expect((await t.verify({ key: created.rawKey })).code).toBe('VALID');
      }
    }
    // The Bloom filter lets about 1 % through at capacity; far fewer here.
    expect(probe.lookups).toBeLessThanOrEqual(3);
  });

  it('answers at once for a key created after its hash was looked up', async () => {
    const { t, owner } = await setup();
    const created = await t.createKey(owner);
    expect((await t.verify({ key: created.rawKey })).code).toBe('VALID');
  });

  it('answers REVOKED, INACTIVE or the new scopes at once after a change returns on this instance', async () => {
    const { t, owner } = await setup();
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'] });
    expect((await t.verify({ key: rawKey, scopes: ['read'] })).code).toBe('VALID');
    await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { scopes: ['write'] } });
    expect((await t.verify({ key: rawKey, scopes: ['read'] })).code).toBe('INSUFFICIENT_SCOPES');
    await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: false } });
    expect((await t.verify({ key: rawKey })).code).toBe('INACTIVE');
    await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: true } });
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    const regenerated = await t.request({ method: 'POST', url: `/api/v1/keys/${data.id}/regenerate`, cookie: owner.cookie });
    expect((await t.verify({ key: rawKey })).code).toBe('REVOKED');
    const fresh = regenerated.json().rawKey as string;
    expect((await t.verify({ key: fresh })).code).toBe('VALID');
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect((await t.verify({ key: fresh })).code).toBe('REVOKED');
  });

  it('charges a team balance set after its keys were cached', async () => {
    const { t, owner } = await setup();
    const { rawKey } = await t.createKey(owner);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { credits: { balance: 1 } } });
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect((await t.verify({ key: rawKey })).code).toBe('USAGE_EXCEEDED');
  });

  it('does not let a read that began before a revoke put the old record back', async () => {
    const { probe, wrap } = lookupProbe();
    const { t, owner } = await setup({ wrapStore: wrap });
    const { data, rawKey } = await t.createKey(owner);
    let release = () => {};
    probe.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = t.verify({ key: rawKey }); // reads the active record, then waits
    await new Promise((r) => setTimeout(r, 50));
    const revoked = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(revoked.statusCode).toBe(200);
    probe.hold = null;
    release();
    await slow; // began before the revoke returned: either answer is allowed for it
    for (let i = 0; i < 5; i += 1) expect((await t.verify({ key: rawKey })).code).toBe('REVOKED');
  });
});

describe('credits on the fast path', () => {
  it('never overspends while other transactions run on the same connection', async () => {
    const { t, owner } = await setup();
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 50 } });
    const other = await t.createKey(owner);
    // Key changes (transactions) interleaved with spends: on SQLite a spend must never join one.
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i += 1) {
      work.push(t.verify({ key: rawKey }));
      if (i % 6 === 0) work.push(t.request({ method: 'PATCH', url: `/api/v1/keys/${other.data.id}`, cookie: owner.cookie, body: { description: `d${i}` } }));
    }
    const results = (await Promise.all(work)).filter((r): r is { code: string } => typeof r === 'object' && r !== null && 'code' in r);
    expect(results.filter((r) => r.code === 'VALID')).toHaveLength(50);
    expect(results.filter((r) => r.code === 'USAGE_EXCEEDED')).toHaveLength(250);
    const key = (await t.request({ url: `/api/v1/keys/${data.id}`, cookie: owner.cookie })).json().data;
    expect(key.credits.remaining).toBe(0);
    expect(key.usageCount).toBe(50);
  });
});

describe('exact counts with batched writes', () => {
  it('counts every VALID exactly once when the app stops gracefully', async () => {
    const { t, owner } = await setup({ env: { KEYSMITH_USAGE_FLUSH_MS: '60000' } });
    const { data, rawKey } = await t.createKey(owner);
    const results = await Promise.all(Array.from({ length: 120 }, () => t!.verify({ key: rawKey })));
    expect(results.every((r) => r.code === 'VALID')).toBe(true);
    await t.app.close(); // flushes
    const row = await t.handle.db.selectFrom('api_keys').select(['usage_count', 'last_used_at']).where('id', '=', data.id).executeTakeFirstOrThrow();
    expect(Number(row.usage_count)).toBe(120);
    expect(row.last_used_at).toBe(t.clock.now());
    const hours = await t.handle.db.selectFrom('usage_hourly').select(['valid']).where('key_id', '=', data.id).execute();
    expect(hours.reduce((n, h) => n + Number(h.valid), 0)).toBe(120);
  });
});

describe('database trouble', () => {
  it('answers 503 (never VALID) once the database is gone, and /readyz says so', async () => {
    const { t, owner } = await setup();
    const { rawKey } = await t.createKey(owner);
    const other = await t.createKey(owner);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    await t.handle.close();
    const uncached = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: other.rawKey } });
    expect(uncached.statusCode).toBe(503);
    expect(uncached.json().error.code).toBe('SERVICE_UNAVAILABLE');
    // Strict by default: even the cached key is refused while the database is down.
    const cached = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey } });
    expect(cached.statusCode).toBe(503);
    expect((await t.request({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('keeps cached keys verifying during an outage when a grace is set', async () => {
    const { t, owner } = await setup({ env: { KEYSMITH_OUTAGE_GRACE_MS: '60000' } });
    const { rawKey } = await t.createKey(owner);
    const other = await t.createKey(owner);
    await settle();
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    await t.handle.close();
    const uncached = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: other.rawKey } });
    expect(uncached.statusCode).toBe(503);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    t.clock.advance(60_001);
    const late = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey } });
    expect(late.statusCode).toBe(503);
  });
});

describe.skipIf(dialect !== 'postgres')('several instances on one PostgreSQL', () => {
  it('stops VALID for a revoked key on the other instance within one second', async () => {
    const { t, owner } = await setup();
    const other = await t.sibling();
    try {
      const { data, rawKey } = await t.createKey(owner);
      await expect.poll(async () => (await other.verify({ key: rawKey })).code, { timeout: 5000 }).toBe('VALID');
      for (let i = 0; i < 3; i += 1) expect((await other.verify({ key: rawKey })).code).toBe('VALID');
      const started = Date.now();
      await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
      let elapsed = 0;
      for (;;) {
        const code = (await other.verify({ key: rawKey })).code;
        elapsed = Date.now() - started;
        if (code === 'REVOKED') break;
        expect(code).toBe('VALID');
        expect(elapsed).toBeLessThan(1000);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(elapsed).toBeLessThan(1000);
    } finally {
      await other.close();
    }
  });

  it('stops caching while its invalidation channel is down, so a revoke still bites, and caches again once back', async () => {
    const { t, owner } = await setup();
    const other = await t.sibling();
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      const { data, rawKey } = await t.createKey(owner);
      await expect.poll(async () => (await other.verify({ key: rawKey })).code, { timeout: 5000 }).toBe('VALID');
      // Cut every LISTEN connection of this test's channels (the sibling's too).
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'listen%${t.schema}%'`);
      await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
      expect((await other.verify({ key: rawKey })).code).toBe('REVOKED');
      // A key made while the sibling might have missed its announcement is still found there.
      const fresh = await t.createKey(owner);
      await expect.poll(async () => (await other.verify({ key: fresh.rawKey })).code, { timeout: 5000 }).toBe('VALID');
      await t.request({ method: 'PATCH', url: `/api/v1/keys/${fresh.data.id}`, cookie: owner.cookie, body: { enabled: false } });
      await expect.poll(async () => (await other.verify({ key: fresh.rawKey })).code, { timeout: 1000 }).toBe('INACTIVE');
    } finally {
      await admin.end();
      await other.close();
    }
  });
});

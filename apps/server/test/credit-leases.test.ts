import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, dialect, tallyCodes, verifyAllAtOnce, type TestApp, type TestUser, type Verifier } from './helpers';

// Issue 5: credits spent from blocks leased to each instance, never overspent, the unused rest
// given back (idle, shutdown, revoke, expiry), and never given back into credits reset meanwhile.

let t: TestApp;
let owner: TestUser;
beforeEach(async () => {
  t = await buildTestApp();
  owner = await t.signup();
});
afterEach(async () => {
  await t.close();
});

/** Fires `count` verifications of `key` at once, spread round-robin over `apps`, and tallies the codes. */
async function verifyAtOnce(apps: Verifier[], key: string, count: number, cost = 1): Promise<Record<string, number>> {
  return tallyCodes(await verifyAllAtOnce(apps, { key, cost }, count));
}

/** The key's credits as the database holds them, not counting what leases hold. */
async function storedRemaining(id: string): Promise<number | null> {
  const row = await t.handle.db.selectFrom('api_keys').select('credits_remaining').where('id', '=', id).executeTakeFirstOrThrow();
  return row.credits_remaining === null ? null : Number(row.credits_remaining);
}

async function storedBalance(): Promise<number | null> {
  const row = await t.handle.db.selectFrom('teams').select('credits_balance').where('id', '=', owner.team.id).executeTakeFirstOrThrow();
  return row.credits_balance === null ? null : Number(row.credits_balance);
}

async function leaseRows(subjectId?: string): Promise<number> {
  const rows = await t.handle.db
    .selectFrom('credit_leases')
    .select('id')
    .$if(subjectId !== undefined, (qb) => qb.where('subject_id', '=', subjectId as string))
    .execute();
  return rows.length;
}

/** The key's remaining through the API (which counts what open leases still hold). */
async function apiRemaining(id: string): Promise<number | undefined> {
  const res = await t.request({ url: `/api/v1/keys/${id}`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return (res.json().data.credits as { remaining: number } | null)?.remaining;
}

async function apiBalance(): Promise<number | undefined> {
  const res = await t.request({ url: '/api/v1/team', cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return (res.json().data.credits as { balance: number } | null)?.balance;
}

async function setBalance(balance: number): Promise<void> {
  const res = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { credits: { balance } } });
  expect(res.statusCode).toBe(200);
}

/** On PostgreSQL a second instance on the same database; on SQLite the one instance alone. */
async function instances(): Promise<{ apps: Verifier[]; close(): Promise<void> }> {
  if (dialect !== 'postgres') return { apps: [t], close: async () => {} };
  const other = await t.sibling();
  return { apps: [t, other], close: () => other.close() };
}

describe(`credit leases on ${dialect}`, () => {
  it('gives exactly 2,000 VALID for 2,000 concurrent verifications of 10,000 credits, and gives the unused blocks back on a graceful stop', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    expect(await verifyAtOnce([t], rawKey, 2000)).toEqual({ VALID: 2000 });
    // A block is still out, but reads count what it still holds.
    expect(await leaseRows(data.id)).toBe(1);
    expect(await apiRemaining(data.id)).toBe(8000);
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(8000);
    expect(await leaseRows()).toBe(0);
  });

  it('answers VALID with a remaining that goes down by the cost on one instance', async () => {
    const { rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 9999 } });
    expect(await t.verify({ key: rawKey, cost: 5 })).toMatchObject({ code: 'VALID', credits: { remaining: 9994 } });
  });

  it.skipIf(dialect !== 'postgres')('gives exactly 2,000 VALID for 2,000 verifications split across two instances, and both give back', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const other = await t.sibling();
    try {
      expect(await verifyAtOnce([t, other], rawKey, 2000)).toEqual({ VALID: 2000 });
      // The other instance reports what it spent from its block within a flush interval.
      await expect.poll(() => apiRemaining(data.id), { timeout: 5000 }).toBe(8000);
    } finally {
      await other.close();
    }
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(8000);
    expect(await leaseRows()).toBe(0);
  });

  it('gives exactly 100 VALID out of 1,000 concurrent verifications of a key with 100 credits', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 100 } });
    const { apps, close } = await instances();
    try {
      expect(await verifyAtOnce(apps, rawKey, 1000)).toEqual({ VALID: 100, USAGE_EXCEEDED: 900 });
    } finally {
      await close();
    }
    expect(await storedRemaining(data.id)).toBe(0);
    // Few credits are spent per request: no block was ever taken.
    expect(await leaseRows()).toBe(0);
  });

  it('spends down to exactly zero when leasing gives way to per-request spends on the way', async () => {
    // Leased while 1,000 or more are left, then spent per request.
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 1100 } });
    expect(await verifyAtOnce([t], rawKey, 1200)).toEqual({ VALID: 1100, USAGE_EXCEEDED: 100 });
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(0);
  });

  it("gives exactly 2,000 VALID against a team balance of 10,000 and gives the team's unused block back", async () => {
    await setBalance(10_000);
    const { rawKey } = await t.createKey(owner);
    expect(await verifyAtOnce([t], rawKey, 2000)).toEqual({ VALID: 2000 });
    await expect.poll(() => apiBalance(), { timeout: 5000 }).toBe(8000);
    await t.app.close();
    expect(await storedBalance()).toBe(8000);
    expect(await leaseRows()).toBe(0);
  });

  it('gives exactly 100 VALID out of 1,000 concurrent verifications against a team balance of 100', async () => {
    await setBalance(100);
    const { rawKey } = await t.createKey(owner);
    const { apps, close } = await instances();
    try {
      expect(await verifyAtOnce(apps, rawKey, 1000)).toEqual({ VALID: 100, USAGE_EXCEEDED: 900 });
    } finally {
      await close();
    }
    expect(await storedBalance()).toBe(0);
    expect(await leaseRows()).toBe(0);
  });

  it("takes nothing from the key's block when the team cannot pay", async () => {
    await setBalance(100);
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const { apps, close } = await instances();
    try {
      expect(await verifyAtOnce(apps, rawKey, 1000)).toEqual({ VALID: 100, USAGE_EXCEEDED: 900 });
    } finally {
      await close();
    }
    await t.app.close();
    expect(await storedBalance()).toBe(0);
    expect(await storedRemaining(data.id)).toBe(9900);
  });

  it('charges key and team blocks together', async () => {
    await setBalance(20_000);
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    expect(await verifyAtOnce([t], rawKey, 1000, 2)).toEqual({ VALID: 1000 });
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(8000);
    expect(await storedBalance()).toBe(18_000);
    expect(await leaseRows()).toBe(0);
  });

  it('never gives an old block back into credits the owner reset meanwhile', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const { apps, close } = await instances();
    try {
      // Every instance holds a block now.
      expect(await verifyAtOnce(apps, rawKey, 20)).toEqual({ VALID: 20 });
      expect(await leaseRows(data.id)).toBe(apps.length);
      const reset = await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { credits: { limit: 5000 } } });
      expect(reset.statusCode).toBe(200);
      expect(reset.json().data.credits.remaining).toBe(5000);
      expect(await verifyAtOnce([t], rawKey, 7)).toEqual({ VALID: 7 });
      // The other instance hears of the reset and gives its block back, which then adds nothing.
      await expect.poll(() => apiRemaining(data.id), { timeout: 5000 }).toBe(4993);
    } finally {
      await close();
    }
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(4993);
    expect(await leaseRows()).toBe(0);
  });

  it("never gives an old block back into a team balance the owner reset meanwhile", async () => {
    await setBalance(10_000);
    const { rawKey } = await t.createKey(owner);
    expect(await verifyAtOnce([t], rawKey, 10)).toEqual({ VALID: 10 });
    await setBalance(3000);
    expect(await verifyAtOnce([t], rawKey, 4)).toEqual({ VALID: 4 });
    await t.app.close();
    expect(await storedBalance()).toBe(2996);
  });

  it('answers no VALID once a revoke returns, and gives the block back', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    expect(await verifyAtOnce([t], rawKey, 5)).toEqual({ VALID: 5 });
    expect(await leaseRows(data.id)).toBe(1);
    const revoked = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(revoked.statusCode).toBe(200);
    expect(await verifyAtOnce([t], rawKey, 50)).toEqual({ REVOKED: 50 });
    await expect.poll(() => leaseRows(data.id), { timeout: 5000 }).toBe(0);
    expect(await storedRemaining(data.id)).toBe(9995);
  });

  it.skipIf(dialect !== 'postgres')('has another instance stop spending and give its block back when a key is revoked', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const other = await t.sibling();
    try {
      expect(await verifyAtOnce([other], rawKey, 5)).toEqual({ VALID: 5 });
      expect(await leaseRows(data.id)).toBe(1);
      await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
      // Until the news arrives (well under a second) the other instance may still answer VALID.
      let valid = 5;
      await expect
        .poll(
          async () => {
            const code = (await other.verify({ key: rawKey })).code;
            if (code === 'VALID') valid += 1;
            return code;
          },
          { timeout: 5000 },
        )
        .toBe('REVOKED');
      expect(await verifyAtOnce([other], rawKey, 20)).toEqual({ REVOKED: 20 });
      await expect.poll(() => leaseRows(data.id), { timeout: 5000 }).toBe(0);
      expect(await storedRemaining(data.id)).toBe(10_000 - valid);
    } finally {
      await other.close();
    }
  });

  it('gives a block back after two seconds without use', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect(await storedRemaining(data.id)).toBe(9500);
    t.clock.advance(3000);
    await expect.poll(() => storedRemaining(data.id), { timeout: 5000 }).toBe(9999);
    expect(await leaseRows()).toBe(0);
  });

  it("never gives back a crashed instance's lease, counts it in reads until it expires, then sweeps it", async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const now = t.clock.now();
    // What an instance that crashed mid-block leaves: 700 credits out, 200 of them reported spent.
    await t.handle.db.updateTable('api_keys').set({ credits_remaining: sql<number>`credits_remaining - 700` }).where('id', '=', data.id).execute();
    await t.handle.db
      .insertInto('credit_leases')
      .values({ id: 'lse_crashed', instance_id: 'ins_crashed', subject_kind: 'key', subject_id: data.id, granted: 700, spent: 200, generation: 0, created_at: now, expires_at: now + 60_000 })
      .execute();
    expect(await apiRemaining(data.id)).toBe(9800);
    t.clock.advance(61_000);
    await expect.poll(() => leaseRows(data.id), { timeout: 5000 }).toBe(0);
    // Its unspent 500 are forfeited: the instance may have spent them before it died.
    expect(await apiRemaining(data.id)).toBe(9300);
    expect(await verifyAtOnce([t], rawKey, 10)).toEqual({ VALID: 10 });
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(9290);
  });

  it('sweeps the expired lease of a crashed instance when the key is leased again', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10_000 } });
    const now = t.clock.now();
    await t.handle.db.updateTable('api_keys').set({ credits_remaining: sql<number>`credits_remaining - 700` }).where('id', '=', data.id).execute();
    await t.handle.db
      .insertInto('credit_leases')
      .values({ id: 'lse_crashed', instance_id: 'ins_crashed', subject_kind: 'key', subject_id: data.id, granted: 700, spent: 0, generation: 0, created_at: now - 120_000, expires_at: now - 60_000 })
      .execute();
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    const leases = await t.handle.db.selectFrom('credit_leases').select('id').where('subject_id', '=', data.id).execute();
    expect(leases.map((l) => l.id)).not.toContain('lse_crashed');
    await t.app.close();
    expect(await storedRemaining(data.id)).toBe(9299);
  });

  it('spends refill keys per request and still refills them at the start of the period', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 5000, refill: { amount: 5000, interval: 'day' } } });
    expect(await verifyAtOnce([t], rawKey, 10, 500)).toEqual({ VALID: 10 });
    expect(await verifyAtOnce([t], rawKey, 5)).toEqual({ USAGE_EXCEEDED: 5 });
    t.clock.advance(24 * 3_600_000);
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 4999 } });
    expect(await leaseRows()).toBe(0);
    expect(await storedRemaining(data.id)).toBe(4999);
  });
});

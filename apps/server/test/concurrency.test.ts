import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, dialect, tallyCodes, verifyAllAtOnce, type TestApp, type TestUser, type Verifier } from './helpers';

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
async function verifyAtOnce(apps: Verifier[], key: string, count: number): Promise<Record<string, number>> {
  return tallyCodes(await verifyAllAtOnce(apps, { key }, count));
}

async function getKey(id: string) {
  const res = await t.request({ url: `/api/v1/keys/${id}`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return res.json().data as { usageCount: number; credits: { remaining: number } | null };
}

async function teamBalance(): Promise<number | null> {
  const res = await t.request({ url: '/api/v1/team', cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return (res.json().data.credits as { balance: number } | null)?.balance ?? null;
}

describe(`concurrent verification on ${dialect}`, () => {
  it('gives exactly 50 VALID out of 300 concurrent verifications of a key with 50 credits', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 50 } });
    const codes = await verifyAtOnce([t], rawKey, 300);
    expect(codes).toEqual({ VALID: 50, USAGE_EXCEEDED: 250 });
    expect(await getKey(data.id)).toMatchObject({ usageCount: 50, credits: { remaining: 0 } });
  });

  it("gives exactly 50 VALID out of 300 concurrent verifications against a team balance of 50", async () => {
    const patch = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { credits: { balance: 50 } } });
    expect(patch.statusCode).toBe(200);
    const { data, rawKey } = await t.createKey(owner);
    const codes = await verifyAtOnce([t], rawKey, 300);
    expect(codes).toEqual({ VALID: 50, USAGE_EXCEEDED: 250 });
    expect(await teamBalance()).toBe(0);
    expect(await getKey(data.id)).toMatchObject({ usageCount: 50, credits: null });
  });

  it.skipIf(dialect !== 'postgres')('gives exactly 50 VALID out of 300 concurrent verifications split across two instances', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 50 } });
    const other = await t.sibling();
    try {
      const codes = await verifyAtOnce([t, other], rawKey, 300);
      expect(codes).toEqual({ VALID: 50, USAGE_EXCEEDED: 250 });
    } finally {
      await other.close();
    }
    expect(await getKey(data.id)).toMatchObject({ usageCount: 50, credits: { remaining: 0 } });
  });

  it('spends a cost larger than 1 atomically: 300 concurrent verifications of cost 3 against 50 credits give 16 VALID', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 50 } });
    const responses = await Promise.all(
      Array.from({ length: 300 }, () => t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey, cost: 3 } })),
    );
    const valid = responses.filter((res) => res.json().code === 'VALID');
    expect(valid).toHaveLength(16);
    // Every VALID answer saw a distinct remaining balance: no two spent the same credits.
    expect(new Set(valid.map((res) => res.json().credits.remaining)).size).toBe(16);
    expect(await getKey(data.id)).toMatchObject({ usageCount: 16, credits: { remaining: 2 } });
  });

  it('refills only once when 300 concurrent verifications arrive after midnight', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 50, refill: { amount: 50, interval: 'day' } } });
    expect((await t.verify({ key: rawKey, cost: 50 })).code).toBe('VALID');
    t.clock.advance(12 * 3_600_000);
    const codes = await verifyAtOnce([t], rawKey, 300);
    expect(codes).toEqual({ VALID: 50, USAGE_EXCEEDED: 250 });
    expect(await getKey(data.id)).toMatchObject({ usageCount: 51, credits: { remaining: 0 } });
  });

  it('counts exactly 100 uses for 100 concurrent verifications of an unlimited key', async () => {
    const { data, rawKey } = await t.createKey(owner);
    const codes = await verifyAtOnce([t], rawKey, 100);
    expect(codes).toEqual({ VALID: 100 });
    expect((await getKey(data.id)).usageCount).toBe(100);
    const now = t.clock.now();
    const usage = await t.request({
      url: `/api/v1/keys/${data.id}/usage?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`,
      cookie: owner.cookie,
    });
    const total = (usage.json().data as Array<{ valid: number }>).reduce((sum, p) => sum + p.valid, 0);
    expect(total).toBe(100);
  });
});

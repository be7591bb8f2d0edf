import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store, UsageBatch } from '@keysmith/core';
import { createUsageSink } from '@keysmith/db';
import { buildTestApp, type TestApp } from './helpers';

const HOUR = 3_600_000;
/** The test clock starts at 2026-11-20T12:00:00.000Z. */
const START = Date.UTC(2026, 10, 20, 12, 0, 0);

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Usage writes that can lose their reply: the batch is really written, then the write throws. */
function lossyUsage() {
  const probe = { loseReplies: 0, lost: 0, writes: [] as Array<{ id: string; ok: boolean }> };
  const wrap = (store: Store): Store => ({
    ...store,
    async writeUsage(batch: UsageBatch) {
      await store.writeUsage(batch);
      if (probe.loseReplies > 0) {
        probe.loseReplies -= 1;
        probe.lost += 1;
        probe.writes.push({ id: batch.id, ok: false });
        // What pg says when the connection drops between COMMIT and its reply.
        throw new Error('Connection terminated unexpectedly');
      }
      probe.writes.push({ id: batch.id, ok: true });
    },
  });
  return { probe, wrap };
}

describe('usage counts when a write is applied but its reply is lost', () => {
  it('counts every VALID answer exactly once after the retry', async () => {
    const { probe, wrap } = lossyUsage();
    // Short flushes, so the timer writes (and loses) the first batch and retries it by itself.
    t = await buildTestApp({ start: START, wrapStore: wrap, env: { KEYSMITH_USAGE_FLUSH_MS: '20' } });
    const app = t;
    const owner = await app.signup();
    const { data, rawKey } = await app.createKey(owner, { scopes: ['read'] });
    probe.loseReplies = 1;

    for (let i = 0; i < 5; i += 1) expect((await app.verify({ key: rawKey })).code).toBe('VALID');
    expect((await app.verify({ key: rawKey, scopes: ['admin'] })).code).toBe('INSUFFICIENT_SCOPES');
    await vi.waitFor(() => expect(probe.lost).toBe(1), { timeout: 5_000, interval: 10 });
    // Counted after the loss: they go in a later batch of their own, never into the lost one.
    for (let i = 0; i < 3; i += 1) expect((await app.verify({ key: rawKey })).code).toBe('VALID');

    // Reading the key writes what is pending first (the lost batch again, then the newer counts).
    const key = (await app.request({ url: `/api/v1/keys/${data.id}`, cookie: owner.cookie })).json().data;
    expect(key.usageCount).toBe(8);
    const usage = await app.request({
      url: `/api/v1/keys/${data.id}/usage?from=${new Date(START).toISOString()}&to=${new Date(START + HOUR).toISOString()}&interval=hour`,
      cookie: owner.cookie,
    });
    expect(usage.json().data).toEqual([{ t: new Date(START).toISOString(), valid: 8, rejected: 1, creditsUsed: 8 }]);

    // The lost batch was written again under its own id before anything newer.
    const [lost, retried] = probe.writes;
    expect(lost?.ok).toBe(false);
    expect(retried).toEqual({ id: lost?.id, ok: true });
    expect(probe.writes.slice(2).every((w) => w.ok && w.id !== lost?.id)).toBe(true);
  });

  it('applies a batch id once, and forgets ids older than a day', async () => {
    t = await buildTestApp({ start: START, env: { KEYSMITH_USAGE_FLUSH_MS: '60000' } });
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    let now = START;
    const sink = createUsageSink(t.handle.db, { now: () => now });
    const batch = (id: string): UsageBatch => ({
      id,
      keys: [{ keyId: data.id, valid: 2, lastUsedAt: START }],
      hours: [{ keyId: data.id, teamId: owner.team.id, hour: START, valid: 2, rejected: 1, creditsUsed: 0 }],
    });
    const counts = async () => {
      const row = await t!.handle.db.selectFrom('api_keys').select('usage_count').where('id', '=', data.id).executeTakeFirstOrThrow();
      const hour = await t!.handle.db.selectFrom('usage_hourly').select(['valid', 'rejected']).where('key_id', '=', data.id).executeTakeFirstOrThrow();
      return { usageCount: Number(row.usage_count), valid: Number(hour.valid), rejected: Number(hour.rejected) };
    };
    const ids = async () => (await t!.handle.db.selectFrom('usage_batches').select('id').orderBy('id').execute()).map((r) => r.id);

    await sink.write(batch('ub_first'));
    await sink.write(batch('ub_first'));
    expect(await counts()).toEqual({ usageCount: 2, valid: 2, rejected: 1 });

    now = START + 25 * HOUR;
    await sink.write(batch('ub_second'));
    expect(await counts()).toEqual({ usageCount: 4, valid: 4, rejected: 2 });
    expect(await ids()).toEqual(['ub_second']);
  });
});

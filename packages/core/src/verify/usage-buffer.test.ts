import { describe, expect, it } from 'vitest';
import { createUsageBuffer, type UsageBatch } from './usage-buffer';

const HOUR = 3_600_000;

describe('usage buffer', () => {
  it('writes per-key totals and per-hour counts, once', async () => {
    const batches: UsageBatch[] = [];
    const buffer = createUsageBuffer({ write: async (b) => void batches.push(b) });
    buffer.record('key_a', 'team_1', 10 * HOUR + 5, { valid: true, creditsUsed: 2 });
    buffer.record('key_a', 'team_1', 10 * HOUR + 9, { valid: true, creditsUsed: 1 });
    buffer.record('key_a', 'team_1', 11 * HOUR, { valid: false, creditsUsed: 0 });
    await buffer.flush();
    await buffer.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.keys).toEqual([{ keyId: 'key_a', valid: 2, lastUsedAt: 10 * HOUR + 9 }]);
    expect(batches[0]?.hours).toEqual([
      { keyId: 'key_a', teamId: 'team_1', hour: 10 * HOUR, valid: 2, rejected: 0, creditsUsed: 3 },
      { keyId: 'key_a', teamId: 'team_1', hour: 11 * HOUR, valid: 0, rejected: 1, creditsUsed: 0 },
    ]);
  });

  it('gives every batch its own ub_ id', async () => {
    const batches: UsageBatch[] = [];
    const buffer = createUsageBuffer({ write: async (b) => void batches.push(b) });
    buffer.record('key_a', 't', HOUR, { valid: true, creditsUsed: 0 });
    await buffer.flush();
    buffer.record('key_a', 't', HOUR, { valid: true, creditsUsed: 0 });
    await buffer.flush();
    expect(batches.map((b) => b.id)).toEqual([expect.stringMatching(/^ub_[0-9A-Za-z]{20}$/), expect.stringMatching(/^ub_[0-9A-Za-z]{20}$/)]);
    expect(batches[0]?.id).not.toBe(batches[1]?.id);
  });

  it('writes a failed batch again as it was, before the newer counts, which go in a batch of their own', async () => {
    let fail = true;
    const attempts: UsageBatch[] = [];
    let n = 0;
    const buffer = createUsageBuffer(
      {
        write: async (b) => {
          attempts.push(structuredClone(b));
          if (fail) throw new Error('database down');
        },
      },
      { newId: () => `ub_${(n += 1)}` },
    );
    buffer.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 });
    await expect(buffer.flush()).rejects.toThrow('database down');
    buffer.record('key_a', 't', HOUR + 1, { valid: true, creditsUsed: 1 });
    buffer.record('key_b', 't', HOUR + 2, { valid: false, creditsUsed: 0 });
    // Still down: the same batch fails again, and nothing newer is tried behind it.
    await expect(buffer.flush()).rejects.toThrow('database down');
    expect(buffer.pending).toBe(3);
    fail = false;
    await buffer.flush();
    expect(buffer.pending).toBe(0);

    const first = { id: 'ub_1', keys: [{ keyId: 'key_a', valid: 1, lastUsedAt: HOUR }], hours: [{ keyId: 'key_a', teamId: 't', hour: HOUR, valid: 1, rejected: 0, creditsUsed: 1 }] };
    expect(attempts).toEqual([
      first,
      first,
      first,
      {
        id: 'ub_2',
        keys: [{ keyId: 'key_a', valid: 1, lastUsedAt: HOUR + 1 }],
        hours: [
          { keyId: 'key_a', teamId: 't', hour: HOUR, valid: 1, rejected: 0, creditsUsed: 1 },
          { keyId: 'key_b', teamId: 't', hour: HOUR, valid: 0, rejected: 1, creditsUsed: 0 },
        ],
      },
    ]);
  });

  it('counts each use exactly once when a write is applied but its reply is lost', async () => {
    // The database as the sink sees it: applies a batch id at most once.
    const applied = new Set<string>();
    const totals = new Map<string, number>();
    const hourly = new Map<string, number>();
    let loseReply = 1;
    const apply = (b: UsageBatch) => {
      if (applied.has(b.id)) return;
      applied.add(b.id);
      for (const k of b.keys) totals.set(k.keyId, (totals.get(k.keyId) ?? 0) + k.valid);
      for (const h of b.hours) hourly.set(`${h.keyId}@${h.hour}`, (hourly.get(`${h.keyId}@${h.hour}`) ?? 0) + h.valid + h.rejected);
    };
    const ids: string[] = [];
    const buffer = createUsageBuffer({
      write: async (b) => {
        ids.push(b.id);
        apply(b); // committed …
        if (loseReply > 0) {
          loseReply -= 1;
          throw new Error('Connection terminated unexpectedly'); // … but the reply never came
        }
      },
    });
    for (let i = 0; i < 5; i += 1) buffer.record('key_a', 't', HOUR + i, { valid: true, creditsUsed: 0 });
    buffer.record('key_b', 't', 2 * HOUR, { valid: false, creditsUsed: 0 });
    await expect(buffer.flush()).rejects.toThrow('Connection terminated');
    for (let i = 0; i < 3; i += 1) buffer.record('key_a', 't', 2 * HOUR + i, { valid: true, creditsUsed: 0 });
    await buffer.flush();
    await buffer.flush();

    // The lost batch was sent again under its id (and skipped), then the newer counts under a new one.
    expect(ids).toHaveLength(3);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(totals).toEqual(new Map([['key_a', 8]]));
    expect(hourly).toEqual(
      new Map([
        [`key_a@${HOUR}`, 5],
        [`key_b@${2 * HOUR}`, 1],
        [`key_a@${2 * HOUR}`, 3],
      ]),
    );
  });

  it('never runs two writes at once, and loses nothing recorded during a write', async () => {
    let active = 0;
    let maxActive = 0;
    let total = 0;
    const buffer = createUsageBuffer({
      write: async (b) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 5));
        total += b.keys.reduce((n, k) => n + k.valid, 0);
        active -= 1;
      },
    });
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 100; i += 1) {
      buffer.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 });
      if (i % 10 === 0) flushes.push(buffer.flush());
    }
    await Promise.all(flushes);
    await buffer.flush();
    expect(maxActive).toBe(1);
    expect(total).toBe(100);
  });
});

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

  it('keeps the counts of a failed write and writes them with the next', async () => {
    let fail = true;
    const batches: UsageBatch[] = [];
    const buffer = createUsageBuffer({
      write: async (b) => {
        if (fail) throw new Error('database down');
        batches.push(b);
      },
    });
    buffer.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 });
    await expect(buffer.flush()).rejects.toThrow('database down');
    buffer.record('key_a', 't', HOUR + 1, { valid: true, creditsUsed: 1 });
    fail = false;
    await buffer.flush();
    expect(batches[0]?.keys).toEqual([{ keyId: 'key_a', valid: 2, lastUsedAt: HOUR + 1 }]);
    expect(batches[0]?.hours[0]?.valid).toBe(2);
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

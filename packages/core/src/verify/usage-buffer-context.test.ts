import { describe, expect, it } from 'vitest';
import { SEEN_PER_FLUSH, createUsageBuffer, type UsageBatch } from './usage-buffer';

const HOUR = 3_600_000;

function buffer() {
  const batches: UsageBatch[] = [];
  return { batches, buffer: createUsageBuffer({ write: async (b) => void batches.push(structuredClone(b)) }) };
}

describe('usage buffer: what callers saw', () => {
  it('leaves the batch as it was when no caller sent a context', async () => {
    const { batches, buffer: b } = buffer();
    b.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 });
    b.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 }, {});
    await b.flush();
    expect(Object.keys(batches[0] ?? {}).sort()).toEqual(['hours', 'id', 'keys']);
  });

  it('counts networks and user agents per key, with the first and last time each was seen', async () => {
    const { batches, buffer: b } = buffer();
    b.record('key_a', 't', HOUR + 1, { valid: true, creditsUsed: 1 }, { ip: '203.0.113.7', userAgent: 'curl/8' });
    b.record('key_a', 't', HOUR + 5, { valid: true, creditsUsed: 1 }, { ip: '203.0.113.9' });
    b.record('key_a', 't', HOUR + 3, { valid: false, creditsUsed: 0, code: 'INSUFFICIENT_SCOPES' }, { ip: '2001:db8:abcd:12::1', userAgent: 'curl/8' });
    b.record('key_b', 'u', HOUR + 4, { valid: true, creditsUsed: 1 }, { userAgent: 'sdk/2' });
    await b.flush();
    expect(batches[0]?.seen).toEqual([
      {
        keyId: 'key_a',
        teamId: 't',
        networks: [
          { network: '203.0.113.0/24', firstSeen: HOUR + 1, lastSeen: HOUR + 5, count: 2 },
          { network: '2001:db8:abcd::/48', firstSeen: HOUR + 3, lastSeen: HOUR + 3, count: 1 },
        ],
        userAgents: [{ userAgent: 'curl/8', firstSeen: HOUR + 1, lastSeen: HOUR + 3, count: 2 }],
        droppedNetworks: 0,
        droppedUserAgents: 0,
      },
      { keyId: 'key_b', teamId: 'u', networks: [], userAgents: [{ userAgent: 'sdk/2', firstSeen: HOUR + 4, lastSeen: HOUR + 4, count: 1 }], droppedNetworks: 0, droppedUserAgents: 0 },
    ]);
    // The next batch starts afresh.
    b.record('key_a', 't', HOUR + 9, { valid: true, creditsUsed: 1 });
    await b.flush();
    expect(batches[1]?.seen).toBeUndefined();
  });

  it(`keeps at most ${SEEN_PER_FLUSH} networks and user agents per key and flush, and counts the rest`, async () => {
    const { batches, buffer: b } = buffer();
    for (let i = 0; i < SEEN_PER_FLUSH + 4; i += 1) {
      // Two addresses per network: the second must not make a network of its own.
      b.record('key_a', 't', HOUR + i, { valid: true, creditsUsed: 1 }, { ip: `198.51.${i}.1`, userAgent: `agent/${i}` });
      b.record('key_a', 't', HOUR + i, { valid: true, creditsUsed: 1 }, { ip: `198.51.${i}.2` });
    }
    await b.flush();
    const seen = batches[0]?.seen?.[0];
    expect(seen?.networks).toHaveLength(SEEN_PER_FLUSH);
    expect(seen?.networks.every((n) => n.count === 2)).toBe(true);
    expect(seen?.userAgents).toHaveLength(SEEN_PER_FLUSH);
    expect(seen?.droppedNetworks).toBe(8);
    expect(seen?.droppedUserAgents).toBe(4);
  });

  it('counts rejections of known keys by code', async () => {
    const { batches, buffer: b } = buffer();
    b.record('key_a', 't', HOUR + 1, { valid: false, creditsUsed: 0, code: 'REVOKED' });
    b.record('key_a', 't', HOUR + 7, { valid: false, creditsUsed: 0, code: 'REVOKED' });
    b.record('key_a', 't', HOUR + 2, { valid: false, creditsUsed: 0, code: 'RATE_LIMITED' });
    b.record('key_b', 't', HOUR + 3, { valid: true, creditsUsed: 0 });
    await b.flush();
    expect(batches[0]?.rejections).toEqual([
      { keyId: 'key_a', teamId: 't', code: 'REVOKED', count: 2, lastAt: HOUR + 7 },
      { keyId: 'key_a', teamId: 't', code: 'RATE_LIMITED', count: 1, lastAt: HOUR + 2 },
    ]);
    expect(batches[0]?.hours.find((h) => h.keyId === 'key_a')?.rejected).toBe(3);
  });

  it('writes a failed batch again with the same networks, and newer ones in a batch of their own', async () => {
    let fail = true;
    const attempts: UsageBatch[] = [];
    const b = createUsageBuffer({
      write: async (batch) => {
        attempts.push(structuredClone(batch));
        if (fail) throw new Error('down');
      },
    });
    b.record('key_a', 't', HOUR, { valid: true, creditsUsed: 1 }, { ip: '192.0.2.1' });
    await expect(b.flush()).rejects.toThrow('down');
    b.record('key_a', 't', HOUR + 1, { valid: true, creditsUsed: 1 }, { ip: '192.0.3.1' });
    fail = false;
    await b.flush();
    expect(attempts.map((a) => a.seen?.[0]?.networks.map((n) => n.network))).toEqual([['192.0.2.0/24'], ['192.0.2.0/24'], ['192.0.3.0/24']]);
    expect(attempts[1]?.id).toBe(attempts[0]?.id);
  });
});

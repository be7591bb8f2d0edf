import { describe, expect, it } from 'vitest';
import type { KeySeen } from '../verify/usage-buffer';
import { DEFAULT_ALERT_SETTINGS, NEW_NETWORK_WINDOW_MS } from './model';
import { findNewNetworks, isCreditsLow, spikeOf } from './rules';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 10, 20, 12, 0, 0);

const seen = (keyId: string, networks: string[], at = T): KeySeen => ({
  keyId,
  teamId: 'team_1',
  networks: networks.map((network, i) => ({ network, firstSeen: at + i, lastSeen: at + i, count: 1 })),
  userAgents: [],
  droppedNetworks: 0,
  droppedUserAgents: 0,
});

describe('findNewNetworks', () => {
  it("takes a key's very first network as its baseline, and the others of that batch as new", () => {
    expect(findNewNetworks([seen('key_a', ['192.0.2.0/24'])], [])).toEqual([]);
    expect(findNewNetworks([seen('key_a', ['192.0.2.0/24', '198.51.100.0/24'])], []).map((n) => n.network)).toEqual(['198.51.100.0/24']);
  });

  it('finds networks not used in the last 30 days, and only those', () => {
    const stored = [
      { keyId: 'key_a', value: '192.0.2.0/24', firstSeen: T - 40 * DAY, lastSeen: T - DAY, count: 9 },
      { keyId: 'key_a', value: '198.51.100.0/24', firstSeen: T - 40 * DAY, lastSeen: T - NEW_NETWORK_WINDOW_MS - 1, count: 2 },
    ];
    const found = findNewNetworks([seen('key_a', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'])], stored);
    expect(found).toEqual([
      { keyId: 'key_a', teamId: 'team_1', network: '198.51.100.0/24', at: T + 1, previousLastSeen: T - NEW_NETWORK_WINDOW_MS - 1 },
      { keyId: 'key_a', teamId: 'team_1', network: '203.0.113.0/24', at: T + 2, previousLastSeen: null },
    ]);
  });
});

describe('spikeOf', () => {
  const rule = DEFAULT_ALERT_SETTINGS['key.usage_spike'];
  const created = { createdAt: T - 7 * DAY };

  it('is a spike above 5× the hourly average with at least 100 calls', () => {
    const now = T + 30 * 60_000;
    // 168 baseline hours of 10 calls: average 10; 60 now + half of the previous hour's 100.
    expect(spikeOf({ keyId: 'k', current: 60, previous: 100, baseline: 1680 }, created, now, rule)).toEqual({ calls: 110, average: 10, baselineHours: 168 });
    expect(spikeOf({ keyId: 'k', current: 50, previous: 0, baseline: 1680 }, created, now, rule)).toBeNull();
    expect(spikeOf({ keyId: 'k', current: 99, previous: 0, baseline: 0 }, created, now, rule)).toBeNull();
    expect(spikeOf({ keyId: 'k', current: 100, previous: 0, baseline: 0 }, created, now, rule)).not.toBeNull();
  });

  it('averages over the hours the key existed, and needs one full hour of them', () => {
    expect(spikeOf({ keyId: 'k', current: 500, previous: 0, baseline: 0 }, { createdAt: T + 5 }, T + 10, rule)).toBeNull();
    expect(spikeOf({ keyId: 'k', current: 500, previous: 400, baseline: 400 }, { createdAt: T - HOUR }, T, rule)).toBeNull();
    expect(spikeOf({ keyId: 'k', current: 500, previous: 20, baseline: 40 }, { createdAt: T - 2 * HOUR }, T + HOUR - 1, rule)).toMatchObject({ average: 20, baselineHours: 2 });
  });
});

describe('isCreditsLow', () => {
  it('is true under the percentage of the limit, never for a limit of 0', () => {
    expect(isCreditsLow(10, 100, 10)).toBe(false);
    expect(isCreditsLow(9, 100, 10)).toBe(true);
    expect(isCreditsLow(0, 0, 10)).toBe(false);
  });
});

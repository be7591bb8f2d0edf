import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock';
import type { KeyForVerification } from '../ports';
import { createKeyCache } from './key-cache';

function key(id: string, teamId = 'team_1'): KeyForVerification {
  return {
    id, teamId, teamHasBalance: false, name: id, description: null, prefix: 'pk_live_abcd', environment: 'live', enabled: true, scopes: [],
    createdAt: 0, createdBy: null, expiresAt: null, lastUsedAt: null, revokedAt: null, usageCount: 0, credits: null, rateLimit: null,
    metadata: {}, updatedAt: 0, oldSecret: null,
  };
}

function cache(maxEntries = 10) {
  const clock = createManualClock(1_000_000);
  return { clock, cache: createKeyCache({ clock, maxEntries, negativeTtlMs: 2000, maxNegative: 3 }) };
}

describe('key cache', () => {
  it('answers a filled key from memory and misses an unknown hash', () => {
    const { cache: c } = cache();
    expect(c.lookup('h1').kind).toBe('miss');
    c.fill('h1', key('key_a'), c.epoch());
    expect(c.lookup('h1')).toEqual({ kind: 'hit', key: key('key_a') });
  });

  it('remembers an unknown hash only for the negative window', () => {
    const { cache: c, clock } = cache();
    c.fill('nope', undefined, c.epoch());
    expect(c.lookup('nope').kind).toBe('absent');
    clock.advance(2001);
    expect(c.lookup('nope').kind).toBe('miss');
  });

  it('drops a fill whose read began before an invalidation (a slow read cannot bring back a stale record)', () => {
    const { cache: c } = cache();
    const before = c.epoch();
    c.invalidateKey('key_a'); // e.g. a revoke committed while the read was in flight
    c.fill('h1', key('key_a'), before);
    expect(c.lookup('h1').kind).toBe('miss');
    c.fill('h1', key('key_a'), c.epoch());
    expect(c.lookup('h1').kind).toBe('hit');
  });

  it('invalidates every secret of a key, a single hash, or a whole team', () => {
    const { cache: c } = cache();
    c.fill('old', key('key_a'), c.epoch());
    c.fill('new', key('key_a'), c.epoch());
    c.fill('other', key('key_b', 'team_2'), c.epoch());
    c.invalidateKey('key_a');
    expect([c.lookup('old').kind, c.lookup('new').kind, c.lookup('other').kind]).toEqual(['miss', 'miss', 'hit']);
    c.fill('x', undefined, c.epoch());
    c.invalidateHash('x');
    expect(c.lookup('x').kind).toBe('miss');
    c.invalidateTeam('team_2');
    expect(c.lookup('other').kind).toBe('miss');
  });

  it('keeps at most maxEntries keys, evicting the least recently used', () => {
    const { cache: c } = cache(2);
    c.fill('a', key('key_a'), c.epoch());
    c.fill('b', key('key_b'), c.epoch());
    c.lookup('a');
    c.fill('c', key('key_c'), c.epoch());
    expect([c.lookup('a').kind, c.lookup('b').kind, c.lookup('c').kind]).toEqual(['hit', 'miss', 'hit']);
    expect(c.size().keys).toBe(2);
  });

  it('never evicts a key hit at least once per quarter of its capacity of fills', () => {
    const { cache: c } = cache(8);
    c.fill('hot', key('key_hot'), c.epoch());
    for (let i = 0; i < 50; i += 1) {
      c.fill(`cold${i}`, key(`key_cold${i}`), c.epoch());
      if (i % 2 === 1) expect(c.lookup('hot').kind).toBe('hit');
    }
    expect(c.lookup('hot').kind).toBe('hit');
    expect(c.lookup('cold0').kind).toBe('miss');
    expect(c.size().keys).toBe(8);
  });

  it('keeps at most maxNegative unknown hashes', () => {
    const { cache: c } = cache();
    for (const h of ['n1', 'n2', 'n3', 'n4']) c.fill(h, undefined, c.epoch());
    expect(c.size().absent).toBe(3);
    expect(c.lookup('n1').kind).toBe('miss');
  });

  it('serves nothing and keeps nothing while disabled', () => {
    const { cache: c } = cache();
    c.fill('a', key('key_a'), c.epoch());
    c.setEnabled(false);
    expect(c.lookup('a').kind).toBe('miss');
    c.fill('b', key('key_b'), c.epoch());
    c.setEnabled(true);
    expect([c.lookup('a').kind, c.lookup('b').kind]).toEqual(['miss', 'miss']);
  });
});

import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock';
import type { CreditLeaseGrantRequest, CreditLeaseReturn, CreditLeaseStore } from '../ports';
import { cryptoRandom } from '../random';
import { createCreditLeases, creditBlockSize, DEFAULT_CREDIT_LEASE_POLICY, type CreditCharge } from './credit-leases';

/** An in-memory stand-in for the database side of leases, with the same guards, recording every call. */
function fakeStore(balances: Record<string, number>) {
  const subjects = new Map(Object.entries(balances).map(([name, remaining]) => [name, { remaining, generation: 0 }]));
  const leases = new Map<string, { subject: string; granted: number; spent: number; generation: number; expiresAt: number }>();
  const calls = { grants: 0, giveBacks: [] as CreditLeaseReturn[][], reports: [] as Array<Array<{ leaseId: string; spent: number }>> };
  let hold: Promise<void> | null = null;
  let failGiveBack = false;

  function giveBackOne(back: CreditLeaseReturn) {
    const lease = leases.get(back.leaseId);
    if (!lease) return;
    leases.delete(back.leaseId);
    const subject = subjects.get(lease.subject);
    if (subject && subject.generation === lease.generation) subject.remaining += back.rest;
  }

  const store: CreditLeaseStore = {
    async grant(request: CreditLeaseGrantRequest) {
      calls.grants += 1;
      if (hold) await hold;
      if (request.giveBack) giveBackOne(request.giveBack);
      const name = `${request.subject.kind}:${request.subject.id}`;
      const subject = subjects.get(name);
      if (!subject) return { granted: 0, remaining: null };
      const block = request.size(subject.remaining);
      if (block <= 0 || block > subject.remaining) return { granted: 0, remaining: subject.remaining };
      subject.remaining -= block;
      leases.set(request.leaseId, { subject: name, granted: block, spent: 0, generation: subject.generation, expiresAt: request.expiresAt });
      return { granted: block, remaining: subject.remaining };
    },
    async giveBack(returns) {
      if (failGiveBack) throw new Error('database down');
      calls.giveBacks.push(returns);
      for (const back of returns) giveBackOne(back);
    },
    async report(spent) {
      calls.reports.push(spent);
      for (const { leaseId, spent: n } of spent) {
        const lease = leases.get(leaseId);
        if (lease) lease.spent = n;
      }
    },
    async sweep(now) {
      let n = 0;
      for (const [id, lease] of leases) if (lease.expiresAt <= now) n += Number(leases.delete(id));
      return n;
    },
  };
  return {
    store,
    subjects,
    leases,
    calls,
    holdGrants() {
      let release = () => {};
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = null;
          resolve();
        };
      });
      return release;
    },
    failGiveBacks(value: boolean) {
      failGiveBack = value;
    },
  };
}

function setup(balances: Record<string, number>) {
  const clock = createManualClock();
  const db = fakeStore(balances);
  const leases = createCreditLeases({ store: db.store, clock, random: cryptoRandom, instanceId: 'ins_test' });
  const remainingOf = (name: string) => db.subjects.get(name)?.remaining;
  return { clock, db, leases, remainingOf };
}

const keyCharge = (remaining: number, cost = 1): CreditCharge => ({ cost, key: { id: 'k', leasable: true, remaining }, team: null });

describe('block sizing', () => {
  it('takes a twentieth of what is left, at most 1,000, and nothing below 1,000 left', () => {
    expect(creditBlockSize(DEFAULT_CREDIT_LEASE_POLICY, 1e9)).toBe(1000);
    expect(creditBlockSize(DEFAULT_CREDIT_LEASE_POLICY, 10_000)).toBe(500);
    expect(creditBlockSize(DEFAULT_CREDIT_LEASE_POLICY, 1000)).toBe(50);
    expect(creditBlockSize(DEFAULT_CREDIT_LEASE_POLICY, 999)).toBe(0);
    expect(creditBlockSize({ ...DEFAULT_CREDIT_LEASE_POLICY, maxBlock: 0 }, 1e9)).toBe(0);
  });
});

describe('credit leases', () => {
  it('spends from one granted block in memory and answers the database remaining plus the block rest', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    expect(await leases.spend(keyCharge(10_000))).toEqual({ remaining: 9_999 });
    expect(remainingOf('key:k')).toBe(9_500);
    for (let i = 0; i < 99; i += 1) await leases.spend(keyCharge(10_000));
    expect(await leases.spend(keyCharge(10_000, 5))).toEqual({ remaining: 9_500 + 500 - 105 });
    expect(db.calls.grants).toBe(1);
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(395);
  });

  it('leaves the charge to a per-request spend when few credits are left, without asking for a grant', async () => {
    const { db, leases } = setup({ 'key:k': 999 });
    expect(await leases.spend(keyCharge(999))).toBeNull();
    expect(db.calls.grants).toBe(0);
  });

  it('falls back to per request when a grant is refused, and remembers what the database said', async () => {
    // The key record says plenty, the database knows better (another instance spent them).
    const { db, leases } = setup({ 'key:k': 400 });
    expect(await leases.spend(keyCharge(50_000))).toBeNull();
    expect(await leases.spend(keyCharge(50_000))).toBeNull();
    expect(db.calls.grants).toBe(1);
  });

  it('never leases for a refill key', async () => {
    const { db, leases } = setup({ 'key:k': 1e6 });
    expect(await leases.spend({ cost: 1, key: { id: 'k', leasable: false, remaining: 1e6 }, team: null })).toBeNull();
    expect(db.calls.grants).toBe(0);
  });

  it('has one grant in flight per subject: concurrent spends that find the block empty wait for it', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 1e6 });
    const release = db.holdGrants();
    const spends = Array.from({ length: 200 }, () => leases.spend(keyCharge(1e6)));
    release();
    const results = await Promise.all(spends);
    expect(results.every((r) => r !== null)).toBe(true);
    expect(db.calls.grants).toBe(1);
    expect(remainingOf('key:k')).toBe(1e6 - 1000);
    // Every answer saw a distinct remaining: no credit was spent twice.
    expect(new Set(results.map((r) => r?.remaining)).size).toBe(200);
  });

  it('renews an empty block, giving back the old rest in the same grant', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    await leases.spend(keyCharge(10_000, 499)); // block of 500, 1 left
    await leases.spend(keyCharge(10_000, 2)); // cannot pay from 1: renew
    expect(db.calls.grants).toBe(2);
    // 10,000 − 500 + 1 back = 9,501; the new block is 9,501 / 20 = 475.
    expect(remainingOf('key:k')).toBe(9_501 - 475);
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(473);
  });

  it('takes a charge to key and team from both blocks or from neither', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000, 'team:t': 400 });
    // The key alone: a block is granted.
    await leases.spend(keyCharge(10_000));
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(499);
    // Key and team: the team has too little to lease, so the whole charge goes per request.
    const both: CreditCharge = { cost: 1, key: { id: 'k', leasable: true, remaining: 10_000 }, team: { id: 't' } };
    expect(await leases.spend(both)).toBeNull();
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(499);
    expect(remainingOf('team:t')).toBe(400);
    expect(db.calls.grants).toBe(2);
  });

  it('takes from both blocks when both can pay', async () => {
    const { leases, remainingOf } = setup({ 'key:k': 10_000, 'team:t': 40_000 });
    const both: CreditCharge = { cost: 3, key: { id: 'k', leasable: true, remaining: 10_000 }, team: { id: 't' } };
    expect(await leases.spend(both)).toEqual({ remaining: 9_500 + 497 });
    expect(leases.held({ kind: 'team', id: 't' })).toBe(997);
    expect(remainingOf('team:t')).toBe(39_000);
  });

  it('does not spend from a grant that was in flight when the subject was invalidated, and gives it back', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    const release = db.holdGrants();
    const spend = leases.spend(keyCharge(10_000));
    await leases.invalidate({ kind: 'key', id: 'k' });
    release();
    // The waiting spend tries again with a fresh grant.
    expect(await spend).not.toBeNull();
    await expect.poll(() => db.calls.giveBacks.flat().length).toBe(1);
    expect(db.calls.giveBacks.flat()[0]?.rest).toBe(500);
    expect(db.calls.grants).toBe(2);
    expect(remainingOf('key:k')).toBe(9_500);
  });

  it('stops spending from a block at once when invalidated, and gives back exactly its rest', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    for (let i = 0; i < 10; i += 1) await leases.spend(keyCharge(10_000));
    await leases.invalidate({ kind: 'key', id: 'k' });
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(0);
    expect(db.calls.giveBacks).toEqual([[{ leaseId: expect.stringMatching(/^lse_/), rest: 490 }]]);
    expect(remainingOf('key:k')).toBe(9_990);
  });

  it('gives back a block idle for two seconds, and one near its expiry', async () => {
    const { clock, db, leases, remainingOf } = setup({ 'key:k': 10_000, 'team:t': 100_000 });
    await leases.spend(keyCharge(10_000));
    clock.advance(1_000);
    await leases.tick();
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(499);
    clock.advance(1_000);
    await leases.tick();
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(0);
    expect(remainingOf('key:k')).toBe(9_999);

    const team: CreditCharge = { cost: 1, key: null, team: { id: 't' } };
    await leases.spend(team);
    // Busy, but within the margin before expiry: no longer spent from, and given back.
    for (let i = 0; i < 50; i += 1) {
      clock.advance(1_000);
      await leases.spend(team);
    }
    expect(db.calls.grants).toBe(3);
    expect(db.leases.size).toBe(1);
    // 45 spent from the first block (its rest went back with the renewal), 1,000 out in the second.
    expect(remainingOf('team:t')).toBe(100_000 - 45 - 1000);
  });

  it('retries a failed give-back on the next tick', async () => {
    const { clock, db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    await leases.spend(keyCharge(10_000));
    db.failGiveBacks(true);
    await expect(leases.invalidate({ kind: 'key', id: 'k' })).rejects.toThrow('database down');
    expect(leases.pendingReturns).toBe(1);
    db.failGiveBacks(false);
    clock.advance(1_000);
    await leases.tick();
    expect(leases.pendingReturns).toBe(0);
    expect(remainingOf('key:k')).toBe(9_999);
  });

  it('sweeps expired leases now and then, giving nothing back', async () => {
    const { clock, db, leases } = setup({ 'key:k': 10_000 });
    db.leases.set('lse_crashed', { subject: 'key:k', granted: 700, spent: 0, generation: 0, expiresAt: clock.now() + 5_000 });
    clock.advance(DEFAULT_CREDIT_LEASE_POLICY.sweepEveryMs);
    await leases.tick();
    expect(db.leases.has('lse_crashed')).toBe(false);
    expect(db.subjects.get('key:k')?.remaining).toBe(10_000);
  });

  it('reports what each block has spent, only when it changed', async () => {
    const { db, leases } = setup({ 'key:k': 10_000 });
    for (let i = 0; i < 7; i += 1) await leases.spend(keyCharge(10_000));
    await leases.report();
    await leases.report();
    expect(db.calls.reports).toEqual([[{ leaseId: expect.stringMatching(/^lse_/), spent: 7 }]]);
  });

  it('gives every rest back on close and leaves later charges to per-request spends', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000, 'team:t': 20_000 });
    await leases.spend({ cost: 2, key: { id: 'k', leasable: true, remaining: 10_000 }, team: { id: 't' } });
    await leases.close();
    expect(remainingOf('key:k')).toBe(9_998);
    expect(remainingOf('team:t')).toBe(19_998);
    expect(db.leases.size).toBe(0);
    expect(await leases.spend(keyCharge(10_000))).toBeNull();
  });

  it('while turned off, spends nothing from blocks and has given them back', async () => {
    const { db, leases, remainingOf } = setup({ 'key:k': 10_000 });
    await leases.spend(keyCharge(10_000));
    leases.setEnabled(false);
    expect(leases.held({ kind: 'key', id: 'k' })).toBe(0);
    expect(await leases.spend(keyCharge(10_000))).toBeNull();
    await expect.poll(() => remainingOf('key:k')).toBe(9_999);
    leases.setEnabled(true);
    expect(await leases.spend(keyCharge(9_999))).not.toBeNull();
    expect(db.calls.grants).toBe(2);
  });

  it('learns from per-request spends and adds its own block to their remaining', async () => {
    const { leases } = setup({ 'key:k': 10_000, 'team:t': 100 });
    await leases.spend(keyCharge(10_000));
    const both: CreditCharge = { cost: 1, key: { id: 'k', leasable: true, remaining: 10_000 }, team: { id: 't' } };
    expect(leases.observe(both, { remaining: 9_400, teamRemaining: 99 })).toEqual({ remaining: 9_400 + 499 });
  });
});

import type { Clock } from '../clock';
import type { Millis } from '../model';
import type { CreditLeaseReturn, CreditLeaseStore, CreditSubject, SpendResult } from '../ports';
import { createId, type Random } from '../random';

/** How blocks of credits are sized and how long they are held. */
export interface CreditLeasePolicy {
  /** The largest block one grant takes (0 turns leasing off: every spend is per request). */
  maxBlock: number;
  /** A grant takes at most 1/divisor of what is not leased yet. */
  divisor: number;
  /**
   * The smallest block worth leasing. Below `divisor × minBlock` credits left, every spend goes
   * to the database, so no block can keep credits from another instance when few are left.
   */
  minBlock: number;
  /** A lease's life in the database; a sweep deletes it after that. */
  ttlMs: number;
  /** Spending from a lease stops this long before it expires, and its rest is given back. */
  marginMs: number;
  /** A block not spent from for this long is given back. */
  idleMs: number;
  /** How often expired leases (of crashed instances) are swept. */
  sweepEveryMs: number;
}

/**
 * 1,000 credits at most per grant (one database round trip per thousand verifications), never more
 * than 5 % of what is left, and none below 1,000 left: with N instances holding a block each, at
 * most 1 − 0.95^N of the credits are out at once, and the last thousand are spent exactly.
 */
export const DEFAULT_CREDIT_LEASE_POLICY: CreditLeasePolicy = {
  maxBlock: 1000,
  divisor: 20,
  minBlock: 50,
  ttlMs: 60_000,
  marginMs: 15_000,
  idleMs: 2_000,
  sweepEveryMs: 30_000,
};

/** How many credits one grant takes when `remaining` are not leased: 0 below the threshold. */
export function creditBlockSize(policy: Pick<CreditLeasePolicy, 'maxBlock' | 'divisor' | 'minBlock'>, remaining: number): number {
  const block = Math.min(policy.maxBlock, Math.floor(remaining / policy.divisor));
  return block >= Math.max(1, policy.minBlock) ? block : 0;
}

/** What one verification must pay, and from which balances. */
export interface CreditCharge {
  cost: number;
  /** The key's credits, if it has any: `remaining` as its record says; refill keys are not leasable. */
  key: { id: string; leasable: boolean; remaining: number } | null;
  /** The team's balance, if it has one. */
  team: { id: string } | null;
}

export interface CreditLeasesOptions {
  store: CreditLeaseStore;
  clock: Clock;
  random: Random;
  /** This instance, as recorded on its leases. */
  instanceId: string;
  policy?: Partial<CreditLeasePolicy>;
}

interface Block {
  leaseId: string;
  granted: number;
  spent: number;
  /** What the database was last told of `spent`. */
  reported: number;
  expiresAt: Millis;
}

interface SubjectState {
  ref: CreditSubject;
  block: Block | null;
  /** The one grant in flight for this subject on this instance. */
  refill: Promise<void> | null;
  /** Bumped by every invalidation: a grant that began before it must not be spent from. */
  epoch: number;
  /** What the database had not leased when last seen (null: not known). */
  known: number | null;
  lastUsedAt: Millis;
}

interface PendingReturn extends CreditLeaseReturn {
  expiresAt: Millis;
}

/**
 * How many grants one verification waits for before it spends per request instead. Each round
 * either brings a fresh block or learns that few are left, so this only bounds a pathological race.
 */
const MAX_ROUNDS = 10;

const rest = (block: Block | null) => (block ? block.granted - block.spent : 0);

/**
 * Credits spent in memory from blocks leased from the database: one grant per block instead of a
 * round trip per verification.
 *
 * Guarantees:
 * - Never overspends: a block's credits left the database when it was granted, and are spent
 *   from synchronously (no await between the check and the decrement), at most once each.
 * - A charge to both a key and its team is taken from both blocks or from neither; when either
 *   balance is not leased, the whole charge is spent per request (one database transaction).
 * - One grant in flight per subject: concurrent verifications that find the block empty wait for it.
 * - After `invalidate(subject)` returns, nothing is spent from a block granted before it; a grant
 *   still in flight then is given back unspent.
 * - Unused rests are given back on idle, before expiry, on invalidation and on `close`; the store's
 *   generation guard drops a rest whose credits the owner changed meanwhile. A crash forfeits at
 *   most one block per subject per instance (never given back: its true rest is unknown).
 */
export function createCreditLeases({ store, clock, random, instanceId, policy: overrides = {} }: CreditLeasesOptions) {
  const policy: CreditLeasePolicy = { ...DEFAULT_CREDIT_LEASE_POLICY, ...overrides };
  const subjects = new Map<string, SubjectState>();
  let pending: PendingReturn[] = [];
  let closed = false;
  let enabled = true;
  let lastSweepAt = clock.now();

  function state(kind: CreditSubject['kind'], id: string, now: Millis): SubjectState {
    const name = `${kind}:${id}`;
    let s = subjects.get(name);
    if (!s) subjects.set(name, (s = { ref: { kind, id }, block: null, refill: null, epoch: 0, known: null, lastUsedAt: now }));
    return s;
  }

  function canPay(s: SubjectState, cost: number, now: Millis): boolean {
    return s.block !== null && now < s.block.expiresAt - policy.marginMs && rest(s.block) >= cost;
  }

  function worthLeasing(s: SubjectState, cost: number): boolean {
    return cost > 0 && policy.maxBlock > 0 && (s.known === null || creditBlockSize(policy, s.known) >= cost);
  }

  /** Takes the block out of use; its rest is given back with the next `flushReturns`. */
  function retire(s: SubjectState): void {
    if (!s.block) return;
    pending.push({ leaseId: s.block.leaseId, rest: rest(s.block), expiresAt: s.block.expiresAt });
    s.block = null;
  }

  async function flushReturns(): Promise<void> {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    try {
      await store.giveBack(batch.map(({ leaseId, rest: r }) => ({ leaseId, rest: r })));
    } catch (error) {
      // Tried again later while the lease lives; once it expired a sweep may delete it (forfeit).
      const now = clock.now();
      pending.push(...batch.filter((r) => r.expiresAt > now));
      throw error;
    }
  }

  /** Gives back the current block (if any) and takes a new one, in one store call. */
  function refill(s: SubjectState, now: Millis): Promise<void> {
    const epoch = s.epoch;
    const old = s.block;
    s.block = null;
    const back = old ? { leaseId: old.leaseId, rest: rest(old), expiresAt: old.expiresAt } : null;
    const leaseId = createId(random, 'lse');
    const expiresAt = now + policy.ttlMs;
    const run = async () => {
      try {
        const result = await store.grant({
          leaseId,
          instanceId,
          subject: s.ref,
          size: (remaining) => creditBlockSize(policy, remaining),
          now,
          expiresAt,
          giveBack: back && { leaseId: back.leaseId, rest: back.rest },
        });
        if (s.epoch !== epoch || closed || !enabled) {
          // Invalidated (revoked, credits changed) or closing meanwhile: never spend from it.
          if (result.granted > 0) pending.push({ leaseId, rest: result.granted, expiresAt });
          await flushReturns().catch(() => {});
          return;
        }
        // No credits to lease (none, or unlimited after all): per request until told of a change.
        s.known = result.remaining ?? 0;
        if (result.granted > 0) {
          s.block = { leaseId, granted: result.granted, spent: 0, reported: 0, expiresAt };
          s.lastUsedAt = now;
        }
      } catch (error) {
        // Nothing of the transaction happened: the old block is still to give back.
        if (back) pending.push(back);
        throw error;
      }
    };
    const grant: Promise<void> = run().finally(() => {
      if (s.refill === grant) s.refill = null;
    });
    s.refill = grant;
    return grant;
  }

  return {
    /**
     * Pays `charge` from this instance's blocks, taking (or waiting for) a grant when a block is
     * empty. Returns the key's estimated remaining (what the database had not leased when last
     * seen plus this block's rest; null for a key without credits), or null when the charge must
     * be spent per request instead (few credits left, a refill key, or leasing is off).
     */
    async spend(charge: CreditCharge): Promise<{ remaining: number | null } | null> {
      if (closed || !enabled || policy.maxBlock <= 0 || (!charge.key && !charge.team) || (charge.key && !charge.key.leasable)) return null;
      for (let round = 0; ; round += 1) {
        const now = clock.now();
        const keyState = charge.key ? state('key', charge.key.id, now) : null;
        if (keyState && charge.key && keyState.known === null) keyState.known = charge.key.remaining;
        const all = [keyState, charge.team ? state('team', charge.team.id, now) : null].filter((s): s is SubjectState => s !== null);
        const short = all.filter((s) => !canPay(s, charge.cost, now));
        if (short.length === 0) {
          // Every balance can pay: take from all of them at once, with no await in between.
          for (const s of all) {
            (s.block as Block).spent += charge.cost;
            s.lastUsedAt = now;
          }
          return { remaining: keyState ? (keyState.known ?? 0) + rest(keyState.block) : null };
        }
        if (round >= MAX_ROUNDS || closed || !enabled) return null;
        // If any balance is not to be leased, the whole charge is spent per request.
        if (short.some((s) => s.refill === null && !worthLeasing(s, charge.cost))) return null;
        await Promise.all(short.map((s) => s.refill ?? refill(s, now)));
      }
    },

    /**
     * Learns from a per-request spend what the database has left, and returns the key's estimated
     * remaining (the database's plus this instance's block, if it holds one).
     */
    observe(charge: CreditCharge, result: SpendResult): { remaining: number | null } {
      const now = clock.now();
      let own = 0;
      if (charge.key?.leasable && result.remaining !== null) {
        const s = state('key', charge.key.id, now);
        s.known = result.remaining;
        s.lastUsedAt = now;
        own = rest(s.block);
      }
      if (charge.team && result.teamRemaining !== null) {
        const s = state('team', charge.team.id, now);
        s.known = result.teamRemaining;
        s.lastUsedAt = now;
      }
      return { remaining: result.remaining === null ? null : result.remaining + own };
    },

    /**
     * Stops spending from the subject's block at once and gives its rest back (the store drops it
     * if the credits were changed); call after a change of the key or the team committed.
     */
    async invalidate(subject: CreditSubject): Promise<void> {
      const s = subjects.get(`${subject.kind}:${subject.id}`);
      if (!s) return;
      s.epoch += 1;
      s.known = null;
      retire(s);
      await flushReturns();
    },

    /**
     * Turns leasing on or off. Off (e.g. while this instance may miss other instances' changes)
     * ends spending from every block at once and gives the rests back; spends go per request.
     */
    setEnabled(value: boolean): void {
      if (!value) {
        for (const s of subjects.values()) {
          s.epoch += 1;
          s.known = null;
          retire(s);
        }
        // A failure keeps them pending for the next tick.
        flushReturns().catch(() => {});
      }
      enabled = value;
    },

    /** Gives back idle blocks and those near expiry, retries failed give-backs, and sweeps now and then. */
    async tick(): Promise<void> {
      const now = clock.now();
      for (const [name, s] of subjects) {
        if (s.block && (now - s.lastUsedAt >= policy.idleMs || now >= s.block.expiresAt - policy.marginMs)) retire(s);
        else if (!s.block && !s.refill && now - s.lastUsedAt >= policy.ttlMs) subjects.delete(name);
      }
      const work: Array<Promise<unknown>> = [flushReturns()];
      if (now - lastSweepAt >= policy.sweepEveryMs) {
        lastSweepAt = now;
        work.push(store.sweep(now));
      }
      const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },

    /** Tells the database how much of each block is spent, so reads of remaining include the rest. */
    async report(): Promise<void> {
      const blocks = [...subjects.values()].flatMap((s) => (s.block && s.block.spent > s.block.reported ? [{ block: s.block, spent: s.block.spent }] : []));
      if (blocks.length === 0) return;
      await store.report(blocks.map(({ block, spent }) => ({ leaseId: block.leaseId, spent })));
      for (const { block, spent } of blocks) block.reported = Math.max(block.reported, spent);
    },

    /** Stops leasing and gives every rest back (graceful shutdown, before the database closes). */
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...subjects.values()].map((s) => s.refill));
      for (const s of subjects.values()) retire(s);
      await flushReturns();
    },

    /** The rest of this instance's block for a subject (0 without one). */
    held(subject: CreditSubject): number {
      return rest(subjects.get(`${subject.kind}:${subject.id}`)?.block ?? null);
    },

    /** Rests waiting to be given back (after a failed attempt). */
    get pendingReturns(): number {
      return pending.length;
    },
  };
}

export type CreditLeases = ReturnType<typeof createCreditLeases>;

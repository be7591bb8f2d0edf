import { hashSecret, hasKeyShape, hasRightChecksum } from '../key-format';
import type { Clock } from '../clock';
import { KeysmithError } from '../errors';
import type { KeyForVerification, RateLimiter, Store } from '../ports';
import type { CreditCharge, CreditLeases } from './credit-leases';
import type { CacheLookup, KeyCache } from './key-cache';
import type { UsageBuffer, UsageContext, UsageRejectionCode } from './usage-buffer';
import { decide, refillPeriodStart } from './decision';

export interface VerifyRequest {
  key: string;
  scopes?: string[];
  cost?: number;
  /** What the caller saw of its own client, for usage monitoring; counted off the hot path. */
  context?: UsageContext;
}

interface KnownKeyFields {
  keyId: string;
  teamId: string;
  name: string;
  scopes: string[];
  metadata: Record<string, unknown>;
  expiresAt: string | null;
}

export type VerifyResult =
  | ({ valid: true; code: 'VALID' } & KnownKeyFields & {
      credits: { remaining: number } | null;
      rateLimit: { limit: number; remaining: number; resetAt: string } | null;
    })
  | { valid: false; code: 'MALFORMED' | 'NOT_FOUND' }
  | ({ valid: false; code: 'REVOKED' | 'INACTIVE' | 'EXPIRED' | 'USAGE_EXCEEDED' } & KnownKeyFields)
  | ({ valid: false; code: 'INSUFFICIENT_SCOPES'; missingScopes: string[] } & KnownKeyFields)
  | ({ valid: false; code: 'RATE_LIMITED'; rateLimit: { limit: number; remaining: 0; resetAt: string } } & KnownKeyFields);

export interface VerifyServiceOptions {
  store: Store;
  clock: Clock;
  rateLimiter: RateLimiter;
  /** Key records by hash; invalidated by every change (see key-cache.ts). */
  cache: KeyCache;
  /** Counts uses in memory and writes them in batches. */
  usage: UsageBuffer;
  /**
   * Whether the database is known to answer. While it is not, verification answers 503, except
   * that keys already in the cache keep verifying for `outageGraceMs` after the outage began.
   */
  health?: { since(): number | null };
  outageGraceMs?: number;
  /** Which hashes may exist: a "certainly not" answers NOT_FOUND without a lookup. */
  knownHashes?: { mightExist(hash: string): boolean };
  /** Blocks of credits leased to this instance; without it every spend is a database round trip. */
  creditLeases?: CreditLeases;
}

export interface VerifyService {
  /**
   * Verifies a raw key, counting its use; a rejected key is a normal result, not an error. A key
   * answered from memory (cached, no rate limit, no credits) is answered synchronously — no
   * promise on the hot path; otherwise a promise. It never throws: failures are rejections.
   */
  verify(request: VerifyRequest): VerifyResult | Promise<VerifyResult>;
}

function knownFields(key: KeyForVerification): KnownKeyFields {
  return {
    keyId: key.id,
    teamId: key.teamId,
    name: key.name,
    scopes: key.scopes,
    metadata: key.metadata,
    expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
  };
}

/** A database that does not answer makes verification fail closed: 503, never a guess. */
function unavailable(): KeysmithError {
  return new KeysmithError('SERVICE_UNAVAILABLE', 'Key verification is unavailable: the database does not answer. Try again shortly.');
}

/**
 * Creates the verifier. The hot path reads key records from the cache, decides in memory,
 * touches the database only to spend credits (a grant per leased block, or guarded atomic
 * updates when few credits are left), and counts uses in memory for batched writes.
 */
export function createVerifyService({ store, clock, rateLimiter, cache, usage, health, outageGraceMs = 0, knownHashes, creditLeases }: VerifyServiceOptions): VerifyService {
  /**
   * What memory knows of a hash: its record, `null` when it certainly names no key, or `undefined`
   * when the database must be asked. Synchronous, so a cached key costs no promise.
   */
  function recall(hash: string, cached: CacheLookup): KeyForVerification | null | undefined {
    const downSince = health?.since() ?? null;
    // Strict by default: during an outage not even cached keys verify, since revocations cannot arrive.
    if (downSince !== null && clock.now() - downSince >= outageGraceMs) throw unavailable();
    if (cached.kind === 'hit') return cached.key;
    if (cached.kind === 'absent') return null;
    if (knownHashes && !knownHashes.mightExist(hash)) return null;
    if (downSince !== null) throw unavailable();
    return undefined;
  }

  async function lookup(hash: string): Promise<KeyForVerification | undefined> {
    const epoch = cache.epoch();
    let key: KeyForVerification | undefined;
    try {
      key = await store.keys.findByHash(hash);
    } catch {
      throw unavailable();
    }
    cache.fill(hash, key, epoch);
    return key;
  }

  /**
   * Spends `cost` from the key's and the team's credits at once; null if either cannot pay. From
   * this instance's leased blocks when it can (no round trip), otherwise per request in the database.
   */
  async function spend(key: KeyForVerification, cost: number, now: number): Promise<{ remaining: number | null } | null> {
    const charge: CreditCharge = {
      cost,
      // Refill keys are spent per request: a refill must never meet a block of the period before.
      key: key.credits ? { id: key.id, leasable: key.credits.refill === null, remaining: key.credits.remaining } : null,
      team: key.teamHasBalance ? { id: key.teamId } : null,
    };
    try {
      const leased = creditLeases ? await creditLeases.spend(charge) : null;
      if (leased) return leased;
      const spent = await store.spendCredits({
        keyId: key.id,
        teamId: key.teamId,
        cost,
        keyCredits: key.credits ? { refillPeriodStart: key.credits.refill ? refillPeriodStart(key.credits.refill.interval, now) : null } : null,
        teamBalance: key.teamHasBalance,
      });
      if (!spent) return null;
      return creditLeases ? creditLeases.observe(charge, spent) : { remaining: spent.remaining };
    } catch {
      throw unavailable();
    }
  }

  /** The answer for a key once its record is known; a promise only to rate-limit or spend. */
  function answer(key: KeyForVerification | null | undefined, request: VerifyRequest): VerifyResult | Promise<VerifyResult> {
    if (!key) return { valid: false, code: 'NOT_FOUND' };
    const now = clock.now();
    const decision = decide(key, request.scopes ?? [], now);
    if (!decision.ok) {
      usage.record(key.id, key.teamId, now, { valid: false, creditsUsed: 0, code: decision.code }, request.context);
      const fields = knownFields(key);
      return decision.code === 'INSUFFICIENT_SCOPES'
        ? { valid: false, code: decision.code, missingScopes: decision.missingScopes, ...fields }
        : { valid: false, code: decision.code, ...fields };
    }
    if (key.rateLimit || key.credits || key.teamHasBalance) return limitedAnswer(key, request, now);
    return valid(key, request, now, null, null);
  }

  /** Counts a VALID use and builds its answer: one literal, no spread (built for every VALID answer). */
  function valid(
    key: KeyForVerification,
    request: VerifyRequest,
    now: number,
    credits: { remaining: number } | null,
    rateLimit: { limit: number; remaining: number; resetAt: string } | null,
  ): VerifyResult {
    usage.record(key.id, key.teamId, now, { valid: true, creditsUsed: request.cost ?? 1 }, request.context);
    return {
      valid: true,
      code: 'VALID',
      keyId: key.id,
      teamId: key.teamId,
      name: key.name,
      scopes: key.scopes,
      metadata: key.metadata,
      expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
      credits,
      rateLimit,
    };
  }

  /** The rest for a key with a rate limit or credits: each may need a round trip. */
  async function limitedAnswer(key: KeyForVerification, request: VerifyRequest, now: number): Promise<VerifyResult> {
    const rejected = (code: UsageRejectionCode) => usage.record(key.id, key.teamId, now, { valid: false, creditsUsed: 0, code }, request.context);
    let rateLimit: { limit: number; remaining: number; resetAt: string } | null = null;
    if (key.rateLimit) {
      const hit = await rateLimiter.hit(key.id, key.rateLimit, now);
      const resetAt = new Date(hit.resetAt).toISOString();
      if (!hit.allowed) {
        rejected('RATE_LIMITED');
        return { valid: false, code: 'RATE_LIMITED', rateLimit: { limit: key.rateLimit.limit, remaining: 0, resetAt }, ...knownFields(key) };
      }
      rateLimit = { limit: key.rateLimit.limit, remaining: hit.remaining, resetAt };
    }
    let credits: { remaining: number } | null = null;
    if (key.credits || key.teamHasBalance) {
      const spent = await spend(key, request.cost ?? 1, now);
      if (!spent) {
        rejected('USAGE_EXCEEDED');
        return { valid: false, code: 'USAGE_EXCEEDED', ...knownFields(key) };
      }
      credits = spent.remaining === null ? null : { remaining: spent.remaining };
    }
    return valid(key, request, now, credits, rateLimit);
  }

  return {
    verify(request) {
      try {
        const raw = request.key;
        if (!hasKeyShape(raw)) return { valid: false, code: 'MALFORMED' };
        const hash = hashSecret(raw);
        const cached = cache.lookup(hash);
        // A hit is the exact secret of a stored key, made with a right checksum: only other keys
        // pay for the CRC-32, and a wrong one still never reaches the database.
        if (cached.kind !== 'hit' && !hasRightChecksum(raw)) return { valid: false, code: 'MALFORMED' };
        const recalled = recall(hash, cached);
        return recalled === undefined ? lookup(hash).then((key) => answer(key, request)) : answer(recalled, request);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}


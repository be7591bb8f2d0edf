import { hashSecret, parseKey } from '../key-format';
import type { Clock } from '../clock';
import type { KeyForVerification, RateLimiter, Store } from '../ports';
import { decide, refillPeriodStart } from './decision';

export interface VerifyRequest {
  key: string;
  scopes?: string[];
  cost?: number;
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
}

export interface VerifyService {
  /** Verifies a raw key, counting its use; a rejected key is a normal result, not an error. */
  verify(request: VerifyRequest): Promise<VerifyResult>;
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

/** Creates the verifier. Correct first: every use is written before answering. */
export function createVerifyService({ store, clock, rateLimiter }: VerifyServiceOptions): VerifyService {
  async function reject(key: KeyForVerification, at: number): Promise<void> {
    await store.usage.add({ keyId: key.id, teamId: key.teamId, at, valid: 0, rejected: 1, creditsUsed: 0 });
  }

  return {
    async verify(request) {
      const parsed = parseKey(request.key);
      if (!parsed.ok) return { valid: false, code: 'MALFORMED' };
      const key = await store.keys.findByHash(hashSecret(request.key));
      if (!key) return { valid: false, code: 'NOT_FOUND' };

      const now = clock.now();
      const fields = knownFields(key);
      const decision = decide(key, request.scopes ?? [], now);
      if (!decision.ok) {
        await reject(key, now);
        return decision.code === 'INSUFFICIENT_SCOPES'
          ? { valid: false, code: decision.code, missingScopes: decision.missingScopes, ...fields }
          : { valid: false, code: decision.code, ...fields };
      }

      let rateLimit: { limit: number; remaining: number; resetAt: string } | null = null;
      if (key.rateLimit) {
        const hit = await rateLimiter.hit(key.id, key.rateLimit, now);
        const resetAt = new Date(hit.resetAt).toISOString();
        if (!hit.allowed) {
          await reject(key, now);
          return {
            valid: false,
            code: 'RATE_LIMITED',
            rateLimit: { limit: key.rateLimit.limit, remaining: 0, resetAt },
            ...fields,
          };
        }
        rateLimit = { limit: key.rateLimit.limit, remaining: hit.remaining, resetAt };
      }

      const cost = request.cost ?? 1;
      // Credits of the key and of the team are spent in one transaction with the use count,
      // each by a guarded UPDATE, so no interleaving can overspend or count twice.
      const outcome = await store.transaction(async (tx) => {
        let remaining: number | null = null;
        if (key.credits) {
          if (key.credits.refill) {
            await tx.keys.refillCredits(key.id, refillPeriodStart(key.credits.refill.interval, now));
          }
          remaining = await tx.keys.consumeCredits(key.id, cost);
          if (remaining === null) return { ok: false as const };
        }
        const team = await tx.teamCredits.consume(key.teamId, cost);
        if (team === null) throw new InsufficientTeamCredits();
        await tx.keys.recordUse(key.id, now);
        await tx.usage.add({ keyId: key.id, teamId: key.teamId, at: now, valid: 1, rejected: 0, creditsUsed: cost });
        return { ok: true as const, remaining };
      }).catch((error: unknown) => {
        if (error instanceof InsufficientTeamCredits) return { ok: false as const };
        throw error;
      });

      if (!outcome.ok) {
        await reject(key, now);
        return { valid: false, code: 'USAGE_EXCEEDED', ...fields };
      }
      return {
        valid: true,
        code: 'VALID',
        ...fields,
        credits: outcome.remaining === null ? null : { remaining: outcome.remaining },
        rateLimit,
      };
    },
  };
}

/** Thrown inside the spend transaction to roll back the key's spend when the team cannot pay. */
class InsufficientTeamCredits extends Error {}

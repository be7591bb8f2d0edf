import type { Clock } from './clock';
import { notFound, validationError } from './errors';
import { hashSecret, sameDigest } from './key-format';
import type { ServiceToken } from './model';
import type { Store } from './ports';
import { createId, randomBase62, type Random } from './random';

export const MIN_SERVICE_TOKEN_LENGTH = 32;

export interface ServiceTokenServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /** Tokens from KEYSMITH_SERVICE_TOKENS. */
  envTokens: readonly string[];
}

/** Service tokens: from the environment or created by an operator (stored hashed). */
export function createServiceTokenService({ store, clock, random, envTokens }: ServiceTokenServiceOptions) {
  for (const token of envTokens) {
    if (token.length < MIN_SERVICE_TOKEN_LENGTH) {
      throw validationError('KEYSMITH_SERVICE_TOKENS', `each token must be at least ${MIN_SERVICE_TOKEN_LENGTH} characters`);
    }
  }
  const envHashes = envTokens.map((t) => hashSecret(t));
  const envIdentities = envTokens.map((_, i) => ({ id: `env_${i}`, label: `environment token ${i + 1}` }));

  return {
    /** The token's identity if it is valid. Environment tokens are compared in constant time. */
    async authenticate(token: string): Promise<{ id: string; label: string } | undefined> {
      const presented = hashSecret(token);
      let envIndex = -1;
      // Compare against every configured token so the time does not depend on which matched.
      for (let i = 0; i < envHashes.length; i += 1) {
        if (sameDigest(envHashes[i] as string, presented) && envIndex === -1) envIndex = i;
      }
      if (envIndex >= 0) return envIdentities[envIndex];
      const stored = await store.serviceTokens.findActiveByHash(presented);
      return stored ? { id: stored.id, label: stored.name } : undefined;
    },

    async create(name: string): Promise<{ token: ServiceToken; raw: string }> {
      const trimmed = name.trim();
      if (!trimmed) throw validationError('name', 'must not be empty');
      const raw = `kst_${randomBase62(random, 40)}`;
      const token: ServiceToken = { id: createId(random, 'stk'), name: trimmed, createdAt: clock.now(), revokedAt: null, lastUsedAt: null };
      await store.serviceTokens.insert({ ...token, tokenHash: hashSecret(raw) });
      return { token, raw };
    },

    list: () => store.serviceTokens.list(),

    async revoke(id: string): Promise<void> {
      if (!(await store.serviceTokens.revoke(id, clock.now()))) throw notFound('Service token');
    },
  };
}

export type ServiceTokenService = ReturnType<typeof createServiceTokenService>;

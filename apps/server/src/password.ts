import argon2 from 'argon2';
import type { PasswordHasher } from '@keysmith/core';

export interface Argon2Options {
  /** KiB of memory per hash (OWASP: 19 MiB minimum for argon2id). */
  memoryCost?: number;
  timeCost?: number;
}

/** argon2id password hashing. */
export function createArgon2Hasher({ memoryCost = 19_456, timeCost = 2 }: Argon2Options = {}): PasswordHasher {
  return {
    hash: (password) => argon2.hash(password, { type: argon2.argon2id, memoryCost, timeCost, parallelism: 1 }),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
  };
}

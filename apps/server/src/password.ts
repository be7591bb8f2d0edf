import argon2 from 'argon2';
import type { PasswordHasher } from '@keysmith/core';

export interface Argon2Options {
  /** KiB of memory per hash (OWASP: 46 MiB with t = 1, or 19 MiB with t = 2, at least). */
  memoryCost?: number;
  timeCost?: number;
}

/**
 * argon2id password hashing, by default with m = 46 MiB, t = 1, p = 1: one of OWASP's equivalent
 * argon2id settings (like 19 MiB with t = 2). The larger buffer is chosen on purpose: glibc serves
 * allocations above 32 MiB with their own mapping and gives them back when freed, while a 19 MiB
 * buffer stays in a thread's malloc arena after the hash, keeping ~20 MiB of RSS per libuv thread
 * that ever hashed a password.
 */
export function createArgon2Hasher({ memoryCost = 47_104, timeCost = 1 }: Argon2Options = {}): PasswordHasher {
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

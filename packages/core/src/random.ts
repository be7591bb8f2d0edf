import { randomBytes } from 'node:crypto';

/** The source of randomness; must be a CSPRNG outside tests. */
export interface Random {
  bytes(length: number): Uint8Array;
}

export const cryptoRandom: Random = { bytes: (length) => randomBytes(length) };

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` base62 characters without modulo bias: bytes ≥ 248 (= 4 × 62) are rejected
 * and drawn again, so every character is equally likely.
 */
export function randomBase62(random: Random, length: number): string {
  let out = '';
  while (out.length < length) {
    const chunk = random.bytes(Math.ceil((length - out.length) * 1.1) + 4);
    for (const byte of chunk) {
      if (byte < 248) {
        out += BASE62[byte % 62];
        if (out.length === length) break;
      }
    }
  }
  return out;
}

/** A readable, prefixed random id such as `key_4kT2…`. */
export function createId(random: Random, prefix: string): string {
  return `${prefix}_${randomBase62(random, 20)}`;
}

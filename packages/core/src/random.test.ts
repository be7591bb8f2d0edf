import { describe, expect, it } from 'vitest';
import { BASE62, createId, cryptoRandom, randomBase62, type Random } from './random';

/** A Random that hands out the given bytes in order, at most `length` per call, and fails when they run out. */
function scripted(bytes: number[]): Random {
  const queue = [...bytes];
  return {
    bytes(length) {
      if (queue.length === 0) throw new Error('scripted random ran out of bytes');
      return Uint8Array.from(queue.splice(0, length));
    },
  };
}

describe('randomBase62', () => {
  it('uses the alphabet 0-9A-Za-z', () => {
    expect(BASE62).toBe('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
  });

  it('returns exactly the requested number of base62 characters', () => {
    for (const length of [1, 6, 20, 32, 64, 500]) {
      const value = randomBase62(cryptoRandom, length);
      expect(value).toHaveLength(length);
      expect(value).toMatch(/^[0-9A-Za-z]+$/);
    }
  });

  it('maps bytes to characters by their value modulo 62', () => {
    const random = scripted([0, 61, 62, 9, 10, 35, 36, 123, 124, 185, 186, 247]);
    // 0→'0', 61→'z', 62→'0', 9→'9', 10→'A', 35→'Z', 36→'a', 123→'z', 124→'0', 185→'z', 186→'0', 247→'z'
    expect(randomBase62(random, 12)).toBe('0z09AZaz0z0z');
  });

  it('skips bytes 248 to 255 so that no character is favoured', () => {
    const random = scripted([248, 249, 250, 251, 252, 253, 254, 255, 0, 61, 62]);
    // The whole first draw (8 bytes) is rejected; the characters come from the bytes after it.
    expect(randomBase62(random, 3)).toBe('0z0');
  });

  it('skips rejected bytes in the middle of a draw and keeps the accepted ones in order', () => {
    const random = scripted([1, 255, 2, 248, 3, 250, 251, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(randomBase62(random, 4)).toBe('1234');
  });

  it('is roughly uniform over 620,000 characters', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i += 1) {
      for (const char of randomBase62(cryptoRandom, 62)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    // The mean is 10,000 per character with a standard deviation of about 100: ±10 % is ten standard
    // deviations and never flakes, while a modulo bias over all 256 byte values would put 0-7 about
    // 25 % above the rest.
    const mean = 10_000;
    let chiSquare = 0;
    for (const char of BASE62) {
      const count = counts.get(char) ?? 0;
      expect(count).toBeGreaterThan(mean * 0.9);
      expect(count).toBeLessThan(mean * 1.1);
      chiSquare += (count - mean) ** 2 / mean;
    }
    // 61 degrees of freedom: expected about 61, sd about 11; a biased source scores in the thousands.
    expect(chiSquare).toBeLessThan(250);
  });
});

describe('createId', () => {
  it('prefixes 20 random base62 characters with the readable prefix', () => {
    expect(createId(cryptoRandom, 'key')).toMatch(/^key_[0-9A-Za-z]{20}$/);
    expect(createId(cryptoRandom, 'key')).not.toBe(createId(cryptoRandom, 'key'));
  });
});

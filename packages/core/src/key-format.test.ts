import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksum, displayPrefix, generateKey, hashSecret, hasKeyShape, hasRightChecksum, isWellFormedKey, parseKey, sameDigest } from './key-format';
import { cryptoRandom } from './random';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The contract's checksum, computed independently: zlib's CRC-32, base62, most significant first, 6 digits. */
function referenceChecksum(text: string): string {
  let value = BigInt(crc32(Buffer.from(text, 'utf8')));
  const digits: string[] = [];
  while (value > 0n) {
    digits.unshift(ALPHABET[Number(value % 62n)] as string);
    value /= 62n;
  }
  return digits.join('').padStart(6, '0');
}

/** Replaces the character at `index` with another base62 character. */
function changeAt(raw: string, index: number): string {
  const current = raw[index] as string;
  const replacement = current === 'a' ? 'b' : 'a';
  return raw.slice(0, index) + replacement + raw.slice(index + 1);
}

function withChecksum(body: string): string {
  return body + referenceChecksum(body);
}

describe('generateKey', () => {
  it('issues keys of the form <prefix>_<env>_<32 base62><6 base62 checksum>', () => {
    for (const environment of ['live', 'test'] as const) {
      const raw = generateKey(cryptoRandom, 'pk', environment);
      expect(raw).toMatch(new RegExp(`^pk_${environment}_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$`));
      expect(raw).toHaveLength(`pk_${environment}_`.length + 38);
    }
  });

  it('uses the configured prefix', () => {
    expect(generateKey(cryptoRandom, 'acme42', 'live')).toMatch(/^acme42_live_[0-9A-Za-z]{38}$/);
  });

  it('ends every key with the CRC-32 base62 checksum of everything before it', () => {
    for (let i = 0; i < 200; i += 1) {
      const raw = generateKey(cryptoRandom, 'pk', i % 2 === 0 ? 'live' : 'test');
      expect(raw.slice(-6)).toBe(referenceChecksum(raw.slice(0, -6)));
    }
  });

  it('draws a different secret each time', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateKey(cryptoRandom, 'pk', 'live')));
    expect(keys.size).toBe(1000);
  });
});

describe('checksum', () => {
  it('matches known vectors worked out by hand', () => {
    // CRC-32 of "123456789" is the standard check value 0xCBF43926 = 3421780262
    // = 3·62⁵ + 45·62⁴ + 35·62³ + 27·62² + 22·62 + 14 → digits 3, j, Z, R, M, E.
    expect(3 * 62 ** 5 + 45 * 62 ** 4 + 35 * 62 ** 3 + 27 * 62 ** 2 + 22 * 62 + 14).toBe(0xcbf43926);
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(checksum('123456789')).toBe('3jZRME');

    // "pk_live_" + 32 × "a": CRC-32 0xC8DF6357 = 3370083159
    // = 3·62⁵ + 42·62⁴ + 4·62³ + 32·62² + 35·62 + 61 → digits 3, g, 4, W, Z, z.
    const body = `pk_live_${'a'.repeat(32)}`;
    expect(3 * 62 ** 5 + 42 * 62 ** 4 + 4 * 62 ** 3 + 32 * 62 ** 2 + 35 * 62 + 61).toBe(0xc8df6357);
    expect(crc32(body)).toBe(0xc8df6357);
    expect(checksum(body)).toBe('3g4WZz');

    // "pk_test_" + 32 × "0": CRC-32 0x12C6F275 = 315028085, short enough to need a leading "0".
    // = 0·62⁵ + 21·62⁴ + 19·62³ + 51·62² + 12·62 + 9 → digits 0, L, J, p, C, 9.
    const test = `pk_test_${'0'.repeat(32)}`;
    expect(21 * 62 ** 4 + 19 * 62 ** 3 + 51 * 62 ** 2 + 12 * 62 + 9).toBe(0x12c6f275);
    expect(checksum(test)).toBe('0LJpC9');
  });

  it('left-pads small values with 0 and fits the largest CRC-32 in 6 digits', () => {
    expect(checksum('')).toBe('000000'); // CRC-32 of nothing is 0
    // 0xFFFFFFFF = 4·62⁵ + 42·62⁴ + 41·62³ + 15·62² + 12·62 + 3 → "4gfFC3"
    expect(4 * 62 ** 5 + 42 * 62 ** 4 + 41 * 62 ** 3 + 15 * 62 ** 2 + 12 * 62 + 3).toBe(0xffffffff);
  });

  it('agrees with an independent computation on many random inputs, including non-ASCII text', () => {
    for (let i = 0; i < 500; i += 1) {
      const text = `${generateKey(cryptoRandom, 'pk', 'live')}é✓${i}`;
      expect(checksum(text)).toBe(referenceChecksum(text));
    }
  });
});

describe('parseKey', () => {
  it('accepts generated keys and reports their prefix and environment', () => {
    for (let i = 0; i < 100; i += 1) {
      const live = generateKey(cryptoRandom, 'pk', 'live');
      const test = generateKey(cryptoRandom, 'ks9', 'test');
      expect(parseKey(live)).toEqual({ ok: true, prefix: 'pk', environment: 'live' });
      expect(parseKey(test)).toEqual({ ok: true, prefix: 'ks9', environment: 'test' });
    }
  });

  it('accepts a hand-built key with the known checksum', () => {
    expect(parseKey(`pk_live_${'a'.repeat(32)}3g4WZz`)).toEqual({ ok: true, prefix: 'pk', environment: 'live' });
  });

  it('rejects a key whose checksum has one character changed', () => {
    const raw = generateKey(cryptoRandom, 'pk', 'live');
    for (let index = raw.length - 6; index < raw.length; index += 1) {
      expect(parseKey(changeAt(raw, index))).toEqual({ ok: false });
    }
  });

  it('rejects a key whose secret has one character changed', () => {
    const raw = generateKey(cryptoRandom, 'pk', 'live');
    for (let index = 'pk_live_'.length; index < raw.length - 6; index += 1) {
      expect(parseKey(changeAt(raw, index))).toEqual({ ok: false });
    }
  });

  it('rejects an environment other than live or test, even with a matching checksum', () => {
    const secret = 'a'.repeat(32);
    expect(parseKey(withChecksum(`pk_prod_${secret}`))).toEqual({ ok: false });
    expect(parseKey(withChecksum(`pk_LIVE_${secret}`))).toEqual({ ok: false });
    // The environment is covered by the checksum: swapping it breaks the key.
    const raw = generateKey(cryptoRandom, 'pk', 'live');
    expect(parseKey(raw.replace('_live_', '_test_'))).toEqual({ ok: false });
  });

  it('agrees with isWellFormedKey, the check the verification path uses, on good and broken keys', () => {
    for (let i = 0; i < 50; i += 1) {
      const raw = generateKey(cryptoRandom, 'pk', 'live');
      const broken = changeAt(raw, 8 + (i % (raw.length - 8)));
      expect(isWellFormedKey(raw)).toBe(true);
      expect(isWellFormedKey(broken)).toBe(parseKey(broken).ok);
      expect(isWellFormedKey(broken)).toBe(false);
      // The verification path checks the two halves apart (the checksum only for keys it has not cached).
      expect(hasKeyShape(raw) && hasRightChecksum(raw)).toBe(true);
      expect(hasKeyShape(broken) && hasRightChecksum(broken)).toBe(false);
    }
    // A checksum field worth more than 2^32 can never equal a CRC-32.
    expect(isWellFormedKey(`pk_live_${'a'.repeat(32)}zzzzzz`)).toBe(false);
  });

  it('rejects keys with missing parts', () => {
    const secret = 'a'.repeat(32);
    expect(parseKey(withChecksum(`live_${secret}`))).toEqual({ ok: false });
    expect(parseKey(withChecksum(`pk_${secret}`))).toEqual({ ok: false });
    expect(parseKey(withChecksum(`_live_${secret}`))).toEqual({ ok: false });
    expect(parseKey(withChecksum('pk_live_'))).toEqual({ ok: false });
    expect(parseKey(`pk_live_${secret}`.slice(0, -6))).toEqual({ ok: false });
    expect(parseKey('')).toEqual({ ok: false });
  });

  it('rejects keys that are too short, even with a valid checksum', () => {
    expect(parseKey(withChecksum(`pk_live_${'a'.repeat(31)}`))).toEqual({ ok: false });
    expect(parseKey(withChecksum('pk_live_abc'))).toEqual({ ok: false });
    expect(parseKey(generateKey(cryptoRandom, 'pk', 'live').slice(0, -1))).toEqual({ ok: false });
  });

  it('rejects keys with characters outside base62, even with a matching checksum', () => {
    for (const bad of ['-', '+', '/', '=', ' ', 'é', '_']) {
      const body = `pk_live_${'a'.repeat(16)}${bad}${'a'.repeat(15)}`;
      expect(parseKey(withChecksum(body))).toEqual({ ok: false });
    }
    expect(parseKey(`${generateKey(cryptoRandom, 'pk', 'live')}\n`)).toEqual({ ok: false });
    expect(parseKey(` ${generateKey(cryptoRandom, 'pk', 'live')}`)).toEqual({ ok: false });
  });
});

describe('hashSecret', () => {
  it('is the SHA-256 of the whole key, in lowercase hex', () => {
    const raw = generateKey(cryptoRandom, 'pk', 'live');
    expect(hashSecret(raw)).toBe(createHash('sha256').update(raw, 'utf8').digest('hex'));
    expect(hashSecret(raw)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares digests whole: equal ones match, one differing character anywhere or another length does not', () => {
    const digest = hashSecret('a token');
    expect(sameDigest(digest, hashSecret('a token'))).toBe(true);
    for (const index of [0, 31, 63]) {
      const other = `${digest.slice(0, index)}${digest[index] === '0' ? '1' : '0'}${digest.slice(index + 1)}`;
      expect(sameDigest(digest, other)).toBe(false);
    }
    expect(sameDigest(digest, digest.slice(0, 63))).toBe(false);
    expect(sameDigest('', '')).toBe(true);
  });
});

describe('displayPrefix', () => {
  it('is the first 12 characters of the key', () => {
    const raw = generateKey(cryptoRandom, 'pk', 'live');
    expect(displayPrefix(raw)).toBe(raw.slice(0, 12));
    expect(displayPrefix(raw)).toHaveLength(12);
    expect(displayPrefix(`pk_live_${'a'.repeat(32)}3g4WZz`)).toBe('pk_live_aaaa');
  });
});

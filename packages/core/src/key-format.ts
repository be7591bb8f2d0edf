import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { BASE62, randomBase62, type Random } from './random';

export type KeyEnvironment = 'live' | 'test';

/** Length of the random part of a key, in base62 characters (≈ 190 bits). */
export const SECRET_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
/** How many leading characters of a key are kept and shown as its prefix. */
export const PREFIX_LENGTH = 12;

const KEY_PATTERN = /^([a-z0-9]{1,16})_(live|test)_([0-9A-Za-z]{38,250})$/;

/** CRC-32 (IEEE, as zlib computes it) of `text`, in 6 base62 digits, most significant first. */
export function checksum(text: string): string {
  // zlib hashes a string as its UTF-8 bytes.
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i += 1) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new raw key `<prefix>_<env>_<secret><checksum>`. */
export function generateKey(random: Random, prefix: string, environment: KeyEnvironment): string {
  const body = `${prefix}_${environment}_${randomBase62(random, SECRET_LENGTH)}`;
  return body + checksum(body);
}

export type ParsedKey =
  | { ok: true; prefix: string; environment: KeyEnvironment }
  | { ok: false };

/** Base62 digit values by character code (-1: not a digit). */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE62.length; i += 1) DIGIT[BASE62.charCodeAt(i)] = i;

/** The number written by the last CHECKSUM_LENGTH base62 digits of `raw` (the pattern has checked they are digits). */
function trailingChecksum(raw: string): number {
  let value = 0;
  for (let i = raw.length - CHECKSUM_LENGTH; i < raw.length; i += 1) value = value * 62 + (DIGIT[raw.charCodeAt(i)] as number);
  return value;
}

/** Whether a raw key has our shape (prefix, environment, base62 body), checksum unchecked. */
export function hasKeyShape(raw: string): boolean {
  return KEY_PATTERN.test(raw);
}

/** Whether a key of our shape (see hasKeyShape) ends in the checksum of the rest: nothing allocated but the checked slice. */
export function hasRightChecksum(raw: string): boolean {
  // Compared as numbers: no digit string is built on the verification path.
  return crc32(raw.slice(0, -CHECKSUM_LENGTH)) === trailingChecksum(raw);
}

/** Whether a raw key has our shape and a right checksum: no lookup. */
export function isWellFormedKey(raw: string): boolean {
  return hasKeyShape(raw) && hasRightChecksum(raw);
}

/** Checks the shape and checksum of a raw key without any lookup. */
export function parseKey(raw: string): ParsedKey {
  const match = KEY_PATTERN.exec(raw);
  if (!match || !isWellFormedKey(raw)) return { ok: false };
  return { ok: true, prefix: match[1] as string, environment: match[2] as KeyEnvironment };
}

// crypto.hash (Node ≥ 20.12) is the one-shot digest: about a third of createHash's cost (with a
// string output; its 'buffer' output costs three times the 'hex' one).
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The only thing ever stored of a key or token: its SHA-256, hex. */
export function hashSecret(raw: string): string {
  return oneShot ? oneShot('sha256', raw, 'hex') : createHash('sha256').update(raw, 'utf8').digest('hex');
}

/**
 * Whether two hex digests are equal, in a time that depends only on their length: every
 * character is compared, with no early exit (and no Buffer to allocate per request).
 */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** The first 12 characters, shown in lists to recognise a key. */
export function displayPrefix(raw: string): string {
  return raw.slice(0, PREFIX_LENGTH);
}

export function isValidKeyPrefix(prefix: string): boolean {
  return /^[a-z0-9]{1,16}$/.test(prefix);
}

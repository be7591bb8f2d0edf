import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomBase62, type Random } from '../random';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const SIGNATURE_HEADER = 'Keysmith-Signature';

/** A new signing secret: `whsec_` and 32 base62 characters (about 190 bits) from the CSPRNG. */
export function generateWebhookSecret(random: Random): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBase62(random, 32)}`;
}

/** Hex HMAC-SHA256 of `"<t>.<body>"` under the secret (its UTF-8 bytes, `whsec_` included). */
export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The `Keysmith-Signature` header value: `t=<unix seconds>,v1=<hex HMAC>`. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

/**
 * Checks a `Keysmith-Signature` header as a receiver would: some `v1` must match the body, in
 * constant time, and `t` must be within `toleranceSeconds` of `nowSeconds` (replays are refused).
 */
export function verifySignatureHeader(
  header: string,
  secret: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === null || candidates.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(computeSignature(secret, timestamp, body), 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cryptoRandom } from '../random';
import { computeSignature, generateWebhookSecret, signatureHeader, verifySignatureHeader } from './signature';

const SECRET = 'whsec_0123456789abcdefghijklmnopqrstuv';
const BODY = '{"id":"evt_1","type":"key.created","createdAt":"2026-11-20T12:00:00.000Z","data":{}}';

describe('webhook signatures', () => {
  it('generates whsec_ secrets of 32 base62 characters, a new one each time', () => {
    const a = generateWebhookSecret(cryptoRandom);
    const b = generateWebhookSecret(cryptoRandom);
    expect(a).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    expect(a).not.toBe(b);
  });

  it('is the hex HMAC-SHA256 of "<t>.<body>" under the secret, as the documented scheme says', () => {
    const t = 1_795_000_000;
    const expected = createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex');
    expect(computeSignature(SECRET, t, BODY)).toBe(expected);
    expect(signatureHeader(SECRET, t, BODY)).toBe(`t=${t},v1=${expected}`);
  });

  it('verifies its own header, and refuses another body, secret, timestamp or an old one', () => {
    const t = 1_795_000_000;
    const header = signatureHeader(SECRET, t, BODY);
    expect(verifySignatureHeader(header, SECRET, BODY, t + 10)).toBe(true);
    expect(verifySignatureHeader(header, SECRET, `${BODY} `, t)).toBe(false);
    expect(verifySignatureHeader(header, `${SECRET}x`, BODY, t)).toBe(false);
    expect(verifySignatureHeader(header.replace(`t=${t}`, `t=${t + 1}`), SECRET, BODY, t)).toBe(false);
    expect(verifySignatureHeader(header, SECRET, BODY, t + 301)).toBe(false);
    expect(verifySignatureHeader(header, SECRET, BODY, t - 301)).toBe(false);
    expect(verifySignatureHeader('garbage', SECRET, BODY, t)).toBe(false);
    expect(verifySignatureHeader(`t=${t}`, SECRET, BODY, t)).toBe(false);
    expect(verifySignatureHeader(`t=${t},v1=${'0'.repeat(64)},v1=${computeSignature(SECRET, t, BODY)}`, SECRET, BODY, t)).toBe(true);
  });

  it('signs the exact bytes: a re-serialised body does not verify', () => {
    const t = 1_795_000_000;
    const header = signatureHeader(SECRET, t, BODY);
    expect(verifySignatureHeader(header, SECRET, JSON.stringify(JSON.parse(BODY), null, 2), t)).toBe(false);
  });
});

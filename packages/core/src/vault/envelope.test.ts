import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskKey } from '../provider-keys.service';
import { createVault, masterKeyId, parseMasterKeys, VAULT_FORMAT_VERSION, VaultError, type MasterKey, type SealedSecret } from './envelope';

const IV = 12;
const TAG = 16;

function masterKey(): MasterKey {
  const key = randomBytes(32);
  return { id: masterKeyId(key), key };
}

const A = masterKey();
const B = masterKey();
const CONTEXT = { teamId: 'team_1', recordId: 'pvk_1' };
const SECRET = 'sk-proj-0123456789abcdefghijklmnopqrstuvwxyz';

/** The sealed value with one bit of byte `index` (negative: from the end) flipped. */
function flipByte(sealed: string, index: number): string {
  const raw = Buffer.from(sealed, 'base64');
  const at = index < 0 ? raw.length + index : index;
  raw[at] = (raw[at] as number) ^ 0x01;
  return raw.toString('base64');
}

function bytes(sealed: string): Buffer {
  return Buffer.from(sealed, 'base64');
}

function expectVaultError(fn: () => unknown): void {
  expect(fn).toThrow(VaultError);
}

describe('sealing and opening', () => {
  it('opens what it sealed, for ASCII, Unicode and a 4096-character value', () => {
    const vault = createVault([A]);
    for (const value of [SECRET, 'schlüssel-🔑-ключ-鍵', 'x'.repeat(4096), 'k']) {
      const sealed = vault.seal(value, CONTEXT);
      expect(vault.open(sealed, CONTEXT)).toBe(value);
    }
  });

  it('writes iv ‖ ciphertext ‖ 16-byte tag for the value and the data key, records the master key and the format version', () => {
    const vault = createVault([A]);
    const sealed = vault.seal(SECRET, CONTEXT);
    expect(bytes(sealed.ciphertext)).toHaveLength(IV + Buffer.byteLength(SECRET) + TAG);
    expect(bytes(sealed.dataKey)).toHaveLength(IV + 32 + TAG);
    expect(sealed.masterKeyId).toBe(A.id);
    expect(sealed.masterKeyId).not.toContain(A.key.toString('base64'));
    expect(sealed.version).toBe(VAULT_FORMAT_VERSION);
    expect(sealed.ciphertext).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 12));
  });

  it('gives different ciphertexts, IVs and data keys for two seals of the same value', () => {
    const vault = createVault([A]);
    const first = vault.seal(SECRET, CONTEXT);
    const second = vault.seal(SECRET, CONTEXT);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(second.dataKey).not.toBe(first.dataKey);
    expect(bytes(second.ciphertext).subarray(0, IV).equals(bytes(first.ciphertext).subarray(0, IV))).toBe(false);
    // The data keys themselves differ: each record's key cannot open the other record's ciphertext.
    const swapped = { ...second, dataKey: first.dataKey };
    expectVaultError(() => vault.open(swapped, CONTEXT));
    expect(vault.open(first, CONTEXT)).toBe(SECRET);
    expect(vault.open(second, CONTEXT)).toBe(SECRET);
  });

  it('refuses a createVault without any master key', () => {
    expectVaultError(() => createVault([]));
  });
});

describe('tampering', () => {
  const vault = createVault([A]);
  const sealed = vault.seal(SECRET, CONTEXT);
  const ctLength = bytes(sealed.ciphertext).length;
  const dkLength = bytes(sealed.dataKey).length;

  const positions = (length: number) => ({
    iv: [0, 5, IV - 1],
    ciphertext: [IV, Math.floor((IV + length - TAG) / 2), length - TAG - 1],
    tag: [length - TAG, length - 8, length - 1],
  });

  it.each(Object.entries(positions(ctLength)))('fails with VaultError for a changed byte in the value %s', (_part, indexes) => {
    for (const index of indexes) {
      expectVaultError(() => vault.open({ ...sealed, ciphertext: flipByte(sealed.ciphertext, index) }, CONTEXT));
    }
  });

  it.each(Object.entries(positions(dkLength)))('fails with VaultError for a changed byte in the sealed data key %s', (_part, indexes) => {
    for (const index of indexes) {
      expectVaultError(() => vault.open({ ...sealed, dataKey: flipByte(sealed.dataKey, index) }, CONTEXT));
    }
  });

  it('opens the untouched record, so the failures above are the tampering', () => {
    expect(vault.open(sealed, CONTEXT)).toBe(SECRET);
  });

  it('fails for an unknown format version or a master key id that names another key', () => {
    expectVaultError(() => vault.open({ ...sealed, version: VAULT_FORMAT_VERSION + 1 }, CONTEXT));
    expectVaultError(() => vault.open({ ...sealed, version: 0 }, CONTEXT));
    const both = createVault([B, A]);
    // Relabelled as sealed under B: the data key does not open under B, nor under A with B's label.
    expectVaultError(() => both.open({ ...sealed, masterKeyId: B.id }, CONTEXT));
    expectVaultError(() => both.open({ ...sealed, masterKeyId: '' }, CONTEXT));
  });

  it('fails for a value or data key that is empty or not even long enough for an IV and a tag', () => {
    for (const short of ['', Buffer.alloc(IV + TAG - 1).toString('base64'), bytes(sealed.ciphertext).subarray(0, IV + 4).toString('base64')]) {
      expectVaultError(() => vault.open({ ...sealed, ciphertext: short }, CONTEXT));
      expectVaultError(() => vault.open({ ...sealed, dataKey: short }, CONTEXT));
    }
  });
});

describe('tags', () => {
  it('fails for every truncation of the tag, from 1 to 16 bytes', () => {
    const vault = createVault([A]);
    const sealed = vault.seal(SECRET, CONTEXT);
    const raw = bytes(sealed.ciphertext);
    for (let cut = 1; cut <= TAG; cut += 1) {
      const truncated = raw.subarray(0, raw.length - cut).toString('base64');
      expectVaultError(() => vault.open({ ...sealed, ciphertext: truncated }, CONTEXT));
    }
    const dk = bytes(sealed.dataKey);
    for (let cut = 1; cut <= TAG; cut += 1) {
      expectVaultError(() => vault.open({ ...sealed, dataKey: dk.subarray(0, dk.length - cut).toString('base64') }, CONTEXT));
    }
  });

  it('refuses a genuine short tag (a 4- or 8-byte GCM tag that a lenient decoder would accept)', () => {
    // Forge a record the way an attacker with a short-tag oracle would: the same data key and
    // associated data as a real record, but a tag of 4 or 8 bytes. GCM itself accepts such tags
    // unless the length is enforced; the vault must not.
    const vault = createVault([A]);
    const sealed = vault.seal(SECRET, CONTEXT);
    const dataKeyRaw = bytes(sealed.dataKey);
    const aadOfDataKey = Buffer.from(['keysmith', 'data-key', `v${VAULT_FORMAT_VERSION}`, CONTEXT.teamId, CONTEXT.recordId, A.id].join('\u0000'));
    const decipher = createDecipheriv('aes-256-gcm', A.key, dataKeyRaw.subarray(0, IV), { authTagLength: TAG });
    decipher.setAAD(aadOfDataKey);
    decipher.setAuthTag(dataKeyRaw.subarray(dataKeyRaw.length - TAG));
    const dataKey = Buffer.concat([decipher.update(dataKeyRaw.subarray(IV, dataKeyRaw.length - TAG)), decipher.final()]);

    const aadOfSecret = Buffer.from(['keysmith', 'secret', `v${VAULT_FORMAT_VERSION}`, CONTEXT.teamId, CONTEXT.recordId, ''].join('\u0000'));
    for (const tagLength of [4, 8]) {
      const iv = randomBytes(IV);
      const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: tagLength });
      cipher.setAAD(aadOfSecret);
      const body = Buffer.concat([cipher.update(Buffer.from('attacker-chosen-value', 'utf8')), cipher.final()]);
      const forged = Buffer.concat([iv, body, cipher.getAuthTag()]);
      expect(cipher.getAuthTag()).toHaveLength(tagLength);
      expectVaultError(() => vault.open({ ...sealed, ciphertext: forged.toString('base64') }, CONTEXT));
    }
    // The same construction with the full 16-byte tag opens: the refusal above is the tag length.
    const iv = randomBytes(IV);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG });
    cipher.setAAD(aadOfSecret);
    const body = Buffer.concat([cipher.update(Buffer.from('attacker-chosen-value', 'utf8')), cipher.final()]);
    expect(vault.open({ ...sealed, ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64') }, CONTEXT)).toBe('attacker-chosen-value');
  });
});

describe('binding to the record', () => {
  const vault = createVault([A]);

  it('fails for a ciphertext copied to another record id of the same team', () => {
    const sealed = vault.seal(SECRET, CONTEXT);
    expectVaultError(() => vault.open(sealed, { ...CONTEXT, recordId: 'pvk_2' }));
  });

  it('fails for a ciphertext copied to another team, even under the same record id', () => {
    const sealed = vault.seal(SECRET, CONTEXT);
    expectVaultError(() => vault.open(sealed, { ...CONTEXT, teamId: 'team_2' }));
  });

  it('fails for a value spliced onto another record data key, even in the same team', () => {
    const mine = vault.seal(SECRET, CONTEXT);
    const other = vault.seal('sk-other-value-000000', { ...CONTEXT, recordId: 'pvk_2' });
    expectVaultError(() => vault.open({ ...other, ciphertext: mine.ciphertext }, { ...CONTEXT, recordId: 'pvk_2' }));
    expectVaultError(() => vault.open({ ...mine, dataKey: other.dataKey }, CONTEXT));
  });

  it('keeps team and record apart in the associated data (team "a" with record "b" is not team "ab")', () => {
    const sealed = vault.seal(SECRET, { teamId: 'a', recordId: 'b' });
    expectVaultError(() => vault.open(sealed, { teamId: 'ab', recordId: '' }));
    expectVaultError(() => vault.open(sealed, { teamId: '', recordId: 'ab' }));
  });
});

describe('master keys and rewrap', () => {
  it('opens a record sealed under A with a vault of [B, A], and fails with a vault of [B] only', () => {
    const sealed = createVault([A]).seal(SECRET, CONTEXT);
    expect(createVault([B, A]).open(sealed, CONTEXT)).toBe(SECRET);
    expectVaultError(() => createVault([B]).open(sealed, CONTEXT));
  });

  it('seals new records under the newest (first) master key', () => {
    const vault = createVault([B, A]);
    expect(vault.currentMasterKeyId).toBe(B.id);
    const sealed = vault.seal(SECRET, CONTEXT);
    expect(sealed.masterKeyId).toBe(B.id);
    expect(createVault([B]).open(sealed, CONTEXT)).toBe(SECRET);
    expectVaultError(() => createVault([A]).open(sealed, CONTEXT));
  });

  it('rewraps a record from A to B without touching its ciphertext; it then opens with B alone', () => {
    const sealed = createVault([A]).seal(SECRET, CONTEXT);
    const rewrapped = createVault([B, A]).rewrap(sealed, CONTEXT);
    expect(rewrapped.masterKeyId).toBe(B.id);
    expect(rewrapped.ciphertext).toBe(sealed.ciphertext);
    expect(rewrapped.dataKey).not.toBe(sealed.dataKey);
    expect(rewrapped.version).toBe(sealed.version);
    expect(createVault([B]).open(rewrapped, CONTEXT)).toBe(SECRET);
    expectVaultError(() => createVault([A]).open(rewrapped, CONTEXT));
  });

  it('leaves a record already under the newest key as it is', () => {
    const vault = createVault([B, A]);
    const sealed = vault.seal(SECRET, CONTEXT);
    expect(vault.rewrap(sealed, CONTEXT)).toEqual(sealed);
  });

  it('refuses to rewrap a record whose master key is missing, that was tampered with, or is presented for another record', () => {
    const sealed: SealedSecret = createVault([A]).seal(SECRET, CONTEXT);
    expectVaultError(() => createVault([B]).rewrap(sealed, CONTEXT));
    expectVaultError(() => createVault([B, A]).rewrap({ ...sealed, dataKey: flipByte(sealed.dataKey, IV) }, CONTEXT));
    expectVaultError(() => createVault([B, A]).rewrap(sealed, { ...CONTEXT, recordId: 'pvk_2' }));
    expectVaultError(() => createVault([B, A]).rewrap(sealed, { ...CONTEXT, teamId: 'team_2' }));
  });
});

describe('parseMasterKeys', () => {
  const b64 = (key: MasterKey) => key.key.toString('base64');

  it('reads one key, or several newest first, ignoring spaces around the commas', () => {
    const [one] = parseMasterKeys(b64(A));
    expect(one?.key.equals(A.key)).toBe(true);
    expect(one?.id).toBe(A.id);
    const both = parseMasterKeys(` ${b64(B)} , ${b64(A)} `);
    expect(both.map((k) => k.id)).toEqual([B.id, A.id]);
    expect(B.id).not.toBe(A.id);
    // Without padding it is the same key.
    expect(parseMasterKeys(b64(A).replace(/=+$/, ''))[0]?.id).toBe(A.id);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['32 bytes written in hex', randomBytes(32).toString('hex')],
    ['a passphrase', 'correct horse battery staple and more words'],
    ['base64 with a stray character', `${randomBytes(32).toString('base64').slice(0, 20)}!${randomBytes(32).toString('base64').slice(21)}`],
    ['an empty value', ''],
    ['only commas', ' , ,'],
  ])('refuses %s with a VaultError', (_what, value) => {
    expectVaultError(() => parseMasterKeys(value));
  });

  it('refuses the whole list when any key in it is wrong, without echoing the key', () => {
    const bad = randomBytes(16).toString('base64');
    let error: unknown;
    try {
      parseMasterKeys(`${b64(A)},${bad}`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VaultError);
    expect((error as Error).message).toMatch(/key 2/);
    expect((error as Error).message).not.toContain(bad);
    expect((error as Error).message).not.toContain(b64(A));
  });
});

describe('maskKey', () => {
  it('shows the first 3 and last 4 characters of a key of 12 or more characters', () => {
    expect(maskKey('sk-abcdefghijklmnopWxyz')).toBe('sk-…Wxyz');
    expect(maskKey('abcdefghijkl')).toBe('abc…ijkl');
  });

  it('shows only bullets for a key shorter than 12 characters', () => {
    for (const key of ['abcdefghijk', 'short', 'x']) {
      const masked = maskKey(key);
      expect(masked).toMatch(/^•+$/);
      expect(masked.length).toBeGreaterThanOrEqual(key.length);
    }
  });

  it('never shows more than 7 characters of the key, whatever its length', () => {
    for (let length = 1; length <= 40; length += 1) {
      const key = Array.from({ length }, (_, i) => String.fromCharCode(65 + i)).join('');
      const shown = [...maskKey(key)].filter((c) => c !== '•' && c !== '…');
      expect(shown.length).toBeLessThanOrEqual(7);
      expect(maskKey(key)).not.toContain(key.slice(3, -4) || '\u0000');
    }
  });

  it('counts characters, not UTF-16 units, so it never splits an emoji', () => {
    const key = `🔑🔑🔑${'x'.repeat(10)}🗝🗝🗝🗝`;
    expect(maskKey(key)).toBe('🔑🔑🔑…🗝🗝🗝🗝');
  });
});

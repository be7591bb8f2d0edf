import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The format version written into every sealed record and bound into its associated data. */
export const VAULT_FORMAT_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

export interface MasterKey {
  /** A short fingerprint that names the key in each row it sealed (never the key itself). */
  id: string;
  key: Buffer;
}

/** Where a ciphertext belongs: it opens only for the same team, record and format version. */
export interface SealContext {
  teamId: string;
  recordId: string;
}

export interface SealedSecret {
  /** base64 of iv ‖ ciphertext ‖ tag, under the record's own data key. */
  ciphertext: string;
  /** base64 of iv ‖ sealed data key ‖ tag, under the master key `masterKeyId`. */
  dataKey: string;
  masterKeyId: string;
  version: number;
}

/** Any failure to open a sealed secret: wrong or missing master key, tampering, a moved row. */
export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Parses `KEYSMITH_MASTER_KEY`: base64 keys of 32 bytes, comma-separated, newest first. */
export function parseMasterKeys(value: string): MasterKey[] {
  const keys = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((b64, i) => {
      const key = Buffer.from(b64, 'base64');
      if (key.length !== KEY_LENGTH || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
        throw new VaultError(`KEYSMITH_MASTER_KEY: key ${i + 1} is not 32 bytes of base64`);
      }
      return { id: masterKeyId(key), key };
    });
  if (keys.length === 0) throw new VaultError('KEYSMITH_MASTER_KEY is empty');
  return keys;
}

function aad(kind: 'secret' | 'data-key', context: SealContext, version: number, masterId?: string): Buffer {
  return Buffer.from(['keysmith', kind, `v${version}`, context.teamId, context.recordId, masterId ?? ''].join('\u0000'), 'utf8');
}

function encrypt(key: Buffer, plaintext: Buffer, associated: Buffer): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(associated);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

function decrypt(key: Buffer, sealed: string, associated: Buffer): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  // A short or truncated tag is refused before GCM sees it.
  if (raw.length < IV_LENGTH + TAG_LENGTH) throw new VaultError('sealed value is too short');
  const iv = raw.subarray(0, IV_LENGTH);
  const tag = raw.subarray(raw.length - TAG_LENGTH);
  const body = raw.subarray(IV_LENGTH, raw.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(associated);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new VaultError('sealed value does not authenticate');
  }
}

/**
 * Envelope encryption: each secret gets a fresh data key (AES-256-GCM, random 12-byte IV,
 * 16-byte tag), and the data key is sealed under the newest master key. Associated data binds
 * both to the team, the record and the format version.
 */
export function createVault(masterKeys: readonly MasterKey[]) {
  const newest = masterKeys[0];
  if (!newest) throw new VaultError('no master key');
  const byId = new Map(masterKeys.map((k) => [k.id, k.key]));

  function unwrap(sealed: SealedSecret, context: SealContext): Buffer {
    if (sealed.version !== VAULT_FORMAT_VERSION) throw new VaultError(`unknown format version ${sealed.version}`);
    const master = byId.get(sealed.masterKeyId);
    if (!master) throw new VaultError(`master key ${sealed.masterKeyId} is not configured`);
    const dataKey = decrypt(master, sealed.dataKey, aad('data-key', context, sealed.version, sealed.masterKeyId));
    if (dataKey.length !== KEY_LENGTH) throw new VaultError('data key has the wrong length');
    return dataKey;
  }

  return {
    currentMasterKeyId: newest.id,

    seal(plaintext: string, context: SealContext): SealedSecret {
      const dataKey = randomBytes(KEY_LENGTH);
      try {
        return {
          ciphertext: encrypt(dataKey, Buffer.from(plaintext, 'utf8'), aad('secret', context, VAULT_FORMAT_VERSION)),
          dataKey: encrypt(newest.key, dataKey, aad('data-key', context, VAULT_FORMAT_VERSION, newest.id)),
          masterKeyId: newest.id,
          version: VAULT_FORMAT_VERSION,
        };
      } finally {
        dataKey.fill(0);
      }
    },

    /** Opens a sealed secret; throws VaultError, never returns anything unauthenticated. */
    open(sealed: SealedSecret, context: SealContext): string {
      const dataKey = unwrap(sealed, context);
      try {
        return decrypt(dataKey, sealed.ciphertext, aad('secret', context, sealed.version)).toString('utf8');
      } finally {
        dataKey.fill(0);
      }
    },

    /** Re-seals only the data key under the newest master key; the ciphertext stays as it is. */
    rewrap(sealed: SealedSecret, context: SealContext): SealedSecret {
      if (sealed.masterKeyId === newest.id) return sealed;
      const dataKey = unwrap(sealed, context);
      try {
        return { ...sealed, dataKey: encrypt(newest.key, dataKey, aad('data-key', context, sealed.version, newest.id)), masterKeyId: newest.id };
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

export type Vault = ReturnType<typeof createVault>;

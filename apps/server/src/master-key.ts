import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseMasterKeys, VaultError, type MasterKey } from '@keysmith/core';
import { ConfigError, type Config } from './config';

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master keys, newest first: from KEYSMITH_MASTER_KEY; else, outside production, from a key
 * generated once into the data directory (mode 0600). Production without a key refuses to start.
 */
export function loadMasterKeys(config: Config, warn: (message: string) => void): MasterKey[] {
  if (config.masterKey !== undefined) {
    try {
      return parseMasterKeys(config.masterKey);
    } catch (error) {
      throw new ConfigError(error instanceof VaultError ? error.message : 'KEYSMITH_MASTER_KEY is not valid');
    }
  }
  if (config.production) {
    throw new ConfigError('KEYSMITH_MASTER_KEY is required when NODE_ENV=production (32 bytes, base64; e.g. `openssl rand -base64 32`)');
  }
  const dir = resolve(config.dataDir);
  const file = join(dir, MASTER_KEY_FILE);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    try {
      // 'wx' fails if another process created it first; then we read theirs.
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      warn(`Generated a master key for provider credentials at ${file}. Back it up: without it stored credentials cannot be read. Set KEYSMITH_MASTER_KEY in production.`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  try {
    return parseMasterKeys(readFileSync(file, 'utf8').trim());
  } catch (error) {
    throw new ConfigError(`${file}: ${error instanceof VaultError ? error.message : 'is not a valid master key'}`);
  }
}

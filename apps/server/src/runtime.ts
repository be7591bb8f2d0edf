import { createStore, migrateToLatest, openDatabase, type DatabaseHandle } from '@keysmith/db';
import { cryptoRandom, systemClock, type Store } from '@keysmith/core';
import type { Config } from './config';

/** Opens the configured database and applies pending migrations. */
export async function openStore(config: Config): Promise<{ handle: DatabaseHandle; store: Store }> {
  const handle = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await migrateToLatest(handle.db);
  return { handle, store: createStore(handle.db, handle.dialect, { sqlite: handle.sqlite, ping: handle.ping }) };
}

export { cryptoRandom, systemClock };

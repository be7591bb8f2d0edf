export { openDatabase, migrateToLatest, type DatabaseHandle, type DatabaseOptions, type Dialect } from './database';
export { createStore } from './store';
export type { Database } from './schema';

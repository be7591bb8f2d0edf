export { openDatabase, migrateToLatest, isPoolExhausted, type DatabaseHandle, type DatabaseOptions, type Dialect } from './database';
export { createStore, CACHE_CHANNEL, type StoreOptions } from './store';
export { createUsageSink } from './usage-sink';
export { createPgCacheEventSource } from './cache-listener';
export type { Database } from './schema';
export { createRedisRateLimiter, type RedisRateLimiter, type RedisRateLimiterOptions, type RateLimiterLogger } from './redis-rate-limiter';

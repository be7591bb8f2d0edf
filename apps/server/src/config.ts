import { isValidKeyPrefix, MIN_SERVICE_TOKEN_LENGTH } from '@keysmith/core';

/** Everything the server reads from its environment, checked once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** REDIS_URL: where instances share rate limit counts; unset, each instance counts on its own. */
  redisUrl: string | undefined;
  dataDir: string;
  serviceTokens: string[];
  keyPrefix: string;
  scopes: string[];
  trustedOrigins: string[];
  secureCookies: boolean;
  logLevel: string;
  production: boolean;
  /** KEYSMITH_MASTER_KEY as given (base64 keys, newest first), if set. */
  masterKey: string | undefined;
  /** Most key records each instance keeps in memory (KEYSMITH_CACHE_SIZE). */
  cacheSize: number;
  /** How long an unknown well-formed key is remembered (KEYSMITH_NEGATIVE_CACHE_MS). */
  negativeCacheMs: number;
  /** How often batched usage counts are written (KEYSMITH_USAGE_FLUSH_MS). */
  usageFlushMs: number;
  /** During a database outage, how long cached keys keep verifying (KEYSMITH_OUTAGE_GRACE_MS; 0: strict). */
  outageGraceMs: number;
  /** How often this instance sends due webhook deliveries (KEYSMITH_WEBHOOK_INTERVAL_MS; 0: never on its own). */
  webhookIntervalMs: number;
  /** How long one webhook attempt may take before it counts as a timeout (KEYSMITH_WEBHOOK_TIMEOUT_MS). */
  webhookTimeoutMs: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

export class ConfigError extends Error {}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads the configuration table of the contract from `env`; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('PORT must be a port number');
  const serviceTokens = list(env.KEYSMITH_SERVICE_TOKENS);
  for (const token of serviceTokens) {
    if (token.length < MIN_SERVICE_TOKEN_LENGTH) {
      throw new ConfigError(`KEYSMITH_SERVICE_TOKENS: each token must be at least ${MIN_SERVICE_TOKEN_LENGTH} characters`);
    }
  }
  const keyPrefix = env.KEYSMITH_KEY_PREFIX ?? 'pk';
  if (!isValidKeyPrefix(keyPrefix)) throw new ConfigError('KEYSMITH_KEY_PREFIX must be 1–16 lowercase letters or digits');
  const scopes = env.KEYSMITH_SCOPES === undefined ? ['read', 'write'] : list(env.KEYSMITH_SCOPES);
  for (const scope of scopes) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(scope)) throw new ConfigError(`KEYSMITH_SCOPES: "${scope}" is not a valid scope name`);
  }
  const trustedOrigins = list(env.KEYSMITH_TRUSTED_ORIGINS).map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      throw new ConfigError(`KEYSMITH_TRUSTED_ORIGINS: "${o}" is not an origin`);
    }
  });
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^(postgres(ql)?:\/\/|sqlite:)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or sqlite:');
  }
  // The value is not echoed: it may hold a password.
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && (!/^rediss?:\/\/./.test(redisUrl) || !URL.canParse(redisUrl))) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  }
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl,
    redisUrl,
    dataDir: env.KEYSMITH_DATA_DIR ?? './data',
    serviceTokens,
    keyPrefix,
    scopes,
    trustedOrigins,
    secureCookies: env.KEYSMITH_SECURE_COOKIES === 'true',
    logLevel: env.LOG_LEVEL ?? 'info',
    production: env.NODE_ENV === 'production',
    masterKey: env.KEYSMITH_MASTER_KEY || undefined,
    cacheSize: integer(env, 'KEYSMITH_CACHE_SIZE', 50_000, 0, 10_000_000),
    negativeCacheMs: integer(env, 'KEYSMITH_NEGATIVE_CACHE_MS', 2_000, 0, 3_600_000),
    usageFlushMs: integer(env, 'KEYSMITH_USAGE_FLUSH_MS', 1_000, 10, 60_000),
    outageGraceMs: integer(env, 'KEYSMITH_OUTAGE_GRACE_MS', 0, 0, 86_400_000),
    webhookIntervalMs: integer(env, 'KEYSMITH_WEBHOOK_INTERVAL_MS', 1_000, 0, 3_600_000),
    webhookTimeoutMs: integer(env, 'KEYSMITH_WEBHOOK_TIMEOUT_MS', 10_000, 50, 60_000),
  };
}

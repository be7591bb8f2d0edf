/** The PostgreSQL the api-postgres suite runs against. */
export const TEST_PG_URL = process.env.KEYSMITH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Any constant: the advisory lock that orders schema drops against migrations (see helpers.ts). */
export const SCHEMA_LOCK = 4_242_001;

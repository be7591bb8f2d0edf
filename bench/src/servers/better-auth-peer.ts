// The comparison peer: better-auth with its api-key plugin on SQLite, behind a POST route that
// takes the same JSON body as Keysmith's verify and answers with better-auth's server-side verify.
//
// Env: PORT (required), PEER_DB (SQLite file, required), PEER_SQLITE: `documented` (the default:
// `new Database(file)` as better-auth's SQLite docs show it, so SQLite's own defaults: rollback
// journal, synchronous=FULL) or `tuned` (WAL and synchronous=NORMAL, Keysmith's own settings).
// Prints one JSON line on stdout when ready:
// {"ready":true,"port":…,"key":"…"} (the key created at start). Exits when its stdin closes, so it
// never outlives the benchmark.
import { randomBytes } from 'node:crypto';
import { apiKey } from '@better-auth/api-key';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const port = Number(process.env.PORT);
const file = process.env.PEER_DB;
if (!Number.isInteger(port) || port <= 0 || !file) throw new Error('better-auth peer: PORT and PEER_DB are required');

const mode = process.env.PEER_SQLITE ?? 'documented';
if (mode !== 'documented' && mode !== 'tuned') throw new Error('better-auth peer: PEER_SQLITE must be documented or tuned');
const sqlite = new Database(file);
sqlite.pragma('busy_timeout = 5000');
if (mode === 'tuned') {
  // Keysmith's durability settings for its embedded SQLite, to compare like for like.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
}

const auth = betterAuth({
  baseURL: `http://127.0.0.1:${port}`,
  secret: randomBytes(32).toString('hex'),
  database: sqlite,
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  logger: { disabled: true },
  // Rate limiting off (its default is 10 requests a day per key): we measure verification itself.
  plugins: [apiKey({ rateLimit: { enabled: false } })],
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const signup = await auth.api.signUpEmail({
  body: { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery', name: 'Bench' },
});
const created = await auth.api.createApiKey({ body: { name: 'bench', userId: signup.user.id, rateLimitEnabled: false } });

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
app.post<{ Body: { key?: unknown } }>('/verify', async (request, reply) => {
  const key = request.body?.key;
  if (typeof key !== 'string') return reply.status(400).send({ code: 'VALIDATION_FAILED' });
  const result = await auth.api.verifyApiKey({ body: { key } });
  if (!result.valid || !result.key) return { valid: false, code: String(result.error?.code ?? 'INVALID') };
  const k = result.key;
  return { valid: true, code: 'VALID', keyId: k.id, name: k.name, metadata: k.metadata ?? {}, expiresAt: k.expiresAt ?? null, remaining: k.remaining };
});
await app.listen({ port, host: '127.0.0.1' });

process.stdout.write(`${JSON.stringify({ ready: true, port, key: created.key })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.once('SIGTERM', () => process.exit(0));

// The baseline: a bare Fastify route that parses the verify body and answers a JSON object of the
// same size as Keysmith's VALID answer (BARE_RESPONSE, a JSON text), with no other work.
//
// Env: PORT (required), BARE_RESPONSE (optional). Prints {"ready":true,"port":…} on stdout when
// listening; exits when its stdin closes, so it never outlives the benchmark.
import Fastify from 'fastify';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('bare server: PORT is required');
const answer = JSON.parse(process.env.BARE_RESPONSE ?? '{"valid":true,"code":"VALID"}') as Record<string, unknown>;

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
app.post<{ Body: { key?: unknown } }>('/verify', async (request, reply) => {
  if (typeof request.body?.key !== 'string') return reply.status(400).send({ code: 'VALIDATION_FAILED' });
  return answer;
});
await app.listen({ port, host: '127.0.0.1' });

process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.once('SIGTERM', () => process.exit(0));

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuardedLookup, createHttpWebhookTransport, type Resolver } from './webhook-transport';

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;

async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A resolver that answers from a table, as a DNS server under someone else's control might. */
const fakeDns = (table: Record<string, string[]>): Resolver => (hostname, callback) => {
  const addresses = table[hostname];
  if (!addresses) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
};

describe('the webhook transport', () => {
  it('POSTs the body with exactly the given headers and answers with the status and a duration', async () => {
    const r = await receiver((_req, res) => res.writeHead(204).end());
    const transport = createHttpWebhookTransport({ resolve: fakeDns({ 'hooks.internal.test': ['127.0.0.1'] }) });
    const result = await transport.post(`http://hooks.internal.test:${r.port}/in?x=1`, '{"a":1}', { 'content-type': 'application/json', 'Keysmith-Signature': 't=1,v1=ab' }, 2000);
    expect(result).toEqual({ status: 204, durationMs: expect.any(Number) });
    expect(r.received).toHaveLength(1);
    expect(r.received[0]).toMatchObject({ url: '/in?x=1', body: '{"a":1}', headers: { 'content-type': 'application/json', 'keysmith-signature': 't=1,v1=ab', 'content-length': '7' } });
  });

  it('refuses a name that resolves to the metadata service at send time, without connecting', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).end());
    for (const addresses of [['169.254.169.254'], ['127.0.0.1', '169.254.169.254'], ['fe80::1'], ['::ffff:169.254.169.254'], ['fd00:ec2::254']]) {
      const transport = createHttpWebhookTransport({ resolve: fakeDns({ 'rebound.example.test': addresses }) });
      const result = await transport.post(`http://rebound.example.test:${r.port}/`, '{}', {}, 2000);
      expect(result, addresses.join()).toEqual({ error: expect.stringMatching(/^refused: rebound\.example\.test resolves to /), durationMs: expect.any(Number) });
    }
    expect(r.received).toHaveLength(0);
  });

  it('refuses a literal link-local or metadata address at send time too (literals skip DNS)', async () => {
    const transport = createHttpWebhookTransport({ resolve: () => expect.unreachable('no lookup for a literal') });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://metadata.google.internal/']) {
      const result = await transport.post(url, '{}', {}, 2000);
      expect(result, url).toEqual({ error: expect.stringMatching(/^refused: the URL must not point at/), durationMs: 0 });
    }
  });

  it('does not follow redirects', async () => {
    const r = await receiver((req, res) => (req.url === '/start' ? res.writeHead(307, { location: '/elsewhere' }).end() : res.writeHead(200).end()));
    const result = await createHttpWebhookTransport().post(`http://127.0.0.1:${r.port}/start`, '{}', {}, 2000);
    expect(result).toEqual({ status: 307, durationMs: expect.any(Number) });
    expect(r.received.map((x) => x.url)).toEqual(['/start']);
  });

  it('reads at most a few KiB of the answer and then drops it', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // An endless answer: the transport must not wait for its end.
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      pump();
    });
    const started = Date.now();
    const result = await createHttpWebhookTransport().post(`http://127.0.0.1:${r.port}/`, '{}', {}, 5000);
    expect(result).toEqual({ status: 200, durationMs: expect.any(Number) });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('answers a timeout when the receiver does not answer in time', async () => {
    await receiver(() => {
      /* never answers */
    });
    const port = (server?.address() as AddressInfo).port;
    const result = await createHttpWebhookTransport().post(`http://127.0.0.1:${port}/`, '{}', {}, 150);
    expect(result).toEqual({ error: 'timeout: no answer within 150 ms', durationMs: expect.any(Number) });
    if ('error' in result) expect(result.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('answers connection errors as errors, never throwing', async () => {
    const r = await receiver((_req, res) => res.end());
    const port = r.port;
    await new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server?.close(() => resolve());
      server = undefined;
    });
    const result = await createHttpWebhookTransport().post(`http://127.0.0.1:${port}/`, '{}', {}, 2000);
    expect(result).toEqual({ error: expect.stringContaining('ECONNREFUSED'), durationMs: expect.any(Number) });
    const unknown = await createHttpWebhookTransport({ resolve: fakeDns({}) }).post('http://nowhere.invalid/', '{}', {}, 2000);
    expect(unknown).toEqual({ error: expect.stringContaining('ENOTFOUND'), durationMs: expect.any(Number) });
  });
});

describe('the guarded lookup', () => {
  it('answers in the form node:net asks for (all or one address, of the family asked)', async () => {
    const lookup = createGuardedLookup(fakeDns({ both: ['127.0.0.1', '::1'] }));
    const all = await new Promise((resolve) => lookup('both', { all: true }, (error, address) => resolve({ error, address })));
    expect(all).toEqual({ error: null, address: [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }] });
    const v6 = await new Promise((resolve) => lookup('both', { family: 6 }, (error, address, family) => resolve({ error, address, family })));
    expect(v6).toEqual({ error: null, address: '::1', family: 6 });
  });
});

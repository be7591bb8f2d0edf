import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkWebhookUrl, refusedAddressReason, type TransportResult, type WebhookTransport } from '@keysmith/core';

/** At most this much of a receiver's answer is read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 4096;

/** Resolves a host name to all its addresses (dns.lookup with `all: true` by default). */
export type Resolver = (hostname: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const systemResolver: Resolver = (hostname, callback) => dnsLookup(hostname, { all: true, verbatim: true }, callback);

/**
 * A `lookup` for node:net that re-checks every address a name resolves to at connect time, and
 * refuses the name if any is link-local or a metadata address: DNS cannot re-point a webhook's
 * host at the metadata service after the URL was accepted (nor alternate answers to slip one in).
 */
export function createGuardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname, (error, addresses) => {
      if (error) return callback(error, '', 0);
      for (const a of addresses) {
        const reason = refusedAddressReason(a.address);
        if (reason) {
          const refused: NodeJS.ErrnoException = new Error(`refused: ${hostname} resolves to ${reason} (${a.address})`);
          refused.code = 'EADDRREFUSED';
          return callback(refused, '', 0);
        }
      }
      const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
      const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
      const first = usable[0];
      if (!first) {
        const none: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        none.code = 'ENOTFOUND';
        return callback(none, '', 0);
      }
      if (options.all) return callback(null, usable);
      return callback(null, first.address, first.family);
    });
  };
}

/** The reason of a failed request, in words that hold neither headers nor body. */
function describe(error: NodeJS.ErrnoException): string {
  const message = (error.message || String(error.code ?? 'request failed')).slice(0, 300);
  return error.code && error.code !== 'EADDRREFUSED' && !message.includes(error.code) ? `${error.code}: ${message}` : message;
}

export interface HttpWebhookTransportOptions {
  /** How names are resolved (tests pass a fake); every answer is checked (createGuardedLookup). */
  resolve?: Resolver;
}

/**
 * Sends deliveries over node:http/https: one fresh connection each (no pooling, so every send
 * resolves and checks the host again), no redirects followed, at most MAX_RESPONSE_BYTES of the
 * answer read, and the whole exchange bounded by `timeoutMs`.
 */
export function createHttpWebhookTransport(options: HttpWebhookTransportOptions = {}): WebhookTransport {
  const lookup = createGuardedLookup(options.resolve);
  return {
    post(url, body, headers, timeoutMs) {
      const started = performance.now();
      const elapsed = () => performance.now() - started;
      return new Promise<TransportResult>((resolve) => {
        // Stored URLs were checked when saved; literal addresses are checked again here (they skip lookup).
        const checked = checkWebhookUrl(url);
        if (!checked.ok) {
          resolve({ error: `refused: the URL ${checked.message}`, durationMs: 0 });
          return;
        }
        const target = new URL(checked.url);
        let status: number | null = null;
        let settled = false;
        let request: http.ClientRequest | null = null;
        const done = (result: TransportResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          request?.destroy();
          resolve(result);
        };
        const timer = setTimeout(() => {
          // An answer whose status came in time counts; one that never came is a timeout.
          done(status !== null ? { status, durationMs: elapsed() } : { error: `timeout: no answer within ${timeoutMs} ms`, durationMs: elapsed() });
        }, timeoutMs);
        const client = target.protocol === 'https:' ? https : http;
        try {
          request = client.request(
            target,
            { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, agent: false },
            (response) => {
              status = response.statusCode ?? 0;
              const answered = { status, durationMs: 0 };
              let read = 0;
              response.on('data', (chunk: Buffer) => {
                read += chunk.length;
                if (read > MAX_RESPONSE_BYTES) done({ ...answered, durationMs: elapsed() });
              });
              response.on('end', () => done({ ...answered, durationMs: elapsed() }));
              response.on('error', () => done({ ...answered, durationMs: elapsed() }));
              response.on('close', () => done({ ...answered, durationMs: elapsed() }));
            },
          );
        } catch (error) {
          done({ error: describe(error as NodeJS.ErrnoException), durationMs: elapsed() });
          return;
        }
        request.on('error', (error: NodeJS.ErrnoException) => done({ error: describe(error), durationMs: elapsed() }));
        request.end(body);
      });
    },
  };
}

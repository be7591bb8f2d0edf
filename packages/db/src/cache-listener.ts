import pg from 'pg';
import type { CacheEvent, CacheEventSource } from '@keysmith/core';

function isCacheEvent(value: unknown): value is CacheEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ((v.type === 'key' || v.type === 'team') && typeof v.id === 'string') || (v.type === 'hash' && typeof v.hash === 'string');
}

/**
 * Listens for cache events on a dedicated PostgreSQL connection. When the connection drops it
 * reports unhealthy at once and reconnects every `retryMs` until stopped.
 */
export function createPgCacheEventSource(options: { url: string; channel: string; retryMs?: number }): CacheEventSource {
  const retryMs = options.retryMs ?? 500;
  return {
    async start(onEvent, onHealth) {
      let stopped = false;
      let client: pg.Client | null = null;
      let timer: NodeJS.Timeout | null = null;

      const schedule = () => {
        if (stopped || timer) return;
        timer = setTimeout(() => {
          timer = null;
          void connect();
        }, retryMs);
      };

      const lost = (c: pg.Client) => {
        if (client !== c) return;
        client = null;
        onHealth(false);
        c.removeAllListeners();
        c.on('error', () => {});
        void c.end().catch(() => {});
        schedule();
      };

      async function connect(): Promise<void> {
        // A connection attempt to a database that does not answer is given up and retried, not awaited
        // forever; TCP keepalive lets the OS notice a connection that vanished without closing.
        const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 2_000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
        c.on('error', () => lost(c));
        c.on('end', () => lost(c));
        c.on('notification', (message) => {
          if (message.channel !== options.channel || !message.payload) return;
          try {
            const event: unknown = JSON.parse(message.payload);
            if (isCacheEvent(event)) onEvent(event);
          } catch {
            // Not one of ours; ignore.
          }
        });
        try {
          client = c;
          await c.connect();
          await c.query(`listen "${options.channel.replace(/"/g, '""')}"`);
          if (stopped) {
            await c.end();
            return;
          }
          onHealth(true);
        } catch {
          lost(c);
        }
      }

      await connect();
      return async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        const c = client;
        client = null;
        if (c) {
          c.removeAllListeners();
          c.on('error', () => {});
          await c.end().catch(() => {});
        }
      };
    },
  };
}

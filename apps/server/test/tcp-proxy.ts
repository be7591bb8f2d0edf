import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Where accepted connections are forwarded. */
  target: { host: string; port: number };
}

export interface TcpProxy {
  /** Where the proxy listens: 127.0.0.1 and a free port. */
  host: string;
  port: number;
  /**
   * Goes away like a database that died: every open connection is destroyed, and new ones are
   * destroyed as soon as they arrive, until `restore()`. Resolves once every socket is closed.
   */
  cut(): Promise<void>;
  /** Accepts and forwards connections again. */
  restore(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A TCP proxy for tests that can drop its target (e.g. PostgreSQL) and bring it back. Node `net` only. */
export async function createTcpProxy({ target }: TcpProxyOptions): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset while cut is expected; an unhandled 'error' would crash the test process.
    socket.on('error', () => socket.destroy());
  };

  const server = createServer((client) => {
    track(client);
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port });
    track(upstream);
    // Either side ending or failing ends both: the pair lives and dies together.
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');

  const destroyAll = async () => {
    const open = [...sockets];
    for (const socket of open) socket.destroy();
    await Promise.all(open.map(closed));
  };

  return {
    host: '127.0.0.1',
    port: address.port,
    async cut() {
      isCut = true;
      await destroyAll();
    },
    restore() {
      isCut = false;
    },
    async close() {
      isCut = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await destroyAll();
      await stopped;
    },
  };
}

// A database that does not answer: a TCP listener on 127.0.0.1 that accepts every connection and never writes.
// (tests/support/fault-proxy.ts's `silence` goes quiet in front of a real server; this one never was a server.)
import { createServer, type Socket } from 'node:net';

export interface SilentListener {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Resets every open connection (so a client's pool can close without waiting out its timeouts). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function silentListener(): Promise<SilentListener> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const dropAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    port: address.port,
    connections: () => accepted,
    dropAll,
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

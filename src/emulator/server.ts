// The HTTP server around the Hono app. Plain node:http, so that close() can also end keep-alive
// connections (a test or the CLI must never hang on shutdown).
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Env, Hono } from 'hono';

export interface ListeningServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `app` (the emulator's, or the console's) on `host:port`; port 0 picks a free one. */
export function listen<E extends Env>(
  app: Hono<E>,
  host: string,
  port: number,
  tls?: { readonly cert: string; readonly key: string },
): Promise<ListeningServer> {
  // overrideGlobalObjects: false: the emulator often runs inside the client's own process (tests, `demo`);
  // it must not replace that process's global Request / Response.
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const server: Server =
    tls === undefined ? createServer(listener) : createTlsServer({ cert: tls.cert, key: tls.key }, listener);
  // Bound the time a slow or silent client can hold a request open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ port: (server.address() as AddressInfo).port, close: () => closeServer(server) });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // close() only stops accepting; idle and active keep-alive sockets must go too.
    server.closeAllConnections();
  });
}

/** The base URL clients use; a wildcard bind is reached through loopback. */
export function baseUrl(host: string, port: number, secure = false): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${secure ? 'https' : 'http'}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

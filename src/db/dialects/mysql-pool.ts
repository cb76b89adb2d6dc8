import type { Socket } from 'node:net';
import type { MysqlPool, MysqlPoolConnection } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';
import { connectedServer } from '../connected-server.ts';
import type { ServerTarget } from '../url.ts';
import type { ConnectionSettings } from './adapter.ts';
import type { AppMysqlConnection } from './app-mysql-types.ts';
import { closeGraceMs, OpenSockets, queryTimeoutError, SilenceBreaker } from './timeouts.ts';

/** What differs between this package's pool and the app's: who sees a connection first, how a query is sent, ending. */
interface MysqlPoolParts<C> {
  /** Called once per connection, the first time it is checked out. */
  readonly firstCheckout?: (connection: C) => void;
  /** mysql2's options for one query, without the timeout. */
  readonly queryOptions: (sql: string, values: readonly unknown[]) => { sql: string; values?: unknown[] };
  readonly end: MysqlPool['end'];
}

/**
 * Wraps a mysql2 pool for Kysely so that every query has a timeout. mysql2's own query timeout only rejects
 * the query: the connection still waits for the answer and would hold back every later query on it, so a
 * connection whose query timed out is destroyed (and so leaves the pool) before the error is reported. While
 * the {@link SilenceBreaker} holds the server silent, taking a connection fails at once.
 */
export function mysqlPoolWithTimeouts<C extends AppMysqlConnection>(
  pool: { getConnection(callback: (error: unknown, connection: C) => void): void },
  timeoutMs: number,
  parts: MysqlPoolParts<C>,
): MysqlPool {
  const breaker = new SilenceBreaker(timeoutMs);
  // Kysely recognises a connection it has seen (and set up) by identity: one wrapper per connection.
  const wrappers = new WeakMap<C, MysqlPoolConnection>();
  const wrap = (connection: C): MysqlPoolConnection => ({
    get config() {
      return connection.config;
    },
    get threadId() {
      return connection.threadId as number;
    },
    // Kysely never connects a pooled connection: the pool did.
    connect: (callback) => callback?.(undefined),
    destroy: () => connection.destroy(),
    query(sql, parameters, callback) {
      const options = { ...parts.queryOptions(sql, parameters as readonly unknown[]), timeout: timeoutMs };
      return connection.query(options, (error, result) => {
        if ((error as { code?: unknown } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
          connection.destroy();
          const timedOut = queryTimeoutError(timeoutMs, error);
          breaker.observe(timedOut);
          callback?.(timedOut, result as never);
          return;
        }
        callback?.(error as never, result as never);
      }) as never;
    },
    // A destroyed connection has left the pool already; releasing it is a no-op.
    release: () => connection.release(),
  });
  return {
    getConnection(callback) {
      const failed = (error: unknown) => callback(error, undefined as unknown as MysqlPoolConnection);
      try {
        breaker.check();
      } catch (error) {
        failed(error);
        return;
      }
      pool.getConnection((error, connection) => {
        if (error) {
          breaker.observe(error);
          failed(error);
          return;
        }
        let wrapper = wrappers.get(connection);
        if (wrapper === undefined) {
          parts.firstCheckout?.(connection);
          wrapper = wrap(connection);
          wrappers.set(connection, wrapper);
        }
        callback(null, wrapper);
      });
    },
    end: parts.end,
  };
}

/** {@link mysqlPoolWithTimeouts} over this package's own pool: it reports each connection and ends the pool. */
export function ownMysqlPool(pool: Pool, target: ServerTarget, settings: ConnectionSettings): MysqlPool {
  const sockets = new OpenSockets();
  pool.on('connection', (connection) => {
    // A dropped connection also emits 'error'; the query's own callback reports it.
    connection.on('error', () => {});
    sockets.add(socketOf(connection));
    // Emitted after the handshake: stream is the TLSSocket by then.
    const driver = { host: connection.config.host ?? '', port: connection.config.port ?? 0 };
    settings.onConnected?.(connectedServer(target, driver, socketOf(connection)));
  });
  return mysqlPoolWithTimeouts<PoolConnection>(pool, settings.queryTimeoutMs, {
    queryOptions: (sql, values) => ({ sql, values: [...values] }),
    end: (callback) => {
      sockets
        .endWithin(() => pool.promise().end(), closeGraceMs(settings))
        .then(() => callback(null), callback);
    },
  });
}

export function socketOf(connection: object): Socket | undefined {
  return (connection as { stream?: Socket }).stream;
}

import type { Socket } from 'node:net';
import type { MysqlPool, MysqlPoolConnection } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';
import { OpenSockets, queryTimeoutError, SilenceBreaker } from './timeouts.ts';

/**
 * Wraps a mysql2 pool for Kysely so that every query has a timeout. mysql2's own query timeout only rejects
 * the query: the connection still waits for the answer and would hold back every later query on it, so a
 * connection whose query timed out is destroyed (and so leaves the pool) before the error is reported.
 */
export function mysqlPoolWithTimeouts(
  pool: Pool,
  queryTimeoutMs: number,
  closeGraceMs: number,
  onConnected?: (driver: { host: string; port: number }, socket: Socket | undefined) => void,
): MysqlPool {
  const sockets = new OpenSockets();
  const breaker = new SilenceBreaker(queryTimeoutMs);
  // Kysely recognises a connection it has seen (and set up) by identity: one wrapper per connection.
  const wrappers = new WeakMap<PoolConnection, MysqlPoolConnection>();
  pool.on('connection', (connection) => {
    // A dropped connection also emits 'error'; the query's own callback reports it.
    connection.on('error', () => {});
    sockets.add(socketOf(connection));
    // Emitted after the handshake: stream is the TLSSocket by then.
    onConnected?.(
      { host: connection.config.host ?? '', port: connection.config.port ?? 0 },
      socketOf(connection),
    );
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
          wrapper = wrap(connection, queryTimeoutMs, breaker);
          wrappers.set(connection, wrapper);
        }
        callback(null, wrapper);
      });
    },
    end(callback) {
      sockets.endWithin(() => pool.promise().end(), closeGraceMs).then(() => callback(null), callback);
    },
  };
}

function wrap(connection: PoolConnection, timeoutMs: number, breaker: SilenceBreaker): MysqlPoolConnection {
  return {
    get config() {
      return connection.config;
    },
    get threadId() {
      return connection.threadId;
    },
    connect: (callback) => connection.connect((error) => callback?.(error)),
    destroy: () => connection.destroy(),
    query(sql, parameters, callback) {
      return connection.query({ sql, values: parameters, timeout: timeoutMs }, (error, result) => {
        if (isQueryTimeout(error)) {
          connection.destroy();
          const timedOut = queryTimeoutError(timeoutMs, error);
          breaker.observe(timedOut);
          callback?.(timedOut, result as never);
          return;
        }
        callback?.(error, result as never);
      });
    },
    // A destroyed connection has left the pool already; releasing it is a no-op.
    release: () => connection.release(),
  };
}

function isQueryTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}

function socketOf(connection: PoolConnection): Socket | undefined {
  return (connection as unknown as { stream?: Socket }).stream;
}

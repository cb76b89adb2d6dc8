import type { Socket } from 'node:net';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';
import { OpenSockets, queryTimeoutError, SilenceBreaker } from './timeouts.ts';

/**
 * Wraps a pg pool (created with `query_timeout`) for Kysely. pg's query timeout only rejects the query: the
 * client still waits for the answer and would hold back every later query on it, and Kysely hands it back to
 * the pool as healthy. So a client whose query timed out has its socket destroyed and leaves the pool.
 */
export function postgresPoolWithTimeouts(
  pool: Pool,
  queryTimeoutMs: number,
  closeGraceMs: number,
  onConnected?: (driver: { host: string; port: number }, socket: Socket | undefined) => void,
): PostgresPool {
  const sockets = new OpenSockets();
  const breaker = new SilenceBreaker(queryTimeoutMs);
  const wrappers = new WeakMap<PoolClient, PostgresPoolClient>();
  // An idle client whose server went away emits 'error'; unhandled, that would crash the process. The next
  // query reports the problem through toDatabaseError instead.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // A client whose connection dies mid-query (a failover, pg_terminate_backend) also emits 'error' while
    // checked out, where the pool listens no more: the query's own rejection reports it.
    client.on('error', () => {});
    sockets.add(socketOf(client));
    // After the TLS upgrade: connection.stream is the TLSSocket by then.
    onConnected?.({ host: client.host, port: client.port }, socketOf(client));
  });
  return {
    options: pool.options,
    async connect() {
      breaker.check();
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        breaker.observe(error);
        throw error;
      }
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = wrap(client, queryTimeoutMs, breaker);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => sockets.endWithin(() => pool.end(), closeGraceMs),
  };
}

function wrap(client: PoolClient, timeoutMs: number, breaker: SilenceBreaker): PostgresPoolClient {
  let discarded = false;
  const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
    try {
      return await client.query(text, [...parameters]);
    } catch (error) {
      if (error instanceof Error && error.message === 'Query read timeout') {
        discarded = true;
        socketOf(client)?.destroy();
        const timedOut = queryTimeoutError(timeoutMs, error);
        breaker.observe(timedOut);
        throw timedOut;
      }
      throw error;
    }
  };
  return {
    get processID() {
      return (client as { processID?: number }).processID;
    },
    query: query as unknown as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(destroy === true || discarded),
  };
}

function socketOf(client: PoolClient): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

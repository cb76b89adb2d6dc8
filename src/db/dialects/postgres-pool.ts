import type { Socket } from 'node:net';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';
import { AlarmboxError } from '../../errors.ts';
import { connectedServer } from '../connected-server.ts';
import type { ServerTarget } from '../url.ts';
import type { ConnectionSettings } from './adapter.ts';
import { closeGraceMs, OpenSockets, queryTimeoutError, SilenceBreaker } from './timeouts.ts';

/** A pg client as the wrapper uses it: one of this package's pool, or of the app's (`AppPostgresClient`). */
interface PooledPostgresClient {
  release(destroy?: boolean): void;
}

/** What differs between this package's pool and the app's: who sees a client first, how a query is sent, ending. */
interface PostgresPoolParts<C> {
  /** Kysely passes these to onCreateConnection only. */
  readonly options: PostgresPool['options'];
  /** Called once per client, the first time it is checked out. */
  readonly firstCheckout?: (client: C) => void;
  /** Runs one query; a query that ran out of time rejects with pg's `Query read timeout`. */
  readonly query: (client: C, text: string, values: unknown[]) => Promise<unknown>;
  readonly end: () => Promise<void>;
}

/**
 * Wraps a pg pool (whose queries have a `query_timeout`) for Kysely. pg's query timeout only rejects the
 * query: the client still waits for the answer and would hold back every later query on it, and Kysely hands
 * it back to the pool as healthy. So a client whose query timed out has its socket destroyed and leaves the
 * pool. While the {@link SilenceBreaker} holds the server silent, taking a client fails at once.
 */
export function postgresPoolWithTimeouts<C extends PooledPostgresClient>(
  pool: { connect(): Promise<C> },
  timeoutMs: number,
  parts: PostgresPoolParts<C>,
): PostgresPool {
  const breaker = new SilenceBreaker(timeoutMs);
  // Kysely recognises a client it has seen (and set up) by identity: one wrapper per client.
  const wrappers = new WeakMap<C, PostgresPoolClient>();
  const wrap = (client: C): PostgresPoolClient => {
    let discarded = false;
    const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
      try {
        return await parts.query(client, text, [...parameters]);
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
  };
  return {
    options: parts.options,
    async connect() {
      breaker.check();
      let client: C;
      try {
        client = await pool.connect();
      } catch (error) {
        breaker.observe(error);
        throw error;
      }
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        parts.firstCheckout?.(client);
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: parts.end,
  };
}

/** {@link postgresPoolWithTimeouts} over this package's own pool: it reports each client and ends the pool. */
export function ownPostgresPool(
  pool: Pool,
  target: ServerTarget,
  settings: ConnectionSettings,
): PostgresPool {
  const sockets = new OpenSockets();
  // An idle client whose server went away emits 'error'; unhandled, that would crash the process. The next
  // query reports the problem through toDatabaseError instead.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // A client whose connection dies mid-query (a failover, pg_terminate_backend) also emits 'error' while
    // checked out, where the pool listens no more: the query's own rejection reports it.
    client.on('error', () => {});
    sockets.add(socketOf(client));
    // After the TLS upgrade: connection.stream is the TLSSocket by then.
    settings.onConnected?.(
      connectedServer(target, { host: client.host, port: client.port }, socketOf(client)),
    );
  });
  return postgresPoolWithTimeouts<PoolClient>(pool, settings.queryTimeoutMs, {
    options: pool.options,
    // The pool's query_timeout applies.
    query: (client, text, values) => client.query(text, values),
    end: () => sockets.endWithin(() => pool.end(), closeGraceMs(settings)),
  });
}

export function socketOf(client: object): Socket | undefined {
  return (client as { connection?: { stream?: Socket } }).connection?.stream;
}

/** PostgreSQL's type oid of `bigint` / `int8`. */
export const INT8_OID = 20;

/** A bigint read as text or BigInt, as an exact JS number (null stays null). */
export function exactNumber(value: unknown): unknown {
  if (typeof value !== 'string' && typeof value !== 'bigint') return value;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new AlarmboxError(
      `bigint の値 ${String(value).slice(0, 24)} は JavaScript の数値で正確に扱えません。`,
      {
        reason: 'unexpected',
      },
    );
  }
  return parsed;
}

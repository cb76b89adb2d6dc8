// Pools an application created and passes in (`createAlarmbox({ database: { postgres: pool } })`). They stay the
// app's: the toolkit never ends them, never adds pool-wide listeners, and never changes a session setting of their
// connections (no `set time zone`). What the toolkit needs of a query is asked per query instead: the query timeout,
// int8 as JS numbers (PostgreSQL), UTC times (MySQL).
import type { Socket } from 'node:net';
import type { MysqlPool, MysqlPoolConnection, PostgresPool, PostgresPoolClient } from 'kysely';
import { AlarmboxError } from '../../errors.ts';
import { queryTimeoutError, SilenceBreaker } from './timeouts.ts';

/** A node-postgres `Pool` (`new pg.Pool(...)`), as far as the toolkit uses it. */
export interface AppPostgresPool {
  /** Checks a client out (pg's `pool.connect()`). */
  connect(): Promise<AppPostgresClient>;
  readonly options?:
    | {
        readonly host?: string | undefined;
        readonly port?: number | undefined;
        readonly database?: string | undefined;
      }
    | undefined;
}

/** A client checked out of an {@link AppPostgresPool}. */
export interface AppPostgresClient {
  /** One query with its own `query_timeout` (pg's query config object). */
  query(config: { text: string; values: unknown[]; query_timeout: number }): Promise<{
    readonly rows: unknown[];
    readonly fields?: readonly { readonly name: string; readonly dataTypeID: number }[];
    readonly command?: string;
    readonly rowCount?: number | null;
  }>;
  /** Back to the pool; `true` discards the client (a query that timed out). */
  release(destroy?: boolean): void;
  readonly host?: string;
  readonly port?: number;
}

/** A mysql2 pool (`mysql.createPool(...)` of `mysql2`, or `.pool` of a `mysql2/promise` pool). */
export interface AppMysqlPool {
  /** Checks a connection out (mysql2's callback `pool.getConnection`). */
  getConnection(callback: (error: unknown, connection: AppMysqlConnection) => void): void;
}

/** A connection checked out of an {@link AppMysqlPool}. */
export interface AppMysqlConnection {
  /** One query with per-query options (mysql2's `connection.query(options, callback)`). */
  query(
    options: {
      sql: string;
      values?: unknown[];
      timeout?: number;
      timezone?: string;
      supportBigNumbers?: boolean;
    },
    callback: (error: unknown, result: unknown) => void,
  ): unknown;
  /** Back to the pool. */
  release(): void;
  /** Closes the connection (a query that timed out: its answer may still come). */
  destroy(): void;
  readonly threadId: number | null;
  readonly config: { readonly host?: string | undefined; readonly port?: number | undefined };
}

type OnConnected = (driver: { host: string; port: number }, socket: Socket | undefined) => void;

/** PostgreSQL's type oid of `bigint` / `int8`. */
const INT8_OID = 20;

export function appPostgresPool(
  pool: AppPostgresPool,
  queryTimeoutMs: number,
  onConnected: OnConnected,
): PostgresPool {
  const breaker = new SilenceBreaker(queryTimeoutMs);
  const wrappers = new WeakMap<AppPostgresClient, PostgresPoolClient>();
  return {
    // Kysely passes these to onCreateConnection only; none is set.
    options: {},
    async connect() {
      breaker.check();
      let client: AppPostgresClient;
      try {
        client = await pool.connect();
      } catch (error) {
        breaker.observe(error);
        throw error;
      }
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        const socket = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
        onConnected({ host: client.host ?? '', port: client.port ?? 0 }, socket);
        wrapper = wrapPostgres(client, socket, queryTimeoutMs, breaker);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    // The app's pool: the app ends it.
    end: async () => {},
  };
}

function wrapPostgres(
  client: AppPostgresClient,
  socket: Socket | undefined,
  timeoutMs: number,
  breaker: SilenceBreaker,
): PostgresPoolClient {
  let discarded = false;
  const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
    try {
      // pg's per-query query_timeout (Client#query reads config.query_timeout before the pool's).
      return int8AsNumbers(await client.query({ text, values: [...parameters], query_timeout: timeoutMs }));
    } catch (error) {
      if (error instanceof Error && error.message === 'Query read timeout') {
        discarded = true;
        socket?.destroy();
        const timedOut = queryTimeoutError(timeoutMs, error);
        breaker.observe(timedOut);
        throw timedOut;
      }
      throw error;
    }
  };
  return {
    query: query as unknown as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(destroy === true || discarded),
  };
}

/**
 * The app's pool reads int8 as its type parsers say (a string by default, a BigInt with some setups); our
 * bigint columns are counters and epoch milliseconds, converted here without touching the app's parsers.
 */
function int8AsNumbers<
  R extends {
    readonly rows: unknown[];
    readonly fields?: readonly { readonly name: string; readonly dataTypeID: number }[];
  },
>(result: R): R {
  const names = (result.fields ?? []).filter((field) => field.dataTypeID === INT8_OID).map((f) => f.name);
  if (names.length === 0) return result;
  for (const row of result.rows as Record<string, unknown>[]) {
    for (const name of names) row[name] = exactNumber(row[name]);
  }
  return result;
}

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

export function appMysqlPool(
  pool: AppMysqlPool,
  queryTimeoutMs: number,
  onConnected: OnConnected,
): MysqlPool {
  const breaker = new SilenceBreaker(queryTimeoutMs);
  const wrappers = new WeakMap<AppMysqlConnection, MysqlPoolConnection>();
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
          const socket = (connection as unknown as { stream?: Socket }).stream;
          onConnected({ host: connection.config.host ?? '', port: connection.config.port ?? 0 }, socket);
          wrapper = wrapMysql(connection, queryTimeoutMs, breaker);
          wrappers.set(connection, wrapper);
        }
        callback(null, wrapper);
      });
    },
    // The app's pool: the app ends it.
    end: (callback) => callback(null),
  };
}

function wrapMysql(
  connection: AppMysqlConnection,
  timeoutMs: number,
  breaker: SilenceBreaker,
): MysqlPoolConnection {
  return {
    get config() {
      return connection.config;
    },
    get threadId() {
      return connection.threadId ?? 0;
    },
    connect: (callback) => callback?.(undefined),
    destroy: () => connection.destroy(),
    query(sql, parameters, callback) {
      return connection.query(
        {
          sql,
          // mysql2 formats values with the pool's `timezone` (often 'local'): bind our instants as UTC text,
          // and read them back as UTC (mysql2's text parser takes `timezone` per query).
          values: (parameters as readonly unknown[]).map((value) =>
            value instanceof Date ? utcDatetime(value) : value,
          ),
          timeout: timeoutMs,
          timezone: 'Z',
          supportBigNumbers: true,
        },
        (error, result) => {
          if ((error as { code?: unknown } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
            connection.destroy();
            const timedOut = queryTimeoutError(timeoutMs, error);
            breaker.observe(timedOut);
            callback?.(timedOut, result as never);
            return;
          }
          callback?.(error as never, result as never);
        },
      ) as never;
    },
    release: () => connection.release(),
  };
}

/** `2026-12-03 14:00:00.123`: a `datetime(3)` literal in UTC. */
function utcDatetime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

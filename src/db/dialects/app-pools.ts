// Pools an application created and passes in (`createAlarmbox({ database: { postgres: pool } })`). They stay the
// app's: the toolkit never ends them, never adds pool-wide listeners, and never changes a session setting of their
// connections (no `set time zone`). What the toolkit needs of a query is asked per query instead: the query timeout,
// int8 as JS numbers (PostgreSQL), UTC times (MySQL).
import type { MysqlPool, PostgresPool } from 'kysely';
import type { OnConnected } from '../connected-server.ts';
import type { AppMysqlPool } from './app-mysql-types.ts';
import { mysqlPoolWithTimeouts, socketOf as mysqlSocketOf } from './mysql-pool.ts';

import { exactNumber, INT8_OID, postgresPoolWithTimeouts, socketOf } from './postgres-pool.ts';

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

export function appPostgresPool(
  pool: AppPostgresPool,
  queryTimeoutMs: number,
  onConnected: OnConnected,
): PostgresPool {
  return postgresPoolWithTimeouts(pool, queryTimeoutMs, {
    options: {},
    firstCheckout: (client) =>
      onConnected({ host: client.host ?? '', port: client.port ?? 0 }, socketOf(client)),
    // pg's per-query query_timeout (Client#query reads config.query_timeout before the pool's).
    query: async (client, text, values) =>
      int8AsNumbers(await client.query({ text, values, query_timeout: queryTimeoutMs })),
    // The app's pool: the app ends it.
    end: async () => {},
  });
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

export function appMysqlPool(
  pool: AppMysqlPool,
  queryTimeoutMs: number,
  onConnected: OnConnected,
): MysqlPool {
  return mysqlPoolWithTimeouts(pool, queryTimeoutMs, {
    firstCheckout: (connection) =>
      onConnected(
        { host: connection.config.host ?? '', port: connection.config.port ?? 0 },
        mysqlSocketOf(connection),
      ),
    queryOptions: (sql, values) => ({
      sql,
      // mysql2 formats values with the pool's `timezone` (often 'local'): bind our instants as UTC text,
      // and read them back as UTC (mysql2's text parser takes `timezone` per query).
      values: values.map((value) => (value instanceof Date ? utcDatetime(value) : value)),
      timezone: 'Z',
      supportBigNumbers: true,
    }),
    // The app's pool: the app ends it.
    end: (callback) => callback(null),
  });
}

/** `2026-12-03 14:00:00.123`: a `datetime(3)` literal in UTC. */
function utcDatetime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

import { Kysely, sql } from 'kysely';
import type { ConnectedServer } from './connected-server.ts';
import type { DatabaseAdapter } from './dialects/adapter.ts';
import { adapterFor } from './dialects/index.ts';
import { toConnectionError } from './driver-errors.ts';
import type { AlarmboxSchema } from './schema.ts';
import type { DatabaseDialect, DatabaseTarget } from './url.ts';

export { toDatabaseError } from './driver-errors.ts';
export { type DatabaseSource, describeDatabase } from './source.ts';

/** An open database: the typed Kysely instance plus what callers need to report on it. */
export interface DatabaseHandle {
  readonly db: Kysely<AlarmboxSchema>;
  readonly dialect: DatabaseDialect;
  /** Everything that differs on this database (time binding, the server clock, insert-if-absent…). */
  readonly adapter: DatabaseAdapter;
  readonly target: DatabaseTarget;
  /** Connections the pool may open (SQLite: 1, the file's one connection). */
  readonly poolSize: number;
  /** Runs `select 1`. @throws DatabaseUnavailableError (never a bare driver error). */
  ping(): Promise<void>;
  /**
   * MySQL / PostgreSQL: the server of the pool's newest connection as its socket saw it (address, TLS and
   * whether the certificate was verified); undefined before the first connection and on SQLite.
   */
  connectedServer(): ConnectedServer | undefined;
  /** Closes the pool (or the SQLite file). Safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Connections per pool on MySQL / PostgreSQL (default 5). SQLite always uses one. */
  readonly poolSize?: number;
  /** MySQL / PostgreSQL: how long opening one connection may take (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * MySQL / PostgreSQL: how long one query may wait for the server (default 10 s). A query that runs out
   * fails as temporary and its connection is discarded, so a server that went silent never hangs a caller.
   */
  readonly queryTimeoutMs?: number;
}

export const DEFAULT_DB_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_DB_QUERY_TIMEOUT_MS = 10_000;
const DEFAULT_POOL_SIZE = 5;

/**
 * Opens (lazily: nothing connects until the first query or {@link DatabaseHandle.ping}) the database of
 * `target`. It never creates one: a SQLite path without a file fails with `SQLITE_NOT_FOUND` (only
 * `migrateToLatest` creates the file). Every dialect stores and reads times as UTC and returns bigint columns
 * as JS numbers.
 */
export function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const adapter = adapterFor(target.dialect);
  const poolSize = adapter.poolSize(options.poolSize ?? DEFAULT_POOL_SIZE);
  let connected: ConnectedServer | undefined;
  const db = new Kysely<AlarmboxSchema>({
    dialect: adapter.createDialect(target, {
      poolSize,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: options.queryTimeoutMs ?? DEFAULT_DB_QUERY_TIMEOUT_MS,
      onConnected: (server) => {
        connected = server;
      },
    }),
  });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: target.dialect,
    adapter,
    target,
    poolSize,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw toConnectionError(error, target);
      }
    },
    connectedServer: () => connected,
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}

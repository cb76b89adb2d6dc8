import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  sql,
} from 'kysely';
import type { PoolOptions as MysqlPoolOptions } from 'mysql2';
import type { CustomTypesConfig } from 'pg';
import { toConnectionError } from './driver-errors.ts';
import type { AlarmboxSchema } from './schema.ts';
import { withStatementCache } from './sqlite-statement-cache.ts';
import type { DatabaseDialect, DatabaseTarget } from './url.ts';

export { toDatabaseError } from './driver-errors.ts';

/** An open database: the typed Kysely instance plus what callers need to report on it. */
export interface DatabaseHandle {
  readonly db: Kysely<AlarmboxSchema>;
  readonly dialect: DatabaseDialect;
  readonly target: DatabaseTarget;
  /** Connections the pool may open (SQLite: 1, the file's one connection). */
  readonly poolSize: number;
  /** Runs `select 1`. @throws DatabaseUnavailableError (never a bare driver error). */
  ping(): Promise<void>;
  /** Closes the pool (or the SQLite file). Safe to call more than once. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Connections per pool on MySQL / PostgreSQL (default 5). SQLite always uses one. */
  readonly poolSize?: number;
}

const CONNECT_TIMEOUT_MS = 5_000;
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_POOL_SIZE = 5;
/** PostgreSQL's type oid of `bigint` / `int8`. */
const INT8_OID = 20;

/**
 * Opens (lazily: nothing connects until the first query or {@link DatabaseHandle.ping}) the database of
 * `target`. Every dialect stores and reads times as UTC and returns bigint columns as JS numbers.
 */
export function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  const db = new Kysely<AlarmboxSchema>({ dialect: createDialect(target, poolSize) });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: target.dialect,
    target,
    poolSize: target.dialect === 'sqlite' ? 1 : poolSize,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw toConnectionError(error, target);
      }
    },
    close() {
      closing ??= db.destroy();
      return closing;
    },
  };
}

// Drivers are imported when first used: a process on SQLite never loads mysql2 or pg (CLI start-up time).
function createDialect(target: DatabaseTarget, poolSize: number): Dialect {
  switch (target.dialect) {
    case 'sqlite':
      return new SqliteDialect({
        database: async () => withStatementCache(await openSqliteFile(target.file)),
      });
    case 'mysql':
      return new MysqlDialect({
        pool: async () => {
          const { createPool } = await import('mysql2');
          return createPool(mysqlPoolOptions(target, poolSize));
        },
        // datetime(3) has no zone and mysql2 already reads/writes it as UTC ('Z'); a UTC session also makes
        // NOW() and friends agree with the stored values for anyone querying by hand.
        onCreateConnection: (connection) => run(connection, "set time_zone = '+00:00'"),
      });
    case 'postgres':
      return new PostgresDialect({
        pool: async () => {
          const { default: pg } = await import('pg');
          const pool = new pg.Pool({
            connectionString: target.url,
            max: poolSize,
            connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
            types: int8AsNumber(pg.types),
          });
          // An idle client whose server went away emits 'error'; unhandled, that would crash the process.
          // The next query reports the problem through toDatabaseError instead.
          pool.on('error', () => {});
          // A client whose server connection dies mid-query (a failover, pg_terminate_backend) also emits
          // 'error' while checked out, where the pool listens no more: the query's own rejection reports it,
          // and an unhandled 'error' event would crash the whole application.
          pool.on('connect', (client) => client.on('error', () => {}));
          return pool;
        },
        // timestamptz values are instants either way; a UTC session keeps text casts and now() in UTC too.
        onCreateConnection: (connection) => run(connection, "set time zone 'UTC'"),
      });
  }
}

async function run(connection: DatabaseConnection, statement: string): Promise<void> {
  await connection.executeQuery(CompiledQuery.raw(statement));
}

async function openSqliteFile(file: string): Promise<BetterSqlite3.Database> {
  const { default: Database } = await import('better-sqlite3');
  if (file !== ':memory:') {
    const path = resolve(file);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is private (0600): it holds the token envelopes. SQLite gives its
    // -wal and -shm files the same permissions as the database file.
    closeSync(openSync(path, 'a', 0o600));
  }
  const database = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  // WAL: readers do not block the writer, which matters with several CLI processes and a scheduler.
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma('synchronous = NORMAL');
  return database;
}

function mysqlPoolOptions(
  target: Extract<DatabaseTarget, { dialect: 'mysql' }>,
  poolSize: number,
): MysqlPoolOptions {
  const url = new URL(target.url);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    ...(user === '' ? {} : { user }),
    ...(password === '' ? {} : { password }),
    connectionLimit: poolSize,
    connectTimeout: CONNECT_TIMEOUT_MS,
    timezone: 'Z',
    charset: 'utf8mb4',
    // bigint columns as JS numbers while they are exact (|n| < 2^53), as strings beyond: never silently wrong.
    supportBigNumbers: true,
    bigNumberStrings: false,
  };
}

/**
 * pg returns int8 as a string by default (it may exceed 2^53). Our bigints are counters and epoch
 * milliseconds, so this pool (only this one: the global pg.types stay untouched) parses them as numbers,
 * refusing values that would lose precision.
 */
function int8AsNumber(types: CustomTypesConfig): CustomTypesConfig {
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : types.getTypeParser(oid, format ?? 'text')) as CustomTypesConfig['getTypeParser'];
  return { getTypeParser };
}

function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new RangeError(`bigint の値 ${value} は JavaScript の数値で正確に扱えません。`);
  }
  return parsed;
}

import type { DatabaseConnection, Dialect, Kysely, RawBuilder } from 'kysely';
import type { ConnectedServer } from '../connected-server.ts';
import { kysely } from '../kysely-runtime.ts';
import { type AlarmboxLocksTable, type AlarmboxSchema, type DbTime, LOCKS_TABLE } from '../schema.ts';
import type { DatabaseDialect, DatabaseTarget } from '../url.ts';

/** What a driver's error means, whichever driver said it. */
export type DriverErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'unknown_database'
  | 'permission'
  | 'busy'
  | 'sqlite_path'
  | 'missing_schema'
  /** The server insists on TLS and the URL asks for none. */
  | 'tls_required';

/** How a pool is opened; filled in by `openDatabase` from its options and their defaults. */
export interface ConnectionSettings {
  readonly poolSize: number;
  /** Opening one connection (TCP connect plus the server's handshake). */
  readonly connectTimeoutMs: number;
  /** One query, from sending it to its last row. The connection is discarded when it runs out. */
  readonly queryTimeoutMs: number;
  /** Servers: called with each new connection, once it is set up (what `status` shows as the server used). */
  readonly onConnected?: ((server: ConnectedServer) => void) | undefined;
}

/** A row of `alarmbox_refresh_history` without its id. */
export interface HistoryValues {
  readonly attempted_at: DbTime;
  readonly refresh_trigger: string;
  readonly outcome: string;
  readonly duration_ms: number;
  readonly message: string | null;
}

/**
 * What differs at run time between SQLite, MySQL/MariaDB and PostgreSQL, in one object per database (in the
 * spirit of Kysely's `DialectAdapter`). Code outside `src/db/dialects` asks the adapter instead of testing
 * the dialect, so each difference is written once, next to the others of its database. DDL is not here: each
 * migration writes out its own (src/db/migrations), so editing an adapter never changes a released one.
 */
export interface DatabaseAdapter {
  readonly dialect: DatabaseDialect;
  /** The driver: an npm package (`mysql2`, `pg`), or `node:sqlite` built into Node. */
  readonly driverPackage: string;

  // Connections
  /** Connections a pool may hold: SQLite has one file connection whatever is asked. */
  poolSize(requested: number): number;
  /**
   * Throws when the database of `target` plainly does not exist yet (a SQLite file), so that a command that
   * only reads never creates an empty one. Servers have none: they say so when connecting.
   */
  assertExists?(target: DatabaseTarget): void;
  /**
   * Creates the database of `target` when it is missing and this package can make it (SQLite: the file,
   * private, and its folder). Only migrating calls it: opening never creates, so a read on a mistyped path
   * reports the missing file instead of leaving an empty database behind. Servers need none (an administrator
   * creates the database).
   */
  createIfMissing?(target: DatabaseTarget): void;
  /**
   * A connection of its own for fixed reads without the query builder (`DatabaseHandle.readOne`), where the
   * driver is in-process and one more connection costs nothing: SQLite files. Opened on the first read.
   */
  openReader?(target: DatabaseTarget): RowReader | undefined;
  /** Kysely's dialect for `target`, with timeouts, keepalive and a UTC session. Nothing connects yet. */
  createDialect(target: DatabaseTarget, settings: ConnectionSettings): Dialect;

  // Time
  /** "Now" on the database's clock as epoch milliseconds (an integer), as an SQL expression. */
  nowMs(): RawBuilder<number>;
  /** The value to bind for a time column (the date is already checked to be valid). */
  timeValue(date: Date): DbTime;

  // Writes whose form differs
  /** Inserts a lease row unless one of that name exists; true when this call inserted it. */
  insertLeaseIfAbsent(db: Kysely<AlarmboxSchema>, row: AlarmboxLocksTable): Promise<boolean>;
  /** Inserts a history row and returns its generated id. */
  insertHistory(db: Kysely<AlarmboxSchema>, row: HistoryValues): Promise<number>;
  /** Runs the migrator so that concurrent runs serialize and a failed run leaves nothing half done. */
  migrateExclusively<T>(
    db: Kysely<AlarmboxSchema>,
    run: (db: Kysely<AlarmboxSchema>) => Promise<T>,
  ): Promise<T>;

  // Errors
  /** A unique / primary key violation. */
  isDuplicateKey(error: unknown): boolean;
  /** This driver's error codes (and, where it has no code, message patterns) by what they mean. */
  classifyError(code: string | undefined, message: string): DriverErrorKind | undefined;
}

/** See {@link DatabaseAdapter.openReader}. */
export interface RowReader {
  /** One row of `sql` (the first), or undefined. @throws the driver's error, named like the builder's */
  readOne(
    sql: string,
    parameters: readonly (string | number)[],
  ): Readonly<Record<string, unknown>> | undefined;
  close(): void;
}

/** Looks `code` up in per-kind code lists. */
export function kindOfCode(
  table: Readonly<Partial<Record<DriverErrorKind, readonly string[]>>>,
  code: string | undefined,
): DriverErrorKind | undefined {
  if (code === undefined) return undefined;
  for (const [kind, codes] of Object.entries(table) as [DriverErrorKind, readonly string[]][]) {
    if (codes.includes(code)) return kind;
  }
  return undefined;
}

/**
 * `INSERT … ON CONFLICT (name) DO NOTHING` of a lease row, for the databases that have it (SQLite,
 * PostgreSQL): true when this statement inserted the row.
 */
export async function insertLeaseOnConflictDoNothing(
  db: Kysely<AlarmboxSchema>,
  row: AlarmboxLocksTable,
): Promise<boolean> {
  const result = await db
    .insertInto(LOCKS_TABLE)
    .values(row)
    .onConflict((conflict) => conflict.column('name').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** Runs one fixed statement on a connection being set up (Kysely's `onCreateConnection`). */
export async function runStatement(connection: DatabaseConnection, statement: string): Promise<void> {
  await connection.executeQuery(kysely().CompiledQuery.raw(statement));
}

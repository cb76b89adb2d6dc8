import { accessSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { errorCode } from '../../error-code.ts';
import { AlarmboxError } from '../../errors.ts';
import { DatabaseUnavailableError } from '../errors.ts';
import { kysely } from '../kysely-runtime.ts';
import { REFRESH_HISTORY_TABLE } from '../schema.ts';
import { describeDatabase } from '../source.ts';
import type { DatabaseTarget } from '../url.ts';
import {
  type DatabaseAdapter,
  type DriverErrorKind,
  insertLeaseOnConflictDoNothing,
  kindOfCode,
  type RowReader,
} from './adapter.ts';
import { kyselySqliteDatabase, loadNodeSqlite, withSqliteCode } from './node-sqlite.ts';

const BUSY_TIMEOUT_MS = 5_000;

const ERROR_CODES: Partial<Record<DriverErrorKind, readonly string[]>> = {
  permission: ['SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_AUTH'],
  // SQLite's own, plus what creating its parent directory can hit (EEXIST: a file sits where the directory goes).
  sqlite_path: [
    'SQLITE_CANTOPEN',
    'SQLITE_NOTADB',
    'EACCES',
    'EPERM',
    'ENOTDIR',
    'EEXIST',
    'EROFS',
    'EISDIR',
  ],
};

/** SQLite through Node's built-in `node:sqlite` (no native addon to install): one file, one connection, times as ISO-8601 text. */
export const sqliteAdapter: DatabaseAdapter = {
  dialect: 'sqlite',
  driverPackage: 'node:sqlite',

  poolSize: () => 1,

  assertExists: (target) => assertFileExists(target),

  createIfMissing: (target) => createFileIfMissing(target),

  // node:sqlite runs in-process, so one more connection of the file costs nothing, and reading row 1 on it
  // needs no query builder (the hot path). Never the builder's connection: that one may be inside a transaction
  // (the save probe writes row 1 and rolls back), whose uncommitted values a read must not see. `:memory:` is a
  // database of its connection alone, so it has none.
  openReader: (target) => (fileOf(target) === ':memory:' ? undefined : fileReader(target)),

  createDialect(target) {
    const file = fileOf(target);
    return new (kysely().SqliteDialect)({
      database: async () => kyselySqliteDatabase(openFile(target, file)),
    });
  },

  // julianday('now') is exact to the millisecond inside SQLite, but as a double in days the product can land
  // a hair below the integer: round, do not truncate.
  nowMs: () => kysely().sql<number>`cast(round((julianday('now') - 2440587.5) * 86400000) as integer)`,

  // SQLite has no date type (node:sqlite cannot bind a Date). ISO-8601 with the `Z` also sorts correctly as text.
  timeValue: (date) => date.toISOString(),

  insertLeaseIfAbsent: insertLeaseOnConflictDoNothing,

  async insertHistory(db, row) {
    const result = await db.insertInto(REFRESH_HISTORY_TABLE).values(row).executeTakeFirst();
    return Number(result.insertId ?? 0n);
  },

  // Kysely's migrator takes no lock on SQLite: BEGIN IMMEDIATE takes the write lock up front (waiting up to
  // busy_timeout), so a second process waits here and then sees the first one's finished work instead of
  // failing halfway through, and the whole run is all-or-nothing.
  migrateExclusively: (db, run) =>
    db.connection().execute(async (connection) => {
      await kysely().sql`begin immediate`.execute(connection);
      try {
        const result = await run(connection);
        await kysely().sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await kysely().sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    }),

  isDuplicateKey: (error) => /^SQLITE_CONSTRAINT_(PRIMARYKEY|UNIQUE)$/.test(errorCode(error) ?? ''),
  isLockNotAvailable: (error) => /^SQLITE_(BUSY|LOCKED)/.test(errorCode(error) ?? ''),

  classifyError(code, message) {
    const kind = kindOfCode(ERROR_CODES, code);
    if (kind !== undefined || code === undefined) return kind;
    // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE…
    if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return 'busy';
    if (code.startsWith('SQLITE_') && /no such (table|column)/i.test(message)) return 'missing_schema';
    return undefined;
  },

  timestampType: 'text',
  // SQLite's INTEGER is already 64-bit (and `bigint` would only be an alias of it).
  bigintType: 'integer',
  // `integer primary key autoincrement`: ids are never reused.
  addGeneratedId: (table) =>
    table.addColumn('id', 'integer', (col) => col.notNull().primaryKey().autoIncrement()),
  tableOptions: (table) => table,
  resizeTokenColumns: async () => {},
};

function fileOf(target: DatabaseTarget): string {
  if (target.dialect !== 'sqlite')
    throw new AlarmboxError(`not a SQLite target: ${target.dialect}`, { reason: 'unexpected' });
  return target.file;
}

/** @throws DatabaseUnavailableError ('configuration', `SQLITE_NOT_FOUND`) */
function assertFileExists(target: DatabaseTarget): void {
  const file = fileOf(target);
  if (file === ':memory:') return;
  try {
    // accessSync, not statSync: the first Stats object Node makes costs a cold start about 2 ms.
    accessSync(resolve(file));
    return;
  } catch (error) {
    // Only "no such file" means missing; a path that cannot be a file at all (ENOTDIR, EACCES…) is
    // reported when opening it, with its own fix.
    if (errorCode(error) !== 'ENOENT') return;
  }
  throw new DatabaseUnavailableError(
    'configuration',
    'SQLITE_NOT_FOUND',
    `データベースファイルがありません (${describeDatabase(target)})。初めて使う場合は alarmbox migrate を実行して作成してください。既存のデータベースを使うつもりなら DATABASE_URL のパスを確認してください (.env を読むのは CLI だけです: README「環境変数」)。`,
  );
}

/**
 * Migrating only (the adapter's `createIfMissing`): the file's folder and the file, made private (0600) by us
 * because it holds the token envelopes; SQLite gives its -wal and -shm files the same permissions.
 * @throws the file system's error (EACCES, ENOTDIR…), which the caller maps to a `sqlite_path` message
 */
function createFileIfMissing(target: DatabaseTarget): void {
  const file = fileOf(target);
  if (file === ':memory:') return;
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}

/** A connection of its own for fixed reads, opened on the first (which names a missing file like any open). */
function fileReader(target: DatabaseTarget): RowReader {
  let database: DatabaseSync | undefined;
  const statements = new Map<string, StatementSync>();
  return {
    readOne(sql, parameters) {
      try {
        database ??= openFile(target, fileOf(target));
        let statement = statements.get(sql);
        if (statement === undefined) {
          statement = database.prepare(sql);
          statements.set(sql, statement);
        }
        return statement.get(...parameters);
      } catch (error) {
        throw withSqliteCode(error);
      }
    },
    close() {
      statements.clear();
      database?.close();
      database = undefined;
    },
  };
}

function openFile(target: DatabaseTarget, file: string): DatabaseSync {
  const { DatabaseSync } = loadNodeSqlite();
  // Never create here: SQLite would make the file (never its folder) on the first open otherwise, so the
  // missing file is named just before opening. (A `file:…?mode=rw` URI would make SQLite itself refuse, but
  // Node 22.14's node:sqlite opens no URIs.)
  if (file !== ':memory:') assertFileExists(target);
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(file);
  } catch (error) {
    throw withSqliteCode(error);
  }
  try {
    // busy_timeout first: switching to WAL may itself wait for another process's lock.
    database.exec(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL: readers do not block the writer, which matters with several CLI processes and a scheduler.
    database.exec('pragma journal_mode = WAL');
    database.exec('pragma synchronous = NORMAL');
  } catch (error) {
    database.close();
    throw withSqliteCode(error);
  }
  return database;
}

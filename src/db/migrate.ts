import type { Kysely } from 'kysely';
import type { MigrationProvider } from 'kysely/migration';
import { debugHint } from '../debug-detail.ts';
import type { AlarmboxError } from '../errors.ts';
import type { DatabaseHandle } from './connection.ts';
import { namedDatabaseError, toDatabaseError } from './driver-errors.ts';
import { MigrationFailedError, MigrationsPendingError } from './errors.ts';
import { kysely } from './kysely-runtime.ts';
import { migrations } from './migrations/index.ts';
import { LOCKS_TABLE, TOKENS_TABLE } from './schema.ts';
import { describeDatabase } from './source.ts';
import { type DatabaseDialect, type DatabaseTarget, describeTarget } from './url.ts';

/** Kysely's `DEFAULT_MIGRATION_TABLE`, written out: the table every released version recorded its migrations in. */
const MIGRATION_TABLE = 'kysely_migration';

export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when the schema was already current. */
  readonly applied: string[];
}

/** Names of all migrations this version knows, in the order they run. */
export function migrationNames(dialect: DatabaseDialect): string[] {
  return Object.keys(migrations(dialect)).sort();
}

/**
 * Brings the schema up to date. Idempotent, and safe to run from several processes at once: each adapter's
 * `migrateExclusively` serializes concurrent runs (a server lock held by Kysely's migrator on MySQL and
 * PostgreSQL, one `BEGIN IMMEDIATE` transaction on SQLite).
 * @throws DatabaseUnavailableError, MigrationFailedError
 */
export async function migrateToLatest(handle: DatabaseHandle): Promise<MigrateResult> {
  createDatabaseIfMissing(handle);
  try {
    return await handle.adapter.migrateExclusively(await handle.open(), (db) =>
      runMigrator(db, handle.dialect),
    );
  } catch (error) {
    throw toMigrationError(error, handle.target);
  }
}

/**
 * Creates the database when it is missing and this package can (a SQLite file and its folder): the one
 * place that does, for migrating (opening never creates, docs/design.md「SQLite のファイルを作るのは migrate だけ」).
 * @throws DatabaseUnavailableError ('configuration') when the file or its folder cannot be made
 */
export function createDatabaseIfMissing(handle: DatabaseHandle): void {
  try {
    handle.adapter.createIfMissing?.(handle.target);
  } catch (error) {
    throw toMigrationError(error, handle.target);
  }
}

/**
 * Checks that every migration has run and our tables exist, cheaply (no catalog introspection), so that
 * commands fail with "run alarmbox migrate" instead of a driver's "no such table".
 * @throws MigrationsPendingError, DatabaseUnavailableError
 */
export async function assertMigrated(handle: DatabaseHandle): Promise<void> {
  const label = describeDatabase(handle.target);
  const known = migrationNames(handle.dialect);
  // The driver's "no such table" is said as what is missing; any other failure as toDatabaseError names it.
  const pendingOr = (error: unknown, detail: string): AlarmboxError => {
    const mapped = toDatabaseError(error, handle.target);
    if (!(mapped instanceof MigrationsPendingError)) return mapped;
    return new MigrationsPendingError(label, detail, { cause: error });
  };
  let executed: Set<string>;
  try {
    const rows = await (await handle.open())
      .withTables<{ [MIGRATION_TABLE]: { name: string } }>()
      .selectFrom(MIGRATION_TABLE)
      .select('name')
      .execute();
    executed = new Set(rows.map((row) => row.name));
  } catch (error) {
    throw pendingOr(error, `未適用のマイグレーション: ${known.join(', ')}`);
  }
  const pending = known.filter((name) => !executed.has(name));
  if (pending.length > 0) {
    throw new MigrationsPendingError(label, `未適用のマイグレーション: ${pending.join(', ')}`);
  }

  // The history can say "done" while a table was dropped by hand: look at the tables themselves too.
  for (const table of [TOKENS_TABLE, LOCKS_TABLE]) {
    try {
      const db = await handle.open();
      const { sql } = kysely();
      await sql`select 1 from ${sql.table(table)} where 1 = 0`.execute(db);
    } catch (error) {
      throw pendingOr(error, `テーブル ${table} がありません`);
    }
  }
}

async function runMigrator<DB>(db: Kysely<DB>, dialect: DatabaseDialect): Promise<MigrateResult> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error, results = [] } = await new (kysely().Migrator)({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName;
    throw new MigrationRunError(failed, error);
  }
  return {
    applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
  };
}

/** Carries the name of the migration that failed from runMigrator to toMigrationError. */
class MigrationRunError extends Error {
  readonly migrationName: string | undefined;
  constructor(migrationName: string | undefined, cause: unknown) {
    super('migration failed', { cause });
    this.migrationName = migrationName;
  }
}

function toMigrationError(error: unknown, target: DatabaseTarget): AlarmboxError {
  const migrationName = error instanceof MigrationRunError ? error.migrationName : undefined;
  const cause = error instanceof MigrationRunError ? error.cause : error;
  const mapped = namedDatabaseError(cause, target);
  // A table missing *during* a migration is not "run migrate": it is a failed migration.
  if (mapped !== undefined && !(mapped instanceof MigrationsPendingError)) return mapped;
  const label = describeTarget(target);
  const message = cause instanceof Error ? cause.message : '';
  if (message.startsWith('corrupted migrations')) {
    return new MigrationFailedError(
      'configuration',
      `データベースのマイグレーション履歴がこのバージョンの alarmbox と一致しません (${label})。より新しいバージョンで作成されたデータベースでないか確認してください。`,
      { cause },
    );
  }
  const code = codeLabel(cause);
  const which = migrationName === undefined ? '' : `${migrationName}, `;
  return new MigrationFailedError(
    'unexpected',
    `データベースのマイグレーションに失敗しました (${label}: ${which}${code})。${debugHint()}`,
    { cause },
  );
}

function codeLabel(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return error instanceof Error ? error.name : typeof error;
}

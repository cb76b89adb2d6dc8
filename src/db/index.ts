export {
  type DatabaseHandle,
  DEFAULT_DB_CONNECT_TIMEOUT_MS,
  DEFAULT_DB_QUERY_TIMEOUT_MS,
  type OpenDatabaseOptions,
  openDatabase,
  toDatabaseError,
} from './connection.ts';
export { adapterFor, assertDatabaseExists, type DatabaseAdapter } from './dialects/index.ts';
export {
  DatabaseDriverMissingError,
  DatabaseTimeValueError,
  DatabaseUnavailableError,
  DatabaseUrlError,
  MigrationFailedError,
  MigrationsPendingError,
} from './errors.ts';
export {
  assertMigrated,
  createDatabaseIfMissing,
  type MigrateResult,
  migrateToLatest,
  migrationNames,
} from './migrate.ts';
export {
  type AlarmboxLocksTable,
  type AlarmboxRefreshHistoryTable,
  type AlarmboxSchema,
  type AlarmboxTokensTable,
  type DbTime,
  LOCKS_TABLE,
  REFRESH_HISTORY_TABLE,
  TOKENS_TABLE,
} from './schema.ts';
export { describeDatabase } from './source.ts';
export { fromDbTime, toDbTime } from './time.ts';
export { type DatabaseDialect, type DatabaseTarget, describeTarget, parseDatabaseUrl } from './url.ts';

export {
  type DatabaseHandle,
  DEFAULT_DB_CONNECT_TIMEOUT_MS,
  DEFAULT_DB_QUERY_TIMEOUT_MS,
  type OpenDatabaseOptions,
  openDatabase,
  toDatabaseError,
} from './connection.ts';
export { adapterFor } from './dialects/index.ts';
export {
  DatabaseTimeValueError,
  DatabaseUnavailableError,
  DatabaseUrlError,
  MigrationsPendingError,
} from './errors.ts';
export {
  assertMigrated,
  createDatabaseIfMissing,
  migrateToLatest,
  migrationNames,
} from './migrate.ts';
export {
  LOCKS_TABLE,
  TOKENS_TABLE,
} from './schema.ts';
export { describeDatabase } from './source.ts';
export { fromDbTime, toDbTime } from './time.ts';
export { type DatabaseTarget, describeTarget, parseDatabaseUrl } from './url.ts';

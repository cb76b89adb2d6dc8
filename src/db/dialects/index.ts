import type { DatabaseDialect, DatabaseTarget } from '../url.ts';
import type { DatabaseAdapter } from './adapter.ts';
import { mysqlAdapter } from './mysql.ts';
import { postgresAdapter } from './postgres.ts';
import { sqliteAdapter } from './sqlite.ts';

const ADAPTERS: Readonly<Record<DatabaseDialect, DatabaseAdapter>> = {
  sqlite: sqliteAdapter,
  mysql: mysqlAdapter,
  postgres: postgresAdapter,
};

/** The adapter of `dialect`: the one place that knows how that database differs. */
export function adapterFor(dialect: DatabaseDialect): DatabaseAdapter {
  return ADAPTERS[dialect];
}

/**
 * Throws when the database of `target` plainly does not exist (a SQLite path with no file), so that a command
 * that only reads never creates an empty database where the user expected theirs.
 * @throws DatabaseUnavailableError ('configuration', code `SQLITE_NOT_FOUND`)
 */
export function assertDatabaseExists(target: DatabaseTarget): void {
  adapterFor(target.dialect).assertExists?.(target);
}

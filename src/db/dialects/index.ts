import type { DatabaseDialect } from '../url.ts';
import type { DatabaseAdapter } from './adapter.ts';
import { mysqlAdapter } from './mysql.ts';
import { postgresAdapter } from './postgres.ts';
import { sqliteAdapter } from './sqlite.ts';

export type { ConnectionSettings, DatabaseAdapter, DriverErrorKind } from './adapter.ts';
export { assertDatabaseExists } from './sqlite.ts';

const ADAPTERS: Readonly<Record<DatabaseDialect, DatabaseAdapter>> = {
  sqlite: sqliteAdapter,
  mysql: mysqlAdapter,
  postgres: postgresAdapter,
};

/** The adapter of `dialect`: the one place that knows how that database differs. */
export function adapterFor(dialect: DatabaseDialect): DatabaseAdapter {
  return ADAPTERS[dialect];
}

import type { ColumnDataType } from 'kysely';
import type { DatabaseDialect } from '../url.ts';

// The few column types that differ per dialect. Migrations must keep producing the same DDL forever, so
// these are frozen here rather than shared with code that may evolve.

/** A UTC instant with milliseconds (see `../time.ts`). SQLite has no time type: ISO-8601 text. */
export function timestampType(dialect: DatabaseDialect): ColumnDataType {
  switch (dialect) {
    case 'sqlite':
      return 'text';
    case 'mysql':
      // Not `timestamp`: MySQL converts that through the session time zone and may auto-update it.
      return 'datetime(3)';
    case 'postgres':
      return 'timestamptz(3)';
  }
}

/** A 64-bit integer. SQLite's INTEGER is already 64-bit (and `bigint` would only be an alias of it). */
export function bigintType(dialect: DatabaseDialect): ColumnDataType {
  return dialect === 'sqlite' ? 'integer' : 'bigint';
}

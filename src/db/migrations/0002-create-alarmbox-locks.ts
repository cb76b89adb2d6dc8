import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseDialect } from '../url.ts';
import { bigintType } from './column-types.ts';
import { withTableOptions } from './table-options.ts';

/**
 * Leases of `LockManager` (src/lock). Times are epoch milliseconds taken from the database's own clock, so
 * hosts with skewed clocks still agree on when a lease expires. varchar(191): the longest utf8mb4 key
 * that fits the old 767-byte InnoDB index limit.
 */
export function createAlarmboxLocks(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('alarmbox_locks')
        .addColumn('name', 'varchar(191)', (col) => col.notNull().primaryKey())
        .addColumn('owner', 'varchar(191)', (col) => col.notNull())
        .addColumn('expires_at_ms', bigintType(dialect), (col) => col.notNull())
        .addColumn('acquired_at_ms', bigintType(dialect), (col) => col.notNull());
      await withTableOptions(dialect, table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_locks').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseAdapter } from '../dialects/adapter.ts';

/**
 * Leases of `LockManager` (src/lock). Times are epoch milliseconds taken from the database's own clock, so
 * hosts with skewed clocks still agree on when a lease expires. varchar(191): the longest utf8mb4 key
 * that fits the old 767-byte InnoDB index limit.
 */
export function createAlarmboxLocks(adapter: DatabaseAdapter): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('alarmbox_locks')
        .addColumn('name', 'varchar(191)', (col) => col.notNull().primaryKey())
        .addColumn('owner', 'varchar(191)', (col) => col.notNull())
        .addColumn('expires_at_ms', adapter.bigintType, (col) => col.notNull())
        .addColumn('acquired_at_ms', adapter.bigintType, (col) => col.notNull());
      await adapter.tableOptions(table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_locks').execute();
    },
  };
}

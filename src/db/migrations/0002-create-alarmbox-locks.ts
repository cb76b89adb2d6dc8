import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { kysely } from '../kysely-runtime.ts';
import type { DatabaseDialect } from '../url.ts';

// Frozen with this released migration, as in 0001 (SQLite's INTEGER is already 64-bit).
const BIGINT = { sqlite: 'integer', mysql: 'bigint', postgres: 'bigint' } as const;
const MYSQL_TABLE_OPTIONS = 'engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin';

/**
 * Leases of `LockManager` (src/lock). Times are epoch milliseconds taken from the database's own clock, so
 * hosts with skewed clocks still agree on when a lease expires. varchar(191): the longest utf8mb4 key
 * that fits the old 767-byte InnoDB index limit.
 */
export function createAlarmboxLocks(dialect: DatabaseDialect): Migration {
  const bigint = BIGINT[dialect];
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('alarmbox_locks')
        .addColumn('name', 'varchar(191)', (col) => col.notNull().primaryKey())
        .addColumn('owner', 'varchar(191)', (col) => col.notNull())
        .addColumn('expires_at_ms', bigint, (col) => col.notNull())
        .addColumn('acquired_at_ms', bigint, (col) => col.notNull());
      await (dialect === 'mysql' ? table.modifyEnd(kysely().sql.raw(MYSQL_TABLE_OPTIONS)) : table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_locks').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseDialect } from '../url.ts';
import { timestampType } from './column-types.ts';
import { withTableOptions } from './table-options.ts';

/**
 * One row per refresh attempt (online, batch, manual), newest last, trimmed to a bounded size by the
 * writer (src/alarmbox/refresh-history.ts). No token, code or secret ever goes here: `message` is the
 * redacted Japanese message of a failure. The trigger column is `refresh_trigger`, not `trigger`: TRIGGER
 * is a reserved word in MySQL, and operators query this table by hand.
 */
export function createAlarmboxRefreshHistory(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      let table = db.schema.createTable('alarmbox_refresh_history');
      table =
        dialect === 'postgres'
          ? table.addColumn('id', 'bigserial', (col) => col.notNull().primaryKey())
          : // SQLite: `integer primary key autoincrement` (ids never reused); MySQL: `bigint … auto_increment`.
            table.addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigint', (col) =>
              col.notNull().primaryKey().autoIncrement(),
            );
      table = table
        .addColumn('attempted_at', timestampType(dialect), (col) => col.notNull())
        .addColumn('refresh_trigger', 'varchar(16)', (col) => col.notNull())
        .addColumn('outcome', 'varchar(64)', (col) => col.notNull())
        .addColumn('duration_ms', 'integer', (col) => col.notNull())
        .addColumn('message', 'varchar(1024)');
      await withTableOptions(dialect, table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_refresh_history').execute();
    },
  };
}

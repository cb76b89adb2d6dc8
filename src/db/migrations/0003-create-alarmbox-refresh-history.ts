import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseAdapter } from '../dialects/adapter.ts';

/**
 * One row per refresh attempt (online, batch, manual), newest last, trimmed to a bounded size by the
 * writer (src/alarmbox/refresh-history.ts). No token, code or secret ever goes here: `message` is the
 * redacted Japanese message of a failure. The trigger column is `refresh_trigger`, not `trigger`: TRIGGER
 * is a reserved word in MySQL, and operators query this table by hand.
 */
export function createAlarmboxRefreshHistory(adapter: DatabaseAdapter): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const table = adapter
        .addGeneratedId(db.schema.createTable('alarmbox_refresh_history'))
        .addColumn('attempted_at', adapter.timestampType, (col) => col.notNull())
        .addColumn('refresh_trigger', 'varchar(16)', (col) => col.notNull())
        .addColumn('outcome', 'varchar(64)', (col) => col.notNull())
        .addColumn('duration_ms', 'integer', (col) => col.notNull())
        .addColumn('message', 'varchar(1024)');
      await adapter.tableOptions(table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_refresh_history').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseAdapter } from '../dialects/adapter.ts';

/** The guide's `hansha_alarmbox_tokens` (one row, id = 1), plus the compare-and-set `version` and refresh status. */
export function createAlarmboxTokens(adapter: DatabaseAdapter): Migration {
  const timestamp = adapter.timestampType;
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('hansha_alarmbox_tokens')
        .addColumn('id', 'integer', (col) => col.notNull().primaryKey())
        .addColumn('access_token', 'varchar(512)', (col) => col.notNull().defaultTo(''))
        .addColumn('refresh_token', 'varchar(512)', (col) => col.notNull().defaultTo(''))
        .addColumn('expired_at', timestamp)
        .addColumn('updated_at', timestamp, (col) => col.notNull())
        .addColumn('version', adapter.bigintType, (col) => col.notNull().defaultTo(0))
        .addColumn('scope', 'varchar(512)')
        .addColumn('last_refresh_at', timestamp)
        .addColumn('last_refresh_outcome', 'varchar(64)')
        .addColumn('last_error', 'varchar(1024)');
      await adapter.tableOptions(table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('hansha_alarmbox_tokens').execute();
    },
  };
}

import type { ColumnDataType, Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { kysely } from '../kysely-runtime.ts';
import type { DatabaseDialect } from '../url.ts';

// Frozen with this released migration (tests/db/migrations-frozen.test.ts compares its DDL): never edit, add a migration.
const TYPES: Readonly<Record<DatabaseDialect, { time: ColumnDataType; bigint: ColumnDataType }>> = {
  // SQLite has no date type: ISO-8601 text with the `Z`, which also sorts as time. Its INTEGER is 64-bit.
  sqlite: { time: 'text', bigint: 'integer' },
  // Not `timestamp`: MySQL converts that through the session time zone and may auto-update it.
  mysql: { time: 'datetime(3)', bigint: 'bigint' },
  postgres: { time: 'timestamptz(3)', bigint: 'bigint' },
};
// Pins what a MySQL server's default might get wrong: InnoDB (transactions, row locks) and utf8mb4 with a
// binary collation (Japanese `last_error` text; lock names and owners compared exactly).
const MYSQL_TABLE_OPTIONS = 'engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin';

/** The guide's `hansha_alarmbox_tokens` (one row, id = 1), plus the compare-and-set `version` and refresh status. */
export function createAlarmboxTokens(dialect: DatabaseDialect): Migration {
  const { time, bigint } = TYPES[dialect];
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('hansha_alarmbox_tokens')
        .addColumn('id', 'integer', (col) => col.notNull().primaryKey())
        .addColumn('access_token', 'varchar(512)', (col) => col.notNull().defaultTo(''))
        .addColumn('refresh_token', 'varchar(512)', (col) => col.notNull().defaultTo(''))
        .addColumn('expired_at', time)
        .addColumn('updated_at', time, (col) => col.notNull())
        .addColumn('version', bigint, (col) => col.notNull().defaultTo(0))
        .addColumn('scope', 'varchar(512)')
        .addColumn('last_refresh_at', time)
        .addColumn('last_refresh_outcome', 'varchar(64)')
        .addColumn('last_error', 'varchar(1024)');
      await (dialect === 'mysql' ? table.modifyEnd(kysely().sql.raw(MYSQL_TABLE_OPTIONS)) : table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('hansha_alarmbox_tokens').execute();
    },
  };
}

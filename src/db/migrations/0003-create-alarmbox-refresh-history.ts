import type { ColumnDataType, Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { kysely } from '../kysely-runtime.ts';
import type { DatabaseDialect } from '../url.ts';

// Frozen with this released migration, as in 0001. `id` is a generated 64-bit key whose values are never
// reused: SQLite's `integer primary key autoincrement`, MySQL's auto_increment, PostgreSQL's bigserial.
const TYPES: Readonly<
  Record<DatabaseDialect, { id: ColumnDataType; autoIncrement: boolean; time: ColumnDataType }>
> = {
  sqlite: { id: 'integer', autoIncrement: true, time: 'text' },
  mysql: { id: 'bigint', autoIncrement: true, time: 'datetime(3)' },
  postgres: { id: 'bigserial', autoIncrement: false, time: 'timestamptz(3)' },
};
const MYSQL_TABLE_OPTIONS = 'engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin';

/**
 * One row per refresh attempt (online, batch, manual), newest last, trimmed to a bounded size by the
 * writer (src/alarmbox/refresh-history.ts). No token, code or secret ever goes here: `message` is the
 * redacted Japanese message of a failure. The trigger column is `refresh_trigger`, not `trigger`: TRIGGER
 * is a reserved word in MySQL, and operators query this table by hand.
 */
export function createAlarmboxRefreshHistory(dialect: DatabaseDialect): Migration {
  const { id, autoIncrement, time } = TYPES[dialect];
  return {
    async up(db: Kysely<unknown>) {
      const table = db.schema
        .createTable('alarmbox_refresh_history')
        .addColumn('id', id, (col) =>
          autoIncrement ? col.notNull().primaryKey().autoIncrement() : col.notNull().primaryKey(),
        )
        .addColumn('attempted_at', time, (col) => col.notNull())
        .addColumn('refresh_trigger', 'varchar(16)', (col) => col.notNull())
        .addColumn('outcome', 'varchar(64)', (col) => col.notNull())
        .addColumn('duration_ms', 'integer', (col) => col.notNull())
        .addColumn('message', 'varchar(1024)');
      await (dialect === 'mysql' ? table.modifyEnd(kysely().sql.raw(MYSQL_TABLE_OPTIONS)) : table).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alarmbox_refresh_history').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { kysely } from '../kysely-runtime.ts';
import type { DatabaseDialect } from '../url.ts';

// Frozen with this released migration. SQLite enforces no varchar length: nothing to change there.
const WIDE: Readonly<Record<DatabaseDialect, string | undefined>> = {
  sqlite: undefined,
  // mediumtext (16 MiB): text (64 KiB) would not hold the envelope of a 1 MiB token. A text column takes
  // a default only as an expression (MySQL 8.0.13+, MariaDB 10.2+).
  mysql: `ALTER TABLE hansha_alarmbox_tokens
        MODIFY access_token mediumtext NOT NULL DEFAULT (''),
        MODIFY refresh_token mediumtext NOT NULL DEFAULT (''),
        MODIFY scope text NULL`,
  postgres: `ALTER TABLE hansha_alarmbox_tokens
      ALTER COLUMN access_token TYPE text,
      ALTER COLUMN refresh_token TYPE text,
      ALTER COLUMN scope TYPE text`,
};
/** `down`: back to the guide's varchar(512). */
const GUIDE: Readonly<Record<DatabaseDialect, string | undefined>> = {
  sqlite: undefined,
  mysql: `ALTER TABLE hansha_alarmbox_tokens
        MODIFY access_token varchar(512) NOT NULL DEFAULT '',
        MODIFY refresh_token varchar(512) NOT NULL DEFAULT '',
        MODIFY scope varchar(512) NULL`,
  postgres: `ALTER TABLE hansha_alarmbox_tokens
      ALTER COLUMN access_token TYPE varchar(512),
      ALTER COLUMN refresh_token TYPE varchar(512),
      ALTER COLUMN scope TYPE varchar(512)`,
};

/**
 * Token columns that hold any token a Doorkeeper server can issue. Doorkeeper's own `token` and
 * `refresh_token` columns are unbounded on PostgreSQL, and custom generators (JWT) issue tokens far longer
 * than the guide's varchar(512): a pair AlarmBox has rotated must never fail to fit. The limit is the
 * response body limit (1 MiB).
 */
export function widenTokenColumns(dialect: DatabaseDialect): Migration {
  return {
    up: async (db: Kysely<unknown>) => {
      await run(db, WIDE[dialect]);
    },
    down: async (db: Kysely<unknown>) => {
      await run(db, GUIDE[dialect]);
    },
  };
}

async function run(db: Kysely<unknown>, statement: string | undefined): Promise<void> {
  if (statement !== undefined) await kysely().sql.raw(statement).execute(db);
}

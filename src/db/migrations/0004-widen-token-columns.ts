import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseDialect } from '../url.ts';

/**
 * Token columns that hold any token a Doorkeeper server can issue. Doorkeeper's own `token` and
 * `refresh_token` columns are unbounded on PostgreSQL, and custom generators (JWT) issue tokens far longer
 * than the guide's varchar(512): a pair AlarmBox has rotated must never fail to fit. The limit is now the
 * response body limit (1 MiB). SQLite does not enforce a varchar length, so it needs no change.
 */
export function widenTokenColumns(dialect: DatabaseDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect === 'postgres') {
        await sql`ALTER TABLE hansha_alarmbox_tokens
          ALTER COLUMN access_token TYPE text,
          ALTER COLUMN refresh_token TYPE text,
          ALTER COLUMN scope TYPE text`.execute(db);
      } else if (dialect === 'mysql') {
        // mediumtext (16 MiB): text (64 KiB) would not hold the envelope of a 1 MiB token. A text column takes
        // a default only as an expression (MySQL 8.0.13+, MariaDB 10.2+).
        await sql`ALTER TABLE hansha_alarmbox_tokens
          MODIFY access_token mediumtext NOT NULL DEFAULT (''),
          MODIFY refresh_token mediumtext NOT NULL DEFAULT (''),
          MODIFY scope text NULL`.execute(db);
      }
    },
    async down(db: Kysely<unknown>) {
      if (dialect === 'postgres') {
        await sql`ALTER TABLE hansha_alarmbox_tokens
          ALTER COLUMN access_token TYPE varchar(512),
          ALTER COLUMN refresh_token TYPE varchar(512),
          ALTER COLUMN scope TYPE varchar(512)`.execute(db);
      } else if (dialect === 'mysql') {
        await sql`ALTER TABLE hansha_alarmbox_tokens
          MODIFY access_token varchar(512) NOT NULL DEFAULT '',
          MODIFY refresh_token varchar(512) NOT NULL DEFAULT '',
          MODIFY scope varchar(512) NULL`.execute(db);
      }
    },
  };
}

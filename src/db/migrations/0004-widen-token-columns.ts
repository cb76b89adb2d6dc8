import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DatabaseAdapter } from '../dialects/adapter.ts';

/**
 * Token columns that hold any token a Doorkeeper server can issue. Doorkeeper's own `token` and
 * `refresh_token` columns are unbounded on PostgreSQL, and custom generators (JWT) issue tokens far longer
 * than the guide's varchar(512): a pair AlarmBox has rotated must never fail to fit. The limit is the
 * response body limit (1 MiB).
 */
export function widenTokenColumns(adapter: DatabaseAdapter): Migration {
  return {
    up: (db: Kysely<unknown>) => adapter.resizeTokenColumns(db, 'wide'),
    down: (db: Kysely<unknown>) => adapter.resizeTokenColumns(db, 'guide'),
  };
}

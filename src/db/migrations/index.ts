import type { Migration } from 'kysely/migration';
import type { DatabaseDialect } from '../url.ts';
import { createAlarmboxTokens } from './0001-create-alarmbox-tokens.ts';
import { createAlarmboxLocks } from './0002-create-alarmbox-locks.ts';
import { createAlarmboxRefreshHistory } from './0003-create-alarmbox-refresh-history.ts';
import { widenTokenColumns } from './0004-widen-token-columns.ts';

/**
 * Every migration of this package on `dialect`, by name (Kysely runs them in name order). A static list rather
 * than a FileMigrationProvider so it works from any install path. Each migration writes out its own DDL for
 * every database, so nothing outside it can change what a released migration does. Never rename or edit a
 * released migration: add a new one.
 */
export function migrations(dialect: DatabaseDialect): Record<string, Migration> {
  return {
    '0001-create-alarmbox-tokens': createAlarmboxTokens(dialect),
    '0002-create-alarmbox-locks': createAlarmboxLocks(dialect),
    '0003-create-alarmbox-refresh-history': createAlarmboxRefreshHistory(dialect),
    '0004-widen-token-columns': widenTokenColumns(dialect),
  };
}

import type { Migration } from 'kysely/migration';
import type { DatabaseAdapter } from '../dialects/adapter.ts';
import { createAlarmboxTokens } from './0001-create-alarmbox-tokens.ts';
import { createAlarmboxLocks } from './0002-create-alarmbox-locks.ts';
import { createAlarmboxRefreshHistory } from './0003-create-alarmbox-refresh-history.ts';
import { widenTokenColumns } from './0004-widen-token-columns.ts';

/**
 * Every migration of this package, by name (Kysely runs them in name order). A static list rather than a
 * FileMigrationProvider so it works from any install path. Never rename or edit a released migration:
 * add a new one.
 */
export function migrations(adapter: DatabaseAdapter): Record<string, Migration> {
  return {
    '0001-create-alarmbox-tokens': createAlarmboxTokens(adapter),
    '0002-create-alarmbox-locks': createAlarmboxLocks(adapter),
    '0003-create-alarmbox-refresh-history': createAlarmboxRefreshHistory(adapter),
    '0004-widen-token-columns': widenTokenColumns(adapter),
  };
}

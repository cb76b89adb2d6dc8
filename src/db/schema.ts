import type { ColumnType, Generated } from 'kysely';

/**
 * A time column as the drivers hand it over: a `Date` on MySQL and PostgreSQL, ISO-8601 text
 * (`2026-11-25T08:50:00.000Z`) on SQLite. Write with `toDbTime(dialect, date)`, read with `fromDbTime(value)`
 * (`./time.ts`): both always mean UTC.
 */
export type DbTime = Date | string;

/**
 * The guide's `hansha_alarmbox_tokens`: exactly one row, `id = 1`. Token columns hold encrypted envelopes
 * (empty string = not registered); `version` is the compare-and-set counter of a refresh.
 */
export interface AlarmboxTokensTable {
  id: number;
  access_token: Generated<string>;
  refresh_token: Generated<string>;
  expired_at: ColumnType<DbTime | null, DbTime | null | undefined, DbTime | null>;
  updated_at: ColumnType<DbTime, DbTime, DbTime>;
  /** bigint in SQL, a JS number here (far below 2^53). */
  version: Generated<number>;
  scope: ColumnType<string | null, string | null | undefined, string | null>;
  last_refresh_at: ColumnType<DbTime | null, DbTime | null | undefined, DbTime | null>;
  /** e.g. 'ok', 'reauthorization_required' (a FailureReason). */
  last_refresh_outcome: ColumnType<string | null, string | null | undefined, string | null>;
  /** A redacted Japanese message, never a token. */
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Leases of `LockManager`: one row per held lock name. Times are epoch milliseconds on the database's clock. */
export interface AlarmboxLocksTable {
  name: string;
  owner: string;
  expires_at_ms: number;
  acquired_at_ms: number;
}

/** One row per refresh attempt, trimmed to a bounded size (src/alarmbox/refresh-history.ts). No secrets. */
export interface AlarmboxRefreshHistoryTable {
  id: Generated<number>;
  attempted_at: DbTime;
  /** 'online' | 'batch' | 'manual' */
  refresh_trigger: string;
  /** 'ok', 'skipped' or a FailureReason. */
  outcome: string;
  duration_ms: number;
  /** The redacted Japanese message of a failure. */
  message: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AlarmboxSchema {
  hansha_alarmbox_tokens: AlarmboxTokensTable;
  alarmbox_locks: AlarmboxLocksTable;
  alarmbox_refresh_history: AlarmboxRefreshHistoryTable;
}

export const TOKENS_TABLE = 'hansha_alarmbox_tokens';
export const LOCKS_TABLE = 'alarmbox_locks';
export const REFRESH_HISTORY_TABLE = 'alarmbox_refresh_history';

/**
 * The sizes (characters) of the text columns that are not tokens, as the migrations create them (0001 and
 * 0003): what is written there is cut to fit, so that a long or odd value never fails the write of a pair.
 */
export const TEXT_COLUMN_SIZES = {
  scope: 512,
  lastRefreshOutcome: 64,
  lastError: 1024,
  historyOutcome: 64,
  historyMessage: 1024,
} as const;

import { DEFAULT_DB_CONNECT_TIMEOUT_MS, DEFAULT_DB_QUERY_TIMEOUT_MS } from '../db/connection.ts';
import { type Env, nonBlank } from './environment.ts';
import { ConfigError } from './errors.ts';

/** How long the toolkit waits for MySQL / PostgreSQL (SQLite is a local file and has its busy timeout). */
export interface DatabaseTimeouts {
  /** `ALARMBOX_DB_CONNECT_TIMEOUT_MS`: opening one connection, handshake included. */
  readonly connectTimeoutMs: number;
  /** `ALARMBOX_DB_QUERY_TIMEOUT_MS`: one query, from sending it to its answer. */
  readonly queryTimeoutMs: number;
}

/** Below this a healthy but busy server fails needlessly; above it a hung command looks dead anyway. */
const MIN_MS = 100;
const MAX_MS = 600_000;

/** The timeouts from `options` (createAlarmbox's `databaseTimeouts`), else the environment, else the defaults. */
export function parseDatabaseTimeouts(env: Env, options: Partial<DatabaseTimeouts> = {}): DatabaseTimeouts {
  const timeout = (key: keyof DatabaseTimeouts, variable: string, fallback: number): number => {
    const ms = options[key];
    return ms === undefined
      ? parseMs(env, variable, fallback)
      : checkMs(ms, `databaseTimeouts.${key}`, fallback);
  };
  return {
    connectTimeoutMs: timeout(
      'connectTimeoutMs',
      'ALARMBOX_DB_CONNECT_TIMEOUT_MS',
      DEFAULT_DB_CONNECT_TIMEOUT_MS,
    ),
    queryTimeoutMs: timeout('queryTimeoutMs', 'ALARMBOX_DB_QUERY_TIMEOUT_MS', DEFAULT_DB_QUERY_TIMEOUT_MS),
  };
}

function checkMs(ms: number, option: string, fallback: number): number {
  if (Number.isInteger(ms) && ms >= MIN_MS && ms <= MAX_MS) return ms;
  throw new ConfigError(
    option,
    `createAlarmbox の ${option} は ${MIN_MS} から ${MAX_MS} までの整数 (ミリ秒) で指定してください (例: ${fallback})。`,
  );
}

function parseMs(env: Env, variable: string, fallback: number): number {
  const value = nonBlank(env[variable]);
  if (value === undefined) return fallback;
  const ms = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(ms >= MIN_MS && ms <= MAX_MS)) {
    throw new ConfigError(
      variable,
      `${variable} は ${MIN_MS} から ${MAX_MS} までの整数 (ミリ秒) で指定してください (例: ${variable}=${fallback})。`,
    );
  }
  return ms;
}

// How a job execution runs: retries, backoff, time budget, log format. From command-line options first,
// then the environment (ALARMBOX_JOB_RETRIES, ALARMBOX_JOB_RETRY_DELAY, ALARMBOX_JOB_TIMEOUT,
// ALARMBOX_LOG_FORMAT), then the defaults below.
import { ConfigError } from '../../config/errors.ts';
import { parseDuration } from './duration.ts';
import { type LogFormat, parseLogFormat } from './logger.ts';

export const JOB_DEFAULTS = {
  /** Two more attempts after the first for temporary failures: a passing 502 never pages anyone. */
  retries: 2,
  retryDelayMs: 5_000,
  /** The time budget of one execution; deploy manifests give the platform a little more than this. */
  budgetMs: 5 * 60_000,
} as const;
const MAX_RETRIES = 10;

/** How one execution retries: what the runner, the worker and the deploy manifest take. */
export interface JobRetrySettings {
  /** Extra attempts after the first for temporary failures (network, 5xx, timeouts, lock waits). */
  readonly retries: number;
  /** The first pause's ceiling before a retry; each next one doubles (capped at 60 s), jittered (src/backoff.ts). */
  readonly retryDelayMs: number;
  /** No retry starts once this much time has passed since the run began. */
  readonly budgetMs: number;
}

export interface JobRunSettings extends JobRetrySettings {
  readonly logFormat: LogFormat;
}

export interface RawJobRunSettings {
  readonly retries?: string | undefined;
  readonly retryDelay?: string | undefined;
  readonly timeout?: string | undefined;
  readonly logFormat?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export function resolveJobRunSettings(
  raw: RawJobRunSettings,
  defaultLogFormat: LogFormat,
  env: Env = process.env,
): JobRunSettings {
  const pick = (option: string, value: string | undefined, variable: string) => {
    if (value !== undefined) return { value, source: option };
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv.trim() === '' ? undefined : { value: fromEnv, source: variable };
  };
  const retries = pick('--retries', raw.retries, 'ALARMBOX_JOB_RETRIES');
  const retryDelay = pick('--retry-delay', raw.retryDelay, 'ALARMBOX_JOB_RETRY_DELAY');
  const timeout = pick('--timeout', raw.timeout, 'ALARMBOX_JOB_TIMEOUT');
  const logFormat = pick('--log-format', raw.logFormat, 'ALARMBOX_LOG_FORMAT');
  const budgetMs =
    timeout === undefined ? JOB_DEFAULTS.budgetMs : parseDuration(timeout.value, timeout.source, '5m');
  if (budgetMs <= 0) {
    throw new ConfigError(
      timeout?.source ?? '--timeout',
      `${timeout?.source} には 0 より長い時間を指定してください (例: 5m)。`,
    );
  }
  return {
    retries: retries === undefined ? JOB_DEFAULTS.retries : parseRetries(retries.value, retries.source),
    retryDelayMs:
      retryDelay === undefined
        ? JOB_DEFAULTS.retryDelayMs
        : parseDuration(retryDelay.value, retryDelay.source, '5s'),
    budgetMs,
    logFormat: logFormat === undefined ? defaultLogFormat : parseLogFormat(logFormat.value, logFormat.source),
  };
}

/**
 * The per-tick idempotency window: `--skip-if-fresh` when given; else half a schedule's period (a second worker
 * whose tick starts after the first finished sees the work as done); else 0 (always run).
 */
export function resolveFreshWindowMs(option: string | undefined, periodMs?: number): number {
  if (option !== undefined) return parseDuration(option, '--skip-if-fresh', '6h');
  return periodMs === undefined ? 0 : Math.floor(periodMs / 2);
}

function parseRetries(value: string, source: string): number {
  const v = value.trim();
  if (!/^\d{1,2}$/.test(v) || Number(v) > MAX_RETRIES) {
    throw new ConfigError(
      source,
      `${source} "${v.slice(0, 16)}" は 0〜${MAX_RETRIES} の整数で指定してください (例: ${source} 2、再試行しないなら 0)。`,
    );
  }
  return Number(v);
}

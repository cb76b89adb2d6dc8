// Health for probes: what row 1 and the refresh history say about the token, read within a time bound.
// Never calls AlarmBox, never refreshes, never throws for an unhealthy state, never holds a token in the result.
// It imports nothing that the library's first read does not load anyway (no Kysely: assertMigrated opens it only
// when called), so being in the entry chunk costs the cold start only its own few kilobytes.
import type { DatabaseHandle } from '../db/connection.ts';
import { assertDatabaseExists } from '../db/dialects/index.ts';
import { assertMigrated } from '../db/migrate.ts';
import { AlarmboxError } from '../errors.ts';
import { FAILURE_REASONS, type FailureReason, isFailureReason } from '../failure-reason.ts';
import { waitAtMost } from '../wait-at-most.ts';
import { REAUTHORIZE_STEPS, tokenNotFoundMessage } from './errors.ts';
import { isExpiring } from './expiry.ts';
import type { RefreshHistory, RefreshHistorySummary } from './refresh-history.ts';
import type { AlarmboxToken, AlarmboxTokenStore } from './token-store.ts';

/** health()'s default time bound: well inside a probe's usual timeout (Kubernetes 1 s is too short; say 5 s). */
const DEFAULT_HEALTH_TIMEOUT_MS = 3_000;

/**
 * The overall answer of `Alarmbox.health()`.
 *
 * - `ok`: the app can get a valid access token now, and nothing needs attention.
 * - `degraded`: it can still get one (the token is valid, or refreshable), but something needs attention: the
 *   last refresh failed, the chain is dead while the access token still lives, the token has expired.
 * - `down`: it cannot get one now: the database does not answer, no token is registered, or the token has
 *   expired and the last refresh failed.
 */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/** One check's verdict: `warn` makes the whole `degraded` at worst, `fail` may make it `down`. */
export type HealthCheckStatus = 'pass' | 'warn' | 'fail';

/** One check of {@link AlarmboxHealth.checks}. */
export interface HealthCheck<State extends string> {
  readonly status: HealthCheckStatus;
  /** What was found, as a stable word for monitoring. */
  readonly state: State;
  /** The failure behind a `warn` / `fail`, when one is known. */
  readonly reason: FailureReason | null;
  /** For `warn` / `fail`: what is wrong and how to fix it, in Japanese (no token, no secret). Else null. */
  readonly message: string | null;
}

/** The checks of {@link AlarmboxHealth}. */
export interface HealthChecks {
  /**
   * Row 1 and the refresh history read within the time bound: `reachable`, `timeout`, `failed` (an error, e.g.
   * connection refused, migrations pending), `closed` (after `Alarmbox.close()`).
   */
  readonly database: HealthCheck<'reachable' | 'timeout' | 'failed' | 'closed'>;
  /** A token pair is stored (`unknown` when the database could not be read). */
  readonly registration: HealthCheck<'registered' | 'not_registered' | 'unknown'>;
  /**
   * The stored access token: `valid`, `expiring` (within the refresh margin: the next read refreshes it), `expired`
   * (or an unknown expiry), `unknown` (nothing could be read or nothing is registered).
   */
  readonly accessToken: HealthCheck<'valid' | 'expiring' | 'expired' | 'unknown'>;
  /** The last refresh attempt stored in row 1: `ok`, `none` (never refreshed yet), `failed`, `unknown`. */
  readonly lastRefresh: HealthCheck<'ok' | 'none' | 'failed' | 'unknown'>;
}

/** What `Alarmbox.health()` returns: plain JSON values, no token and no secret. */
export interface AlarmboxHealth {
  readonly status: HealthStatus;
  /** `status !== 'down'`: the answer for a readiness probe (docs/design.md「ヘルスチェックの ready」). */
  readonly ready: boolean;
  /**
   * The failure that decides what to do, or null: the database's error, `not_registered`, the last refresh's
   * reason when it needs a person (`reauthorization_required`, `client_configuration`, ...) or when the token has
   * expired. `alarmbox status` exits with its code ({@link FAILURE_REASONS}), 0 for null.
   */
  readonly reason: FailureReason | null;
  /** When the check started (ISO 8601). */
  readonly checkedAt: string;
  /** How long the check took, in milliseconds. */
  readonly durationMs: number;
  /** The stored access token's expiry (ISO 8601), null when unknown. */
  readonly expiredAt: string | null;
  /** Whole seconds until that expiry (negative once expired), null when unknown. */
  readonly secondsRemaining: number | null;
  /** When the last refresh was attempted (ISO 8601), null when never or unknown. */
  readonly lastRefreshAt: string | null;
  /** `ok` or the {@link FailureReason} of the last refresh attempt; null when never or unknown. */
  readonly lastRefreshOutcome: string | null;
  /** Failed refresh attempts since the last successful one (the refresh history), null when unknown. */
  readonly consecutiveFailures: number | null;
  readonly checks: HealthChecks;
}

/** Options of `Alarmbox.health()`. */
export interface HealthOptions {
  /**
   * The most the check may take, in milliseconds (default 3000, 100 to 60000). A
   * database that does not answer by then gives `down` with the database check at `timeout`.
   */
  readonly timeoutMs?: number;
}

/** What the check reads from an instance. */
export interface HealthSources {
  readonly store: AlarmboxTokenStore;
  readonly history: RefreshHistory;
  readonly database: DatabaseHandle;
  readonly closed: () => boolean;
}

interface Snapshot {
  readonly token: AlarmboxToken;
  readonly history: RefreshHistorySummary;
}

/** One read at a time per instance: probes that come faster than a hung database answers share it. */
const pending = new WeakMap<HealthSources['store'], Promise<Snapshot>>();

const REAUTHORIZE = `${REAUTHORIZE_STEPS} (docs/operations.md「再認可の手順」)。`;

/** Checks the stored token within `timeoutMs`; resolves, never rejects, for any state of the database. */
export async function checkHealth(
  sources: HealthSources,
  options: HealthOptions = {},
): Promise<AlarmboxHealth> {
  return (await inspectHealth(sources, options)).health;
}

/** {@link checkHealth} plus the error that made the database check fail (`alarmbox status` reports it). */
export async function inspectHealth(
  sources: HealthSources,
  options: HealthOptions = {},
): Promise<{ readonly health: AlarmboxHealth; readonly error?: unknown }> {
  const timeoutMs = healthTimeoutMs(options.timeoutMs);
  const checkedAt = new Date();
  const started = performance.now();
  const finish = (parts: HealthParts): AlarmboxHealth => ({
    status: parts.status,
    ready: parts.status !== 'down',
    reason: parts.reason,
    checkedAt: checkedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    expiredAt: parts.expiredAt,
    secondsRemaining: parts.secondsRemaining,
    lastRefreshAt: parts.lastRefreshAt,
    lastRefreshOutcome: parts.lastRefreshOutcome,
    consecutiveFailures: parts.consecutiveFailures,
    checks: parts.checks,
  });
  if (sources.closed()) {
    const message = 'close() の後です (終了処理中)。新しい要求は別のインスタンスに送ってください。';
    return { health: finish(unreadable('closed', 'temporary', message)) };
  }
  const read = await waitAtMost(
    snapshotOf(sources).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    timeoutMs,
  );
  if (read === undefined) {
    const message =
      `データベースが時間内に応答しませんでした (${timeoutMs} ms 以内に行 1 を読めませんでした)。` +
      'データベースが動いているか、DATABASE_URL の接続先とネットワークを確認してください。';
    return {
      health: finish(unreadable('timeout', 'temporary', message)),
      error: new AlarmboxError(message, { reason: 'temporary' }),
    };
  }
  if ('error' in read.value) {
    const { error } = read.value;
    if (error instanceof AlarmboxError) {
      return { health: finish(unreadable('failed', error.reason, error.message)), error };
    }
    const name = error instanceof Error ? error.name : typeof error;
    const message = `データベースを読めませんでした (${name})。alarmbox doctor で接続を確認してください。`;
    return { health: finish(unreadable('failed', 'unexpected', message)), error };
  }
  return { health: finish(judge(read.value.value, checkedAt, sources.store.describeDatabase())) };
}

/** A health answer before anything could be read (`alarmbox status --json` with a configuration error). */
export function unreadableHealth(reason: FailureReason, message: string): AlarmboxHealth {
  return {
    ...unreadable('failed', reason, message),
    ready: false,
    checkedAt: new Date().toISOString(),
    durationMs: 0,
  };
}

type HealthParts = Omit<AlarmboxHealth, 'checkedAt' | 'durationMs' | 'ready'>;

function healthTimeoutMs(value: number | undefined): number {
  if (value === undefined) return DEFAULT_HEALTH_TIMEOUT_MS;
  if (Number.isInteger(value) && value >= 100 && value <= 60_000) return value;
  // A programmer's mistake in the call, not an unhealthy state: the one thing health() throws for.
  throw new AlarmboxError(
    `health() の timeoutMs は 100 から 60000 までの整数 (ミリ秒) で指定してください (例: { timeoutMs: ${DEFAULT_HEALTH_TIMEOUT_MS} })。`,
    { reason: 'usage' },
  );
}

function snapshotOf(sources: HealthSources): Promise<Snapshot> {
  const shared = pending.get(sources.store);
  if (shared !== undefined) return shared;
  const read = (async () => {
    assertDatabaseExists(sources.database.target);
    await assertMigrated(sources.database);
    const token = await sources.store.getInstance();
    return { token, history: await sources.history.summary(0) };
  })();
  pending.set(sources.store, read);
  // The read may outlive the bound (the pool's own timeouts end it): it must never become an unhandled rejection.
  void read.then(
    () => pending.delete(sources.store),
    () => pending.delete(sources.store),
  );
  return read;
}

const UNKNOWN = { status: 'fail', reason: null, message: null } as const;

function unreadable(
  state: 'timeout' | 'failed' | 'closed',
  reason: FailureReason,
  message: string,
): HealthParts {
  return {
    status: 'down',
    reason,
    expiredAt: null,
    secondsRemaining: null,
    lastRefreshAt: null,
    lastRefreshOutcome: null,
    consecutiveFailures: null,
    checks: {
      database: { status: 'fail', state, reason, message },
      registration: { ...UNKNOWN, state: 'unknown' },
      accessToken: { ...UNKNOWN, state: 'unknown' },
      lastRefresh: { ...UNKNOWN, state: 'unknown' },
    },
  };
}

const PASS = { status: 'pass', reason: null, message: null } as const;

/** The verdict on a readable row 1 (docs/design.md「ヘルスチェックの ready」). */
function judge({ token, history }: Snapshot, now: Date, database: string): HealthParts {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  const common = {
    expiredAt: iso(token.expiredAt),
    secondsRemaining:
      token.expiredAt === null ? null : Math.floor((token.expiredAt.getTime() - now.getTime()) / 1000),
    lastRefreshAt: iso(token.lastRefreshAt),
    lastRefreshOutcome: token.lastRefreshOutcome,
    consecutiveFailures: history.consecutiveFailures,
  };
  const reachable = { ...PASS, state: 'reachable' } as const;
  if (!token.isRegistered) {
    // The same words as AlarmboxTokenNotFoundError: the database looked in and where its setting came from.
    const message = tokenNotFoundMessage(database);
    return {
      ...common,
      status: 'down',
      reason: 'not_registered',
      checks: {
        database: reachable,
        registration: { status: 'fail', state: 'not_registered', reason: 'not_registered', message },
        accessToken: { ...UNKNOWN, state: 'unknown' },
        lastRefresh: lastRefreshCheck(token),
      },
    };
  }
  const expired = token.expiredAt === null || token.expiredAt.getTime() <= now.getTime();
  const lastRefresh = lastRefreshCheck(token);
  const failed = lastRefresh.reason;
  // A failure that needs a person decides at once; a temporary one only when no valid token is left.
  const needsPerson = failed !== null && !temporaryOutcome(failed);
  const reason = needsPerson || (expired && failed !== null) ? failed : null;
  const status: HealthStatus =
    expired && failed !== null ? 'down' : failed !== null || expired ? 'degraded' : 'ok';
  return {
    ...common,
    status,
    reason,
    checks: {
      database: reachable,
      registration: { ...PASS, state: 'registered' },
      accessToken: accessTokenCheck(token, now, expired),
      lastRefresh,
    },
  };
}

/** Failures that a later attempt can clear without a person (an unknown one is given that chance too). */
function temporaryOutcome(reason: FailureReason): boolean {
  return FAILURE_REASONS[reason].temporary || reason === 'unexpected';
}

function accessTokenCheck(token: AlarmboxToken, now: Date, expired: boolean): HealthChecks['accessToken'] {
  if (expired) {
    return {
      status: 'warn',
      state: 'expired',
      reason: null,
      message:
        token.expiredAt === null
          ? 'アクセストークンの有効期限が読めません。次の getValidAccessToken() (または alarmbox refresh-token) で更新し、正しい期限を保存します。'
          : 'アクセストークンの有効期限が切れています。次の getValidAccessToken() で更新します。定期更新ジョブ (refresh-token) が動いているか確認してください。',
    };
  }
  return { ...PASS, state: isExpiring(token.expiredAt, token.updatedAt, now) ? 'expiring' : 'valid' };
}

function lastRefreshCheck(token: AlarmboxToken): HealthChecks['lastRefresh'] {
  const outcome = token.lastRefreshOutcome;
  if (outcome === null) return { ...PASS, state: 'none' };
  if (outcome === 'ok') return { ...PASS, state: 'ok' };
  // A stored outcome that is not one of ours (a hand edit) is named for what it is: unknown.
  const reason: FailureReason = isFailureReason(outcome) ? outcome : 'unexpected';
  const info = FAILURE_REASONS[reason];
  const fix = info.reauthorizationRequired
    ? `リフレッシュトークンが失効しています。アクセストークンの期限が切れる前に再認可してください。${REAUTHORIZE}`
    : info.temporary
      ? '次の更新で回復することが多いですが、続くなら alarmbox doctor で原因を確認してください。'
      : `人が直すまで更新は成功しません。対処は docs/operations.md「失敗の理由と対処」を参照してください。`;
  return {
    status: temporaryOutcome(reason) ? 'warn' : 'fail',
    state: 'failed',
    reason,
    message: `最後の更新が失敗しました (${reason}: ${info.label})。${fix}`,
  };
}

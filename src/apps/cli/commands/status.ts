import type { Command } from 'commander';
import { type AlarmboxHealth, inspectHealth, unreadableHealth } from '../../../alarmbox/health.ts';
import type { RefreshHistorySummary } from '../../../alarmbox/refresh-history.ts';
import type { AlarmboxToken } from '../../../alarmbox/token-store.ts';
import { parseDatabaseTimeouts } from '../../../config/database-timeouts.ts';
import { createToolkit, type Toolkit } from '../../../create.ts';
import { type ConnectedServer, describeConnectedServer } from '../../../db/connected-server.ts';
import { describeTarget } from '../../../db/url.ts';
import { AlarmboxError } from '../../../errors.ts';
import { ExitCode, exitCodeFor } from '../../../exit-codes.ts';
import { UsageError } from '../command-error.ts';
import { formatRemaining, formatTime, say, sayJson } from '../output.ts';

/**
 * What `status --json` prints: no token, no secret, stable keys for monitoring. Every key is present in every
 * case; what could not be read (the database did not answer, the configuration is wrong) is null.
 */
export interface StatusReport {
  readonly registered: boolean | null;
  readonly expiredAt: string | null;
  readonly secondsRemaining: number | null;
  readonly updatedAt: string | null;
  readonly scope: string | null;
  readonly lastRefreshAt: string | null;
  readonly lastRefreshOutcome: string | null;
  readonly lastError: string | null;
  readonly env: string | null;
  readonly baseUrl: string | null;
  readonly database: string | null;
  /**
   * The server this run actually talked to (MySQL / PostgreSQL; null on SQLite): host and port as the driver
   * used them, the socket's peer address, the database, and TLS (protocol, and whether the certificate was
   * verified: `full`, `ca` or `none`; null for plaintext).
   */
  readonly databaseServer: ConnectedServer | null;
  /** Failed refresh attempts since the last successful one (any trigger). Alert when it grows. */
  readonly consecutiveFailures: number | null;
  /** The last successful refresh of the scheduled job; alert when older than the schedule's period. */
  readonly lastBatchSuccessAt: string | null;
  /** The newest refresh attempts, newest first (`--history N`). */
  readonly history: readonly {
    readonly attemptedAt: string;
    readonly trigger: string;
    readonly outcome: string;
    readonly durationMs: number;
    readonly message: string | null;
  }[];
  /** `alarmbox.health()`'s answer: the probe's view (docs/operations.md「プローブ」). */
  readonly health: AlarmboxHealth;
  /** The exit code of this run: 0, 3 (not registered), 4 (re-authorization), 5 (temporary), 2, 1. */
  readonly exitCode: number;
}

type Context = Pick<StatusReport, 'env' | 'baseUrl' | 'database' | 'databaseServer'>;

function report(
  token: AlarmboxToken,
  context: Context,
  history: RefreshHistorySummary,
  health: AlarmboxHealth,
): StatusReport {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    registered: token.isRegistered,
    expiredAt: iso(token.expiredAt),
    secondsRemaining:
      token.expiredAt === null ? null : Math.floor((token.expiredAt.getTime() - Date.now()) / 1000),
    updatedAt: iso(token.updatedAt),
    scope: token.scope,
    lastRefreshAt: iso(token.lastRefreshAt),
    lastRefreshOutcome: token.lastRefreshOutcome,
    lastError: token.lastError,
    ...context,
    consecutiveFailures: history.consecutiveFailures,
    lastBatchSuccessAt: iso(history.lastBatchSuccessAt),
    history: history.recent.map((e) => ({
      attemptedAt: e.attemptedAt.toISOString(),
      trigger: e.trigger,
      outcome: e.outcome,
      durationMs: e.durationMs,
      message: e.message,
    })),
    health,
    exitCode: exitCodeOf(health),
  };
}

/** The same keys when nothing could be read: the probe still gets JSON to parse. */
function unreadReport(context: Context, health: AlarmboxHealth): StatusReport {
  return {
    registered: null,
    expiredAt: null,
    secondsRemaining: null,
    updatedAt: null,
    scope: null,
    lastRefreshAt: null,
    lastRefreshOutcome: null,
    lastError: null,
    ...context,
    consecutiveFailures: null,
    lastBatchSuccessAt: null,
    history: [],
    health,
    exitCode: exitCodeOf(health),
  };
}

/** 0 unless the health names a reason: then that reason's code (3 not registered, 4 re-authorize, 5 temporary). */
function exitCodeOf(health: AlarmboxHealth): number {
  return health.reason === null ? ExitCode.ok : exitCodeFor(health.reason);
}

const TRIGGER_LABELS: Record<string, string> = { online: 'アプリ', batch: '定期', manual: '手動' };
const STATUS_LABELS: Record<AlarmboxHealth['status'], string> = {
  ok: '正常',
  degraded: '要注意 (トークンはまだ使えます)',
  down: '停止 (有効なトークンを得られません)',
};

interface StatusCliOptions {
  readonly json?: boolean;
  readonly history: string;
  readonly timeout: string;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('トークンの登録状況・有効期限・最後の更新結果を表示します (トークンそのものは表示しません)')
    .option('--json', '監視用に JSON で出力します (失敗したときも stdout に JSON を出します)')
    .option('--history <n>', '表示する更新履歴の件数 (既定: 5、0 で表示しない)', '5')
    .option(
      '--timeout <duration>',
      'データベースの読み取りを待つ上限。この回の接続・クエリの上限もこれ以下にします (既定: 3s)',
      '3s',
    )
    .addHelpText(
      'after',
      [
        '',
        '終了コード (プローブ・監視用): 0 使える状態 / 3 トークン未登録 / 4 再認可が必要 (最後の更新が reauthorization_required)',
        '  / 5 一時的 (データベースが応答しない、期限切れで最後の更新も一時的な失敗) / 2 設定の誤り / 1 予期しないエラー',
        '  AlarmBox には問い合わせず、トークンの更新もしません。詳しくは docs/operations.md「プローブ」',
      ].join('\n'),
    )
    .action(status);
}

async function status(opts: StatusCliOptions): Promise<void> {
  if (!/^\d{1,3}$/.test(opts.history)) {
    throw new UsageError(
      `--history には 0〜999 の整数を指定してください (例: --history 10)。指定値: ${opts.history.slice(0, 16)}`,
    );
  }
  const timeoutMs = parseTimeout(opts.timeout);
  if (!(timeoutMs >= 100 && timeoutMs <= 60_000)) {
    throw new UsageError(
      `--timeout は 100ms から 60s までで指定してください (例: --timeout 3s)。指定値: ${opts.timeout.slice(0, 16)}`,
    );
  }
  let alarmbox: Toolkit;
  try {
    // The run's own connection and queries end within --timeout too (the stricter of it and the configured
    // limits): a probe's process must exit soon after its answer, not when a hung connect attempt gives up.
    const configured = parseDatabaseTimeouts(process.env);
    alarmbox = createToolkit({
      databaseTimeouts: {
        connectTimeoutMs: Math.min(configured.connectTimeoutMs, timeoutMs),
        queryTimeoutMs: Math.min(configured.queryTimeoutMs, timeoutMs),
      },
    });
  } catch (error) {
    // A configuration error: the JSON still says so (every key null), then the usual message and exit 2.
    if (opts.json === true && error instanceof AlarmboxError) {
      const health = unreadableHealth(error.reason, error.message);
      sayJson(unreadReport({ env: null, baseUrl: null, database: null, databaseServer: null }, health));
    }
    throw error;
  }
  try {
    await show(alarmbox, opts, timeoutMs);
  } finally {
    await alarmbox.close();
  }
}

/** `3s`, `1500ms`, or bare seconds (the jobs' duration parser stays out of this command's start-up). */
function parseTimeout(value: string): number {
  const match = /^(\d{1,6})(ms|s)?$/.exec(value.trim());
  if (match === null) return Number.NaN;
  return Number(match[1]) * (match[2] === 'ms' ? 1 : 1000);
}

async function show(alarmbox: Toolkit, opts: StatusCliOptions, timeoutMs: number): Promise<void> {
  const { store, config, database, history } = alarmbox;
  const sources = { store, history, database, closed: () => false };
  const { health, error } = await inspectHealth(sources, { timeoutMs });
  const context: Context = {
    env: config.env,
    baseUrl: config.baseUrl,
    database: describeTarget(database.target),
    databaseServer: database.connectedServer() ?? null,
  };
  if (health.checks.database.status !== 'pass') {
    if (opts.json === true) sayJson(unreadReport(context, health));
    // The message (and ALARMBOX_DEBUG's detail) on stderr, the exit code from the reason, as for any command.
    throw (
      error ??
      new AlarmboxError(health.checks.database.message ?? 'データベースを読めませんでした。', {
        reason: health.reason ?? 'unexpected',
      })
    );
  }
  const token = await store.getInstance();
  const r = report(token, context, await history.summary(Number(opts.history)), health);
  if (opts.json === true) sayJson(r);
  else printReport(r, token);
  if (r.exitCode !== ExitCode.ok) process.exitCode = r.exitCode;
}

function printReport(r: StatusReport, token: AlarmboxToken): void {
  say(
    `登録状況:       ${r.registered === true ? '登録済み' : '未登録 (alarmbox save-token で初回設定を行ってください)'}`,
  );
  if (r.registered === true) {
    say(`有効期限:       ${formatTime(token.expiredAt)} ${formatRemaining(token.expiredAt)}`);
    say(`スコープ:       ${r.scope ?? '(不明)'}`);
  }
  say(
    `最後の更新:     ${formatTime(token.lastRefreshAt)}${r.lastRefreshOutcome ? ` [${r.lastRefreshOutcome}]` : ''}`,
  );
  if (r.lastError !== null && r.lastRefreshOutcome !== 'ok') say(`最後のエラー:   ${r.lastError}`);
  // An odd answer that was stored anyway (token-response.ts): kept with outcome ok.
  if (r.lastError !== null && r.lastRefreshOutcome === 'ok') say(`最後の警告:     ${r.lastError}`);
  const failures = r.consecutiveFailures ?? 0;
  say(
    `連続失敗:       ${failures} 回${failures > 0 ? ' (理由ごとの対処は docs/operations.md「失敗の理由と対処」を参照)' : ''}`,
  );
  say(`最後の定期更新: ${formatTime(r.lastBatchSuccessAt === null ? null : new Date(r.lastBatchSuccessAt))}`);
  if (r.history.length > 0) {
    say(`更新履歴 (新しい順、${r.history.length} 件):`);
    for (const e of r.history) {
      say(
        `  ${formatTime(new Date(e.attemptedAt))} ${TRIGGER_LABELS[e.trigger] ?? e.trigger} ${e.outcome} (${e.durationMs} ms)${e.message === null ? '' : ` ${e.message}`}`,
      );
    }
  }
  say(`環境:           ${r.env}`);
  say(`AlarmBox:       ${r.baseUrl}`);
  say(`データベース:   ${r.database}`);
  if (r.databaseServer !== null) say(`接続先:         ${describeConnectedServer(r.databaseServer)}`);
  say(`状態:           ${STATUS_LABELS[r.health.status]}`);
  for (const check of Object.values(r.health.checks)) {
    if (check.message !== null) say(`  ${check.status === 'fail' ? '✗' : '!'} ${check.message}`);
  }
}

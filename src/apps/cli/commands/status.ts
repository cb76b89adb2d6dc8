import type { Command } from 'commander';
import type { RefreshHistorySummary } from '../../../alarmbox/refresh-history.ts';
import type { AlarmboxToken } from '../../../alarmbox/token-store.ts';
import { type ConnectedServer, describeConnectedServer } from '../../../db/connected-server.ts';
import { describeTarget } from '../../../db/url.ts';
import { ExitCode } from '../../../exit-codes.ts';
import { UsageError } from '../command-error.ts';
import { withAlarmbox } from '../context.ts';
import { formatRemaining, formatTime, say } from '../output.ts';

/** What `status --json` prints: no token, no secret, stable keys for monitoring. */
export interface StatusReport {
  readonly registered: boolean;
  readonly expiredAt: string | null;
  readonly secondsRemaining: number | null;
  readonly updatedAt: string | null;
  readonly scope: string | null;
  readonly lastRefreshAt: string | null;
  readonly lastRefreshOutcome: string | null;
  readonly lastError: string | null;
  readonly env: string;
  readonly baseUrl: string;
  readonly database: string;
  /**
   * The server this run actually talked to (MySQL / PostgreSQL; null on SQLite): host and port as the driver
   * used them, the socket's peer address, the database, and TLS (protocol, and whether the certificate was
   * verified: `full`, `ca` or `none`; null for plaintext).
   */
  readonly databaseServer: ConnectedServer | null;
  /** Failed refresh attempts since the last successful one (any trigger). Alert when it grows. */
  readonly consecutiveFailures: number;
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
}

function report(
  token: AlarmboxToken,
  context: Pick<StatusReport, 'env' | 'baseUrl' | 'database' | 'databaseServer'>,
  history: RefreshHistorySummary,
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
  };
}

const TRIGGER_LABELS: Record<string, string> = { online: 'アプリ', batch: '定期', manual: '手動' };

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('トークンの登録状況・有効期限・最後の更新結果を表示します (トークンそのものは表示しません)')
    .option('--json', '監視用に JSON で出力します')
    .option('--history <n>', '表示する更新履歴の件数 (既定: 5、0 で表示しない)', '5')
    .addHelpText('after', '\n終了コード: 0 登録済み / 3 トークン未登録')
    .action(async (opts: { json?: boolean; history: string }) => {
      if (!/^\d{1,3}$/.test(opts.history)) {
        throw new UsageError(
          `--history には 0〜999 の整数を指定してください (例: --history 10)。指定値: ${opts.history.slice(0, 16)}`,
        );
      }
      await withAlarmbox(async ({ store, config, database, history }) => {
        const token = await store.getInstance();
        const r = report(
          token,
          {
            env: config.env,
            baseUrl: config.baseUrl,
            database: describeTarget(database.target),
            databaseServer: database.connectedServer() ?? null,
          },
          await history.summary(Number(opts.history)),
        );
        if (opts.json === true) {
          say(JSON.stringify(r, null, 2));
        } else {
          say(
            `登録状況:       ${r.registered ? '登録済み' : '未登録 (alarmbox save-token で初回設定を行ってください)'}`,
          );
          if (r.registered) {
            say(`有効期限:       ${formatTime(token.expiredAt)} ${formatRemaining(token.expiredAt)}`);
            say(`スコープ:       ${r.scope ?? '(不明)'}`);
          }
          say(
            `最後の更新:     ${formatTime(token.lastRefreshAt)}${r.lastRefreshOutcome ? ` [${r.lastRefreshOutcome}]` : ''}`,
          );
          if (r.lastError !== null && r.lastRefreshOutcome !== 'ok') say(`最後のエラー:   ${r.lastError}`);
          // An odd answer that was stored anyway (token-response.ts): kept with outcome ok.
          if (r.lastError !== null && r.lastRefreshOutcome === 'ok') say(`最後の警告:     ${r.lastError}`);
          say(
            `連続失敗:       ${r.consecutiveFailures} 回${r.consecutiveFailures > 0 ? ' (理由ごとの対処は docs/operations.md「失敗の理由と対処」を参照)' : ''}`,
          );
          say(
            `最後の定期更新: ${formatTime(r.lastBatchSuccessAt === null ? null : new Date(r.lastBatchSuccessAt))}`,
          );
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
        }
        if (!r.registered) process.exitCode = ExitCode.notRegistered;
      });
    });
}

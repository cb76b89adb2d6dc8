import type { Command } from 'commander';
import { messageOf, reasonOf } from '../../../errors.ts';
import { exitCodeFor } from '../../../exit-codes.ts';
import { createJobLogger, type JobLogger } from '../../jobs/logger.ts';
import { type OtlpExport, startOtlpExport } from '../../jobs/otlp-export.ts';
import { REFRESH_TOKEN_JOB_NAME, refreshTokenJob } from '../../jobs/refresh-token-job.ts';
import { actionFor, runJob } from '../../jobs/runner.ts';
import {
  JOB_DEFAULTS,
  type RawJobRunSettings,
  resolveFreshWindowMs,
  resolveJobRunSettings,
} from '../../jobs/settings.ts';
import { withAlarmbox } from '../context.ts';
import { formatTime, note, say } from '../output.ts';
import { holdStopSignals } from '../stop-signal.ts';

interface RefreshTokenCliOptions extends RawJobRunSettings {
  readonly ifExpiring?: boolean;
  readonly skipIfFresh?: string;
}

export function registerRefreshTokenCommand(program: Command): void {
  program
    .command('refresh-token')
    .description('トークンを更新します (定期バッチ用、ガイドの Step 7)。既定では期限に関係なく強制更新します')
    .option('--if-expiring', '期限切れ間近 (5 分前から) の場合だけ更新します')
    .option(
      '--skip-if-fresh <duration>',
      'トークンがこの時間以内に更新済みなら何もしません (スケジューラの重複起動対策。例: 6h。既定: 0 = 常に更新)',
    )
    .option(
      '--retries <n>',
      `一時的な失敗 (ネットワーク・5xx・タイムアウト・ロック待ち) を再試行する回数 (既定: ALARMBOX_JOB_RETRIES、未設定なら ${JOB_DEFAULTS.retries})`,
    )
    .option(
      '--retry-delay <duration>',
      '最初の再試行までの待ち時間の上限 (実際はその半分〜全部)。以後は倍々 (既定: ALARMBOX_JOB_RETRY_DELAY、未設定なら 5s)',
    )
    .option(
      '--timeout <duration>',
      'この時間を過ぎたら再試行を始めません (既定: ALARMBOX_JOB_TIMEOUT、未設定なら 5m)',
    )
    .option(
      '--log-format <format>',
      'text: 人向けの表示 / json: 1 行 1 JSON の構造化ログを標準出力へ (Cloud Logging 用、既定: ALARMBOX_LOG_FORMAT、未設定なら text)',
    )
    .addHelpText(
      'after',
      '\n終了コード: 0 成功 (更新不要も含む) / 2 設定の誤り / 3 トークン未登録 / 4 再認可が必要 / 5 一時的な失敗 (ほかの実行が終わらない場合も含む。後で再実行)' +
        '\nOTEL_EXPORTER_OTLP_ENDPOINT を設定すると、メトリクスとスパンを OTLP/HTTP で送ります。形式の既定は protobuf で、OTEL_EXPORTER_OTLP_PROTOCOL=http/json なら JSON です (docs/operations.md「監視 (OpenTelemetry)」)。',
    )
    .action(refreshToken);
}

async function refreshToken(opts: RefreshTokenCliOptions): Promise<void> {
  const settings = resolveJobRunSettings(opts, 'text');
  const freshWindowMs = resolveFreshWindowMs(opts.skipIfFresh);
  const json = settings.logFormat === 'json';
  // text: stdout keeps the guide's lines; retry notices go to stderr. json: every line is a log entry.
  const logger: JobLogger = json
    ? createJobLogger('json')
    : {
        log: (severity, message) => {
          if (severity === 'WARNING') note(message);
        },
      };
  const stop = new AbortController();
  // The first signal ends the retries; a refresh under way is saved first (stop-signal.ts).
  const release = holdStopSignals(() => stop.abort());
  let exporting: OtlpExport | undefined;
  try {
    // Before the toolkit: its metrics and spans go to the endpoint the OTEL_* variables name, if any.
    exporting = await startOtlpExport();
    await withAlarmbox(async (alarmbox) => {
      if (!json) say('トークンを更新中...');
      const report = await runJob(refreshTokenJob({ ifExpiring: opts.ifExpiring === true }), {
        alarmbox,
        logger,
        retries: settings.retries,
        retryDelayMs: settings.retryDelayMs,
        budgetMs: settings.budgetMs,
        freshWindowMs,
        signal: stop.signal,
      });
      if (json) {
        process.exitCode = report.exitCode;
        return;
      }
      // text: a failure is reported by the CLI's usual `エラー: …` line and exit code.
      if (report.error !== undefined) throw report.error;
      const expiredAt = report.result?.fields?.expiredAt;
      const until = typeof expiredAt === 'string' ? ` (有効期限: ${formatTime(new Date(expiredAt))})` : '';
      say(report.code === 'fresh' ? report.message : `${report.message}${until}`);
    });
  } catch (error) {
    if (!json) throw error;
    // json: a run that could not even start (database, migrations, configuration) is a log entry too.
    const reason = reasonOf(error);
    const detail = messageOf(error);
    logger.log('ERROR', `ジョブ ${REFRESH_TOKEN_JOB_NAME} を開始できませんでした: ${detail}`, {
      job: REFRESH_TOKEN_JOB_NAME,
      event: 'end',
      outcome: reason,
      reason,
      action: actionFor(reason),
      exitCode: exitCodeFor(reason),
      attempts: 0,
    });
    process.exitCode = exitCodeFor(reason);
  } finally {
    // Flushed after the toolkit closed (its last refresh recorded), before the exit code is returned.
    await exporting?.shutdown();
    release();
  }
}

import type { Command } from 'commander';
import { ExitCode } from '../../../exit-codes.ts';
import { parseDuration } from '../../jobs/duration.ts';
import { startOtlpExport } from '../../jobs/otlp-export.ts';
import {
  JOB_DEFAULTS,
  type RawJobRunSettings,
  resolveFreshWindowMs,
  resolveJobRunSettings,
} from '../../jobs/settings.ts';
import type { WorkerOptions } from '../../jobs/worker.ts';
import { withAlarmbox } from '../context.ts';
import { finishTokenExchanges, waitForStopSignal } from '../stop-signal.ts';

interface WorkerCliOptions extends RawJobRunSettings {
  readonly schedule?: string;
  readonly timezone?: string;
  readonly skipIfFresh?: string;
  readonly shutdownGrace?: string;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'refresh-token ジョブをスケジュールどおりに実行し続けます (Cloud Run Jobs や CronJob を使わない場合の常駐プロセス)',
    )
    .option(
      '--schedule <cron>',
      'refresh-token のスケジュール (cron 式。秒を先頭に足した 6 項目も可。既定: ALARMBOX_REFRESH_SCHEDULE、未設定なら "0 */12 * * *")',
    )
    .option('--timezone <tz>', 'スケジュールのタイムゾーン (既定: ALARMBOX_TIMEZONE、未設定なら Asia/Tokyo)')
    .option(
      '--skip-if-fresh <duration>',
      'この時間以内に更新済みなら同じ回の実行とみなして何もしません (既定: スケジュールの間隔の半分)',
    )
    .option(
      '--retries <n>',
      `一時的な失敗を再試行する回数 (既定: ALARMBOX_JOB_RETRIES、未設定なら ${JOB_DEFAULTS.retries})`,
    )
    .option('--retry-delay <duration>', '最初の再試行までの待ち時間 (既定: 5s、以後は倍々)')
    .option('--timeout <duration>', '1 回の実行でこの時間を過ぎたら再試行しません (既定: 5m)')
    .option(
      '--shutdown-grace <duration>',
      'SIGTERM を受けてから実行中のジョブの終了を待つ時間 (既定: 25s。過ぎたらジョブを中断してロックを返して終了。送信済みのトークン要求だけは結果を保存してから終了)',
    )
    .option('--log-format <format>', 'json (既定、Cloud Logging 用) か text')
    .addHelpText(
      'after',
      '\n終了コード: 0 停止 (SIGTERM / SIGINT) / 2 設定の誤り / 5 実行中のジョブを中断して停止。失敗した回はログに出して動き続けます。' +
        '\nOTEL_EXPORTER_OTLP_ENDPOINT を設定すると、メトリクスとスパンを OTLP/HTTP で送ります。形式の既定は protobuf で、OTEL_EXPORTER_OTLP_PROTOCOL=http/json なら JSON です (docs/operations.md「監視 (OpenTelemetry)」)。',
    )
    .action(runWorker);
}

async function runWorker(opts: WorkerCliOptions): Promise<void> {
  // Loaded here: only the worker needs croner.
  const [{ createJobLogger }, { refreshTokenJob }, { DEFAULT_TIMEZONE, parseSchedule }, worker] =
    await Promise.all([
      import('../../jobs/logger.ts'),
      import('../../jobs/refresh-token-job.ts'),
      import('../../jobs/schedule.ts'),
      import('../../jobs/worker.ts'),
    ]);
  const settings = resolveJobRunSettings(opts, 'json');
  const env = process.env;
  const timezone = opts.timezone ?? nonBlank(env.ALARMBOX_TIMEZONE) ?? DEFAULT_TIMEZONE;
  const scheduleSource = opts.schedule === undefined ? 'ALARMBOX_REFRESH_SCHEDULE' : '--schedule';
  // One job today; the worker itself takes a list, so a second job is one more entry here.
  const jobs = [refreshTokenJob({ schedule: opts.schedule ?? nonBlank(env.ALARMBOX_REFRESH_SCHEDULE) })];
  const scheduled = jobs.map((job) => {
    const schedule = parseSchedule(job.schedule, timezone, scheduleSource);
    return { job, schedule, freshWindowMs: resolveFreshWindowMs(opts.skipIfFresh, schedule.periodMs) };
  });
  const shutdownGraceMs =
    opts.shutdownGrace === undefined
      ? DEFAULT_SHUTDOWN_GRACE_MS
      : parseDuration(opts.shutdownGrace, '--shutdown-grace', '25s');
  const options = {
    logger: createJobLogger(settings.logFormat),
    jobs: scheduled,
    retries: settings.retries,
    retryDelayMs: settings.retryDelayMs,
    budgetMs: settings.budgetMs,
    shutdownGraceMs,
  };
  const exporting = await startOtlpExport();
  try {
    await runScheduled(options, worker);
  } finally {
    await exporting?.shutdown();
  }
}

async function runScheduled(
  options: Omit<WorkerOptions, 'alarmbox'>,
  worker: typeof import('../../jobs/worker.ts'),
): Promise<void> {
  await withAlarmbox(async (alarmbox) => {
    // Listening before the start line is logged: a signal sent the moment it appears still stops cleanly.
    const stopSignal = waitForStopSignal();
    const running = worker.startWorker({ alarmbox, ...options });
    const signal = await stopSignal;
    const result = await running.stop(signal);
    // Past the grace period a token request may still be under way: AlarmBox may have rotated the pair,
    // so its answer is saved (or known lost) and the lease released before the process ends.
    await finishTokenExchanges(alarmbox.config.httpTimeoutMs + 10_000);
    options.logger.log('INFO', 'ワーカーを停止しました', { event: 'worker_stop', pid: process.pid, result });
    process.exitCode = result === 'abandoned' ? ExitCode.temporary : ExitCode.ok;
    // An abandoned run may still hold a socket open (an API call until its HTTP timeout): do not wait for it.
    if (result === 'abandoned') setTimeout(() => process.exit(ExitCode.temporary), 1_000).unref();
  });
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

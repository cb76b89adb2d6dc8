// Runs one execution of a job: bounded retries of temporary failures with backoff inside a time budget,
// structured log lines, and the documented exit code.
//
// Two executions at once (a scheduler's overlap, two workers) need no lease of their own: the refresh takes the
// token lease, its save is a compare-and-set on `version`, and the tick's "saved since" rule is checked under
// that lease (refresh-token-job.ts), so they rotate once. One that cannot get the token lease in time fails with
// `lock_timeout` (exit 5, run again later): it never reports success for work it has not seen done.

import { setTimeout as delay } from 'node:timers/promises';
import { backoffDelayMs } from '../../backoff.ts';
import type { Toolkit } from '../../create.ts';
import { debugHint, writeDebugDetail } from '../../debug-detail.ts';
import { AlarmboxError } from '../../errors.ts';
import { ExitCode, exitCodeFor } from '../../exit-codes.ts';
import { FAILURE_REASONS, type FailureAction, type FailureReason } from '../../failure-reason.ts';
import { redact } from '../../text/redact.ts';
import { describeDuration } from './duration.ts';
import type { Job, JobContext, JobResult } from './job.ts';
import type { JobLogger, LogFields, Severity } from './logger.ts';
import type { JobRetrySettings } from './settings.ts';

export interface RunJobOptions extends JobRetrySettings {
  readonly alarmbox: Toolkit;
  readonly logger: JobLogger;
  readonly freshWindowMs?: number | undefined;
  /** Stop: no further attempt starts; the current one is allowed to finish. */
  readonly signal?: AbortSignal | undefined;
  readonly scheduledAt?: Date | undefined;
}

/** What happened to one execution. `outcome` is `ok`, `skipped`, or why it failed. */
export interface JobRunReport {
  readonly job: string;
  readonly outcome: 'ok' | 'skipped' | FailureReason;
  /** For skips and successes: the job's code (`refreshed`, `fresh`, `peer_refreshed`, …). */
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly attempts: number;
  readonly durationMs: number;
  readonly message: string;
  readonly result?: JobResult | undefined;
  readonly error?: AlarmboxError | undefined;
}

const MAX_RETRY_DELAY_MS = 60_000;
/** What a person (or an alert) should do about a failure reason. */
export function actionFor(reason: FailureReason): FailureAction {
  return FAILURE_REASONS[reason].action;
}

export async function runJob(job: Job, options: RunJobOptions): Promise<JobRunReport> {
  const { alarmbox, logger } = options;
  const signal = options.signal ?? new AbortController().signal;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const base: LogFields = {
    job: job.name,
    scheduledAt: options.scheduledAt?.toISOString(),
    pid: process.pid,
  };
  const context: JobContext = {
    alarmbox,
    logger,
    signal,
    freshWindowMs: options.freshWindowMs ?? 0,
    scheduledAt: options.scheduledAt,
  };
  logger.log('INFO', `ジョブ ${job.name} を開始します`, { ...base, event: 'start' });

  const finish = (attempts: number, end: Omit<JobRunReport, 'job' | 'attempts' | 'durationMs'>) =>
    logEnd(logger, base, { job: job.name, attempts, durationMs: elapsed(), ...end });
  const failed = (error: AlarmboxError, attempts: number): JobRunReport =>
    finish(attempts, {
      outcome: error.reason,
      code: error.reason,
      exitCode: exitCodeFor(error.reason),
      message: `ジョブ ${job.name} は失敗しました: ${redact(error.message)}`,
      error,
    });

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await job.run(context);
      return finish(attempt, {
        outcome: result.outcome,
        code: result.code,
        exitCode: ExitCode.ok,
        message: result.message,
        result,
      });
    } catch (caught) {
      const error = asReasoned(caught);
      const delayMs = backoffDelayMs(attempt, {
        firstMs: options.retryDelayMs,
        maxMs: MAX_RETRY_DELAY_MS,
      });
      const final = endOfRetries(error, attempt, elapsed() + delayMs, options, signal);
      if (final !== undefined) return failed(final, attempt);
      logger.log(
        'WARNING',
        `一時的な失敗のため ${describeDuration(delayMs)}後に再試行します (${attempt}/${options.retries}): ${redact(error.message)}`,
        {
          ...base,
          event: 'retry',
          reason: error.reason,
          attempt,
          delayMs,
        },
      );
      // Rejects (an AbortError) only when a stop aborts the pause.
      const slept = await delay(delayMs, true, { signal }).catch(() => false);
      if (!slept) return failed(interrupted(error), attempt);
    }
  }
}

/** The run's last log line (`event: end`), with the result's fields or the failure's reason and action. */
function logEnd(logger: JobLogger, base: LogFields, report: JobRunReport): JobRunReport {
  const fields: LogFields = {
    ...base,
    event: 'end',
    outcome: report.outcome,
    code: report.code,
    exitCode: report.exitCode,
    attempts: report.attempts,
    durationMs: report.durationMs,
    ...(report.error === undefined
      ? (report.result?.fields ?? {})
      : { reason: report.error.reason, action: actionFor(report.error.reason) }),
  };
  const severity: Severity = report.error === undefined ? 'INFO' : 'ERROR';
  logger.log(severity, report.message, fields);
  return report;
}

/**
 * The failure that ends the run, or undefined when a retry may start: only temporary failures are retried,
 * at most `retries` times, never after a stop, and never past the time budget (`retryAtMs` is when it would start).
 */
function endOfRetries(
  error: AlarmboxError,
  attempt: number,
  retryAtMs: number,
  options: RunJobOptions,
  signal: AbortSignal,
): AlarmboxError | undefined {
  if (!error.temporary || attempt > options.retries) return error;
  if (signal.aborted) return interrupted(error);
  if (retryAtMs >= options.budgetMs) {
    return withNote(
      error,
      `(時間の上限 ${describeDuration(options.budgetMs)} に達するため再試行しませんでした)`,
    );
  }
  return undefined;
}

function asReasoned(error: unknown): AlarmboxError {
  if (error instanceof AlarmboxError) {
    // Ours but unexplained (a migration that failed, a time value that is not one): its causes tell why.
    if (error.reason === 'unexpected') writeDebugDetail(error);
    return error;
  }
  const name = error instanceof Error ? error.name : typeof error;
  // Unknown errors may carry anything: keep only the class name in the message (which is logged and may be
  // stored); the stack and causes go to stderr, scrubbed, when ALARMBOX_DEBUG=1 asks for them.
  writeDebugDetail(error);
  return new AlarmboxError(`予期しないエラーが発生しました (${name})。${debugHint()}`, {
    reason: 'unexpected',
    cause: error,
  });
}

function interrupted(last: AlarmboxError): AlarmboxError {
  return new AlarmboxError(
    `停止の要求 (SIGTERM など) を受けたため再試行せずに終了しました。次回の実行で回復します。直前のエラー: ${last.message}`,
    { reason: 'temporary', cause: last },
  );
}

function withNote(error: AlarmboxError, note: string): AlarmboxError {
  return new AlarmboxError(`${error.message} ${note}`, { reason: error.reason, cause: error });
}

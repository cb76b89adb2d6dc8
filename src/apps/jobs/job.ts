// The guide's `CloudRunJobs`: a job declares its name, cron schedule and `run()`; the runner (runner.ts)
// adds retries, structured logs and exit codes.
import type { Toolkit } from '../../create.ts';
import type { JobLogger, LogFields } from './logger.ts';

export interface JobContext {
  readonly alarmbox: Toolkit;
  readonly logger: JobLogger;
  /** Aborted when the process is asked to stop (SIGTERM): finish the current step, start no new one. */
  readonly signal: AbortSignal;
  /**
   * Per-tick idempotency: the work counts as done if it was done less than this long ago (0 = always run).
   * The worker sets half the schedule's period; `refresh-token --skip-if-fresh` sets it by hand.
   */
  readonly freshWindowMs: number;
  /** When the scheduler meant this run to start (worker only). */
  readonly scheduledAt?: Date | undefined;
}

export interface JobResult {
  /** `ok` = the work was done now; `skipped` = nothing needed doing. */
  readonly outcome: 'ok' | 'skipped';
  /** A machine-readable detail, e.g. `refreshed`, `still_valid`, `peer_refreshed`, `fresh`. */
  readonly code: string;
  /** Japanese, for logs and people; never a secret. */
  readonly message: string;
  readonly fields?: LogFields | undefined;
}

export interface Job {
  readonly name: string;
  /** Cron pattern (5 fields, or 6 with seconds) in the worker's time zone. */
  readonly schedule: string;
  /** One attempt. Throws an AlarmboxError on failure: `temporary` / `lock_timeout` ones are retried. */
  run(context: JobContext): Promise<JobResult>;
}

// `alarmbox worker`: a long-running process that runs the registered jobs on their schedules (croner, with
// an explicit time zone). A failed run is logged and the worker goes on; on stop (SIGTERM) it schedules
// nothing more and lets the current run finish within a grace period.
import { Cron } from 'croner';
import type { Toolkit } from '../../create.ts';
import { waitAtMost } from '../../wait-at-most.ts';
import { formatDuration } from './duration.ts';
import type { Job } from './job.ts';
import type { JobLogger } from './logger.ts';
import { type JobRunReport, runJob } from './runner.ts';
import type { Schedule } from './schedule.ts';
import type { JobRetrySettings } from './settings.ts';

export interface ScheduledJob {
  readonly job: Job;
  readonly schedule: Schedule;
  /** Per-tick idempotency window; by default half the schedule's period (settings.ts resolveFreshWindowMs). */
  readonly freshWindowMs: number;
}

export interface WorkerOptions extends JobRetrySettings {
  readonly alarmbox: Toolkit;
  readonly logger: JobLogger;
  readonly jobs: readonly ScheduledJob[];
  /** How long a stop waits for the current run before abandoning it. */
  readonly shutdownGraceMs: number;
}

/** How a stop ended: nothing was running, the current run finished, or it was abandoned after the grace. */
export type StopResult = 'idle' | 'finished' | 'abandoned';

export interface Worker {
  /** Stops scheduling and waits (up to the grace period) for the run under way. */
  stop(reason: string): Promise<StopResult>;
}

export function startWorker(options: WorkerOptions): Worker {
  const { logger } = options;
  const stopping = new AbortController();
  const running = new Map<string, Promise<JobRunReport>>();

  const crons = options.jobs.map(
    ({ job, schedule, freshWindowMs }) =>
      new Cron(
        schedule.pattern,
        {
          timezone: schedule.timezone,
          mode: '5-or-6-parts',
          // Never two runs of one job in this process; runs of other processes meet ours at the token lease.
          protect: () =>
            logger.log('WARNING', `前回のジョブ ${job.name} がまだ実行中のため、今回の予定をとばしました。`, {
              job: job.name,
              event: 'tick_skipped',
            }),
          catch: (error) =>
            logger.log(
              'ERROR',
              `ジョブ ${job.name} の実行で予期しないエラーが発生しました (${error instanceof Error ? error.name : typeof error})。`,
              { job: job.name, event: 'tick_error' },
            ),
        },
        async (self: Cron) => {
          if (stopping.signal.aborted) return;
          const promise = runJob(job, {
            alarmbox: options.alarmbox,
            logger,
            retries: options.retries,
            retryDelayMs: options.retryDelayMs,
            budgetMs: options.budgetMs,
            freshWindowMs,
            signal: stopping.signal,
            scheduledAt: self.currentRun() ?? new Date(),
          });
          running.set(job.name, promise);
          try {
            await promise;
          } finally {
            running.delete(job.name);
          }
        },
      ),
  );

  logger.log('INFO', 'ワーカーを開始しました', {
    event: 'worker_start',
    pid: process.pid,
    jobs: options.jobs.map(({ job }) => job.name),
    schedules: options.jobs.map(({ job, schedule }) => `${job.name}=${schedule.pattern}`),
    timezone: options.jobs[0]?.schedule.timezone,
    freshWindows: options.jobs.map(
      ({ job, freshWindowMs }) => `${job.name}=${formatDuration(freshWindowMs)}`,
    ),
    nextRuns: crons.map((c) => c.nextRun()?.toISOString() ?? '-'),
  });

  return {
    async stop(reason: string): Promise<StopResult> {
      for (const cron of crons) cron.stop();
      stopping.abort();
      const current = [...running.values()];
      logger.log('INFO', `${reason} を受け取りました。ワーカーを停止します`, {
        event: 'worker_stopping',
        pid: process.pid,
        running: current.length,
      });
      return awaitRuns(current, options);
    },
  };
}

/** Waits for the runs under way, up to the grace period; past it they are abandoned (and that is logged). */
async function awaitRuns(current: Promise<JobRunReport>[], options: WorkerOptions): Promise<StopResult> {
  if (current.length === 0) return 'idle';
  const finished = await waitAtMost(Promise.allSettled(current), options.shutdownGraceMs);
  const result = finished === undefined ? 'abandoned' : 'finished';
  if (result === 'abandoned') {
    options.logger.log(
      'WARNING',
      `実行中のジョブが ${formatDuration(options.shutdownGraceMs)} 以内に終わらなかったため、中断して終了します。` +
        '保存済みのトークンは変わっていないか、更新済みの組に置き換わっているかのどちらかです。',
      { event: 'worker_abandoned', pid: process.pid },
    );
  }
  return result;
}

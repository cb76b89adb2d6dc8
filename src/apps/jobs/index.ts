// Scheduled jobs: the guide's CloudRunJobs (`refresh_alarmbox_token`, `0 */12 * * *`) and what runs it.
export {
  DEPLOY_DEFAULTS,
  DEPLOY_TARGETS,
  type DeployManifestOptions,
  type DeployTarget,
  renderDeployManifest,
} from './deploy-manifest.ts';
export { formatDuration, parseDuration } from './duration.ts';
export type { Job, JobContext, JobResult } from './job.ts';
export { createJobLogger, type JobLogger, type LogFormat, type Severity, silentLogger } from './logger.ts';
export { REFRESH_TOKEN_JOB_NAME, REFRESH_TOKEN_SCHEDULE, refreshTokenJob } from './refresh-token-job.ts';
export { actionFor, type JobRunReport, type RunJobOptions, runJob } from './runner.ts';
export { DEFAULT_TIMEZONE, parseSchedule, type Schedule } from './schedule.ts';
export { JOB_DEFAULTS, type JobRunSettings, resolveJobRunSettings } from './settings.ts';
export {
  type ScheduledJob,
  type StopResult,
  startWorker,
  type Worker,
  type WorkerOptions,
} from './worker.ts';

import { ConfigError } from '../config/errors.ts';
import type { Job } from './job.ts';
import { REFRESH_TOKEN_JOB_NAME, refreshTokenJob } from './refresh-token-job.ts';

/** Every job the worker knows, by name. */
export function registeredJobs(overrides: { readonly refreshTokenSchedule?: string } = {}): Job[] {
  return [refreshTokenJob({ schedule: overrides.refreshTokenSchedule })];
}

export function selectJobs(jobs: readonly Job[], names: readonly string[] | undefined): Job[] {
  if (names === undefined || names.length === 0) return [...jobs];
  return names.map((name) => {
    const job = jobs.find((j) => j.name === name);
    if (job === undefined) {
      throw new ConfigError(
        '--jobs',
        `ジョブ "${name.slice(0, 32)}" はありません。使えるジョブ: ${jobs.map((j) => j.name).join(', ')} (例: --jobs ${REFRESH_TOKEN_JOB_NAME})。`,
      );
    }
    return job;
  });
}

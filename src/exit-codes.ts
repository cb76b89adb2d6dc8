import { FAILURE_REASONS, type FailureReason } from './failure-reason.ts';

/** Exit codes (README「終了コード」), for schedulers and scripts. */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usageOrConfiguration: 2,
  notRegistered: 3,
  reauthorizationRequired: 4,
  temporary: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Never 0: a failure of any reason is a failure to a scheduler. */
export function exitCodeFor(reason: FailureReason): Exclude<ExitCode, 0> {
  return FAILURE_REASONS[reason].exitCode;
}

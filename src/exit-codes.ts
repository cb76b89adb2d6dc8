import type { FailureReason } from './failure-reason.ts';

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

export function exitCodeFor(reason: FailureReason): ExitCode {
  switch (reason) {
    case 'configuration':
    case 'usage':
    case 'client_configuration':
    case 'stored_data_invalid':
      return ExitCode.usageOrConfiguration;
    case 'not_registered':
      return ExitCode.notRegistered;
    case 'reauthorization_required':
      return ExitCode.reauthorizationRequired;
    case 'temporary':
    case 'lock_timeout':
      return ExitCode.temporary;
    case 'unexpected':
      return ExitCode.unexpected;
  }
}

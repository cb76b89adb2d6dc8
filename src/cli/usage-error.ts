import type { FailureReason, ReasonedError } from '../failure-reason.ts';

/** A command-line argument is wrong; exit code 2. */
export class UsageError extends Error implements ReasonedError {
  override readonly name = 'UsageError';
  readonly reason: FailureReason = 'usage';
}

import type { FailureReason, ReasonedError } from '../../failure-reason.ts';

/** A command's own failure with the reason that picks its exit code (README「終了コード」), e.g. a port in use. */
export class CommandError extends Error implements ReasonedError {
  override readonly name: string = 'CommandError';
  readonly reason: FailureReason;

  constructor(message: string, reason: FailureReason) {
    super(message);
    this.reason = reason;
  }
}

/** A command-line argument is wrong; exit code 2. */
export class UsageError extends CommandError {
  override readonly name: string = 'UsageError';

  constructor(message: string) {
    super(message, 'usage');
  }
}

import { AlarmboxError } from '../../errors.ts';
import type { FailureReason } from '../../failure-reason.ts';

/** A command's own failure with the reason that picks its exit code (README「終了コード」), e.g. a port in use. */
export class CommandError extends AlarmboxError {
  override readonly name: string = 'CommandError';

  constructor(message: string, reason: FailureReason) {
    super(message, { reason });
  }
}

/** A command-line argument is wrong; exit code 2. */
export class UsageError extends CommandError {
  override readonly name: string = 'UsageError';

  constructor(message: string) {
    super(message, 'usage');
  }
}

// The one base class of every error this package throws. Callers, the CLI's exit code, the job runner and the
// console classify failures with `instanceof AlarmboxError`, never by the shape of an error: Node's TLS errors
// and OpenSSL's carry a string `reason` of their own, and a shape test once took them for ours and exited 0.

import { FAILURE_REASONS, type FailureReason } from './failure-reason.ts';
import { SAFE_ERROR, safeCause } from './text/safe-cause.ts';
import { terminalSafe } from './text/terminal-safe.ts';

/** What every {@link AlarmboxError} is built from. */
export interface AlarmboxErrorOptions {
  readonly reason: FailureReason;
  /** Any value: kept only as a secret-free copy (class name, code, redacted message), a non-Error is dropped. */
  readonly cause?: unknown;
}

/** An error of alarmbox-auth: a Japanese message naming the cause and the fix, and a {@link FailureReason}. */
export class AlarmboxError extends Error {
  override readonly name: string = 'AlarmboxError';
  readonly reason: FailureReason;

  constructor(message: string, options: AlarmboxErrorOptions) {
    const cause = safeCause(options.cause);
    // A message may quote outside text (AlarmBox's words, a value from the environment): it stays one printable
    // line wherever it is shown, stored or logged.
    super(terminalSafe(message), cause === undefined ? undefined : { cause });
    this.reason = options.reason;
  }

  /** True when retrying later can succeed without a person doing anything. */
  get temporary(): boolean {
    return FAILURE_REASONS[this.reason].temporary;
  }

  /** True when the stored token chain is dead and a person must authorize again. */
  get reauthorizationRequired(): boolean {
    return FAILURE_REASONS[this.reason].reauthorizationRequired;
  }
}

// Every cause of an AlarmboxError is already a safe copy: wrapping it again keeps it as it is.
Object.defineProperty(AlarmboxError.prototype, SAFE_ERROR, { value: true });

/** The reason of any thrown value: its own for an {@link AlarmboxError}, `unexpected` for everything else. */
export function reasonOf(error: unknown): FailureReason {
  return error instanceof AlarmboxError ? error.reason : 'unexpected';
}

/**
 * What may be shown of any thrown value: the message of an {@link AlarmboxError}, only the class name of anything
 * else (a foreign error may quote a connection string, a query or a token).
 */
export function messageOf(error: unknown): string {
  if (error instanceof AlarmboxError) return error.message;
  const name = error instanceof Error ? terminalSafe(String(error.name)).slice(0, 80) : typeof error;
  return `予期しないエラーが発生しました (${name})`;
}

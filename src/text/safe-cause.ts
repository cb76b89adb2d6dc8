// Errors of other libraries keep what they were given: an OAuth library may put the parsed token response (the
// new access and refresh tokens) or the whole Response in `cause`, drivers may keep a query or a URL. An error this
// package throws carries a copy of such a cause instead: class name, system error code and redacted message
// only, so that `console.error(err)`, a logger printing causes, or `JSON.stringify(err)` shows no secret.

import { redact } from './redact.ts';
import { terminalSafe } from './terminal-safe.ts';

const MAX_DEPTH = 5;

/** A foreign error reduced to what helps diagnose it without carrying secrets. */
class SafeCause extends Error {
  override readonly name: string;
  /** The system or library error code (`ECONNREFUSED`, `ER_…`), when the original had one. */
  readonly code: string | undefined;

  constructor(
    name: string,
    message: string,
    code: string | undefined,
    stack: string | undefined,
    cause: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
    this.code = code;
    Object.defineProperty(this, 'stack', {
      value: stack,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
}

/**
 * `cause` as an error of this package may keep it: errors that already went through this function are kept
 * as they are (a class of this package marks that with {@link SAFE_ERROR}); any other Error becomes a
 * {@link SafeCause}; a non-Error value (a Response, a parsed body) is dropped.
 */
export function safeCause(cause: unknown, depth = 0): Error | undefined {
  if (!(cause instanceof Error) || depth >= MAX_DEPTH) return undefined;
  if ((cause as { [SAFE_ERROR]?: boolean })[SAFE_ERROR] === true) return cause;
  const name = terminalSafe(redact(String(cause.name))).slice(0, 80);
  const message = terminalSafe(redact(String(cause.message)));
  const rawCode = (cause as { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? redact(rawCode).slice(0, 80) : undefined;
  // The frames name files and lines only; the first line repeats the message, so it is rebuilt redacted.
  const frames = (cause.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const stack = [`${name}: ${message}`, ...frames.map((f) => redact(f))].join('\n');
  return new SafeCause(name, message, code, stack, safeCause(cause.cause, depth + 1));
}

/** Set on the prototype of this package's errors whose own fields and causes are already safe. */
export const SAFE_ERROR: unique symbol = Symbol.for('alarmbox-auth.safe-error');
Object.defineProperty(SafeCause.prototype, SAFE_ERROR, { value: true });

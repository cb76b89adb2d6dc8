// Assertions on failures that say what actually happened when they fail: the class, reason and message of the
// error thrown (or the value resolved), not "expected undefined to be 'temporary'" after a cast.
import { expect } from 'vitest';
import { AlarmboxError } from '../../src/errors.ts';
import type { FailureReason } from '../../src/failure-reason.ts';

/** A class of any constructor signature, as `instanceof` takes it. */
type ErrorClass<E> = abstract new (...args: never[]) => E;

/** One line naming a thrown value: its class, its `reason` (ours or a foreign one) and its message. */
function describeThrown(value: unknown): string {
  if (!(value instanceof Error)) return `a non-Error ${typeof value}: ${String(value).slice(0, 200)}`;
  const reason = (value as { reason?: unknown }).reason;
  const shown = reason === undefined ? 'no reason' : `reason ${JSON.stringify(reason)}`;
  return `${value.constructor.name} (${shown}): ${value.message}`;
}

/** What `promise` rejected with; fails the test, naming the value, when it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const settled = await promise.then(
    (value: unknown) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (!settled.resolved) return settled.error;
  return expect.fail(`expected a rejection, but it resolved with ${preview(settled.value)}`);
}

/**
 * Asserts that `error` (already caught) is an {@link AlarmboxError} of `type` (default: any) whose reason is
 * `reason`, and returns it typed for further assertions.
 */
export function expectReasonOf<E extends AlarmboxError = AlarmboxError>(
  error: unknown,
  reason: FailureReason,
  type?: ErrorClass<E>,
): E {
  const isWanted =
    error instanceof AlarmboxError &&
    error.reason === reason &&
    (type === undefined || error instanceof type);
  if (!isWanted) {
    expect.fail(
      `expected ${type?.name ?? 'AlarmboxError'} with reason "${reason}", got ${describeThrown(error)}`,
    );
  }
  return error as E;
}

/**
 * Awaits `promise`, which must reject with an {@link AlarmboxError} of `type` (default: any) whose reason is
 * `reason`; returns the error for further assertions: `await expectReason(p, 'temporary')`.
 */
export async function expectReason<E extends AlarmboxError = AlarmboxError>(
  promise: Promise<unknown>,
  reason: FailureReason,
  type?: ErrorClass<E>,
): Promise<E> {
  return expectReasonOf(await rejectionOf(promise), reason, type);
}

function preview(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    return String(value).slice(0, 200);
  }
}

// Node and the drivers report what went wrong as a string `code` (ENOENT, ECONNREFUSED, ER_LOCK_WAIT_TIMEOUT…),
// sometimes on a wrapped or aggregated error. One reader for the whole library.

/** The first usable error code: the error's own, that of an `AggregateError`'s parts, or of its cause. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  if (typeof code === 'number') return String(code);
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = errorCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? errorCode(cause) : undefined;
}

/**
 * `error`, then the `cause` of each Error below it, nearest first: each value once (a chain may loop), at most
 * `max`. A non-Error cause ends the chain (it has no `cause` of its own to follow).
 */
export function causeChain(error: unknown, max = 6): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  while (current !== undefined && !chain.includes(current) && chain.length < max) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

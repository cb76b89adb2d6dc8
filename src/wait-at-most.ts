// One bounded wait for the whole package: shutdown drains (close(), the worker's grace, the job's last OTLP
// flush, a pool's polite end) and health()'s time bound all wait for something "at most so long", then go on.

/**
 * Waits for `promise`, at most `ms`: `{ value }` when it settled in time, `undefined` when the time ran out.
 * A rejection in time rejects; one after the bound is left to the promise's own handlers. The timer never
 * outlives the wait, so an early answer does not keep the process alive.
 */
export async function waitAtMost<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ readonly value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

// Waiting in tests for something that happens on its own time (a child process, a server, the emulator's
// counters): poll the condition, fail with a clear error after a bound.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `test` every `intervalMs` until it holds; throws once `timeoutMs` has passed. */
export async function until(
  test: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 5,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

import type { Socket } from 'node:net';
import { waitAtMost } from '../../wait-at-most.ts';

/** The code of the error a query gets when the database did not answer within the query timeout. */
export const QUERY_TIMEOUT_CODE = 'QUERY_TIMEOUT';

/** How long TCP stays idle before the first keepalive probe: a peer that vanished is noticed eventually. */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/** A query that ran out of time. Its connection has been discarded by then (the answer may still come). */
export function queryTimeoutError(timeoutMs: number, cause?: unknown): Error {
  return Object.assign(new Error(`the database did not answer within ${timeoutMs} ms`, { cause }), {
    code: QUERY_TIMEOUT_CODE,
  });
}

/**
 * The sockets a pool has open. A server that went silent never acknowledges a goodbye: its half-closed
 * sockets would keep the process alive forever, so closing the pool ends them after a grace period.
 */
export class OpenSockets {
  readonly #sockets = new Set<Socket>();

  add(socket: Socket | undefined): void {
    if (socket === undefined || socket.destroyed || this.#sockets.has(socket)) return;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Ends the pool politely for at most `graceMs`; sockets still open `graceMs` later are destroyed. */
  async endWithin(end: () => Promise<void>, graceMs: number): Promise<void> {
    await waitAtMost(
      end().catch(() => {}),
      graceMs,
    );
    if (this.#sockets.size === 0) return;
    const sweep = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, graceMs);
    // A healthy server closes its side within the grace: then nothing is left to wait for.
    sweep.unref();
  }
}

/**
 * How long closing a pool waits for the server's goodbye: a healthy server answers within milliseconds, and
 * a command whose database went silent should not spend its last seconds on politeness.
 */
export function closeGraceMs(settings: { readonly connectTimeoutMs: number }): number {
  return Math.min(settings.connectTimeoutMs, 1_000);
}

/** The code of the error a query gets, without trying, while the server is held to be silent. */
export const UNRESPONSIVE_CODE = 'DB_UNRESPONSIVE';

/**
 * Remembers that the server just let a query or a connection attempt time out. For `cooldownMs` afterwards,
 * taking a connection fails at once instead of waiting out another timeout: a command whose database went
 * silent then reports it after one timeout, not after one per clean-up statement. After the cool-down the
 * next attempt tries the server again, so a pool recovers by itself once the server answers.
 */
export class SilenceBreaker {
  readonly #cooldownMs: number;
  #silentUntil = 0;

  constructor(cooldownMs: number) {
    this.#cooldownMs = cooldownMs;
  }

  /** @throws an error with code {@link UNRESPONSIVE_CODE} during the cool-down */
  check(): void {
    if (performance.now() < this.#silentUntil) {
      throw Object.assign(new Error('the database did not answer a moment ago'), { code: UNRESPONSIVE_CODE });
    }
  }

  /** Called with every failure of a query or a connection attempt; only timeouts count. */
  observe(error: unknown): void {
    if (isTimeout(error)) this.#silentUntil = performance.now() + this.#cooldownMs;
  }
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === QUERY_TIMEOUT_CODE || code === 'ETIMEDOUT') return true;
  // pg-pool's connect timeout has no code.
  return (
    error instanceof Error &&
    /timeout exceeded when trying to connect|connection timeout/i.test(error.message)
  );
}

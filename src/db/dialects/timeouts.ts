import type { Socket } from 'node:net';

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
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    try {
      await Promise.race([end().catch(() => {}), expired]);
    } finally {
      clearTimeout(timer);
    }
    if (this.#sockets.size === 0) return;
    const sweep = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, graceMs);
    // A healthy server closes its side within the grace: then nothing is left to wait for.
    sweep.unref();
  }
}

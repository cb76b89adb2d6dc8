// How a process waiting for a lease learns that the holder may be done (released the lease, stored what it
// was taking the lease for), so that it looks again at once instead of at its next poll:
// - SQLite: the holder announces its commits (db/commit-watch.ts, inotify on the file beside the database);
// - MariaDB / PostgreSQL: the waiter blocks on the lease's wake lock, which the holder keeps until it has
//   released the lease (wake-lock.ts).
// Where neither works (SQLite in memory, no inotify, a pool too small to pin a connection), it is the
// caller's poll alone. Either way a wake-up is a hint: the caller re-reads whatever it waits for.
import { watchCommits } from '../db/commit-watch.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import { canUseWakeLock, WAKE_BLOCK_MS, waitOnWakeLock } from './wake-lock.ts';

export interface HolderWatch {
  /**
   * Resolves when the holder may be done, and at the latest after `remainingMs`. `pollMs` is the caller's
   * poll: how long to wait when nothing can tell (and, on SQLite, the least time between safety looks).
   * Rejects with the signal's reason once it is aborted.
   */
  wait(pollMs: number, remainingMs: number): Promise<void>;
  /** Stops watching. Safe to call more than once. */
  close(): void;
}

/**
 * How often a SQLite waiter looks anyway while announcements wake it: for what is never announced (a crashed
 * holder's lease expiring) and in case one is lost.
 */
const SQLITE_SAFETY_POLL_MS = 50;

/** Watches the holder of `lockName` in `handle`'s database until `close()`. */
export function watchHolder(handle: DatabaseHandle, lockName: string, signal?: AbortSignal): HolderWatch {
  // On a server database this watch only sleeps (it is never live): the poll between blocks.
  const commits = watchCommits(handle.target, signal);
  if (handle.dialect === 'sqlite' || !canUseWakeLock(handle)) {
    return {
      wait: (pollMs, remainingMs) =>
        commits.wait(Math.min(commits.live ? Math.max(pollMs, SQLITE_SAFETY_POLL_MS) : pollMs, remainingMs)),
      close: () => commits.close(),
    };
  }
  return {
    async wait(pollMs, remainingMs) {
      signal?.throwIfAborted();
      const found = await untilAborted(
        waitOnWakeLock(handle, lockName, Math.min(WAKE_BLOCK_MS, remainingMs)),
        signal,
      );
      // `released`: look now. `timeout`: still held after a whole block, look again (a lease may have expired).
      if (found === 'released' || found === 'timeout') return;
      // `free`: no holder keeps the wake lock (it has not taken it yet, or went on without it), so nothing will
      // wake us. `unknown`: the database did not answer, and the caller's next attempt will say why.
      await commits.wait(Math.min(pollMs, remainingMs));
    },
    close: () => commits.close(),
  };
}

/**
 * `work`, or the signal's reason as soon as it is aborted. A statement blocked in the database cannot be
 * called back; it ends by itself within its lock timeout and returns its connection to the pool.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

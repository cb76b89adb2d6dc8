// Waiting for another process's write (a peer's new token pair, a released lease) by polling costs up to one
// poll interval after that write. SQLite, the one database here that lives on this host, has no way to tell
// another connection of a commit, so we make our own NOTIFY: after a commit that waiters care
// about, the writer touches `<file>-notify` beside the database, and the kernel reports that at once to every
// process watching that file (inotify on Linux, via fs.watch). SQLite is single-host by design (its locks
// do not work over network file systems), so no writer of ours can commit without this host seeing it.
//
// Why not watch the -wal file: SQLite writes it before the commit is visible to readers (the WAL index is
// updated afterwards), and on every commit, so waiters would wake in the middle of the writer's transactions,
// read the old row, and take the CPU from the writer just as it finishes. The announcement comes after the
// commit, and only for the commits waiters wait for.
//
// Server databases: a watch is the caller's poll alone, and an announcement does nothing (their waiters are
// woken by the holder's wake lock instead: lock/wake-lock.ts).
import { closeSync, type FSWatcher, openSync, utimesSync, watch } from 'node:fs';
import { resolve } from 'node:path';
import type { DatabaseTarget } from './url.ts';

export interface CommitWatch {
  /**
   * Whether announced commits wake {@link wait} (a SQLite file whose notify file could be watched). When false,
   * `wait` is a plain delay and the caller's poll schedule is all there is.
   */
  readonly live: boolean;
  /**
   * Resolves after `ms`, or earlier as soon as a commit has been announced since the previous `wait` returned
   * (or since the watch began), so an announcement made while the caller was reading is not missed.
   * Rejects with the signal's reason once it is aborted.
   */
  wait(ms: number): Promise<void>;
  /** Stops watching. Safe to call more than once. */
  close(): void;
}

/**
 * Watches `target` for {@link announceCommit} by any process until `close()`. A wake-up is a hint, never a
 * promise that the awaited change is there: the caller re-reads and waits again. Where the platform refuses
 * a watch (inotify limits, some file systems), it polls.
 */
export function watchCommits(target: DatabaseTarget, signal?: AbortSignal): CommitWatch {
  let seen = false;
  let wake: (() => void) | undefined;
  const file = notifyFile(target);
  const watcher =
    file === undefined
      ? undefined
      : watchFile(file, () => {
          seen = true;
          wake?.();
        });
  return {
    live: watcher !== undefined,
    wait(ms) {
      return new Promise<void>((done, fail) => {
        if (signal?.aborted) {
          fail(signal.reason);
          return;
        }
        const finish = (error?: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wake = undefined;
          seen = false;
          if (error === undefined) done();
          else fail(error);
        };
        const onAbort = () => finish(signal?.reason);
        const timer = setTimeout(finish, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (seen) finish();
        else wake = finish;
      });
    },
    close() {
      watcher?.close();
    },
  };
}

/**
 * Tells the processes watching `target` that a commit they may be waiting for is done. Call it after the
 * commit, never before. Best effort: a failure (a read-only directory, say) only leaves waiters to their poll.
 */
export function announceCommit(target: DatabaseTarget): void {
  const file = notifyFile(target);
  if (file === undefined) return;
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    // No such file: nobody has watched yet (a watch creates it). Anything else: waiters poll.
  }
}

function notifyFile(target: DatabaseTarget): string | undefined {
  if (target.dialect !== 'sqlite' || target.file === ':memory:') return undefined;
  return `${resolve(target.file)}-notify`;
}

function watchFile(file: string, onChange: () => void): FSWatcher | undefined {
  try {
    // The file itself, not its directory: a directory watch would also wake this process for every write
    // to the database and its -wal file, the very wake-ups this module exists to avoid. So the file must
    // exist before it can be watched; an empty one is what any announcement would create anyway.
    closeSync(openSync(file, 'a', 0o600));
    const watcher = watch(file, { persistent: false }, onChange);
    // A watch that fails later (the file deleted by hand, say) leaves the poll in charge.
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    // ENOSPC / EMFILE (the user's inotify watches or instances are used up), a read-only directory, or a
    // file system without notifications: polling alone is slower, never wrong.
    return undefined;
  }
}

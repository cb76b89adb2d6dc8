import type { DatabaseHandle } from '../db/connection.ts';
import { toDatabaseError } from '../db/driver-errors.ts';
import { Backoff } from './backoff.ts';
import { LockWaitTimeoutError } from './errors.ts';
import { type HolderWatch, watchHolder } from './holder-watch.ts';
import { isLeaseHeld, type LeaseRow, readLease, releaseLease, tryTakeLease } from './lease-sql.ts';
import { defaultOwnerId, MAX_OWNER_LENGTH } from './owner-id.ts';
import { canUseWakeLock, holdWakeLock, prepareWakeLock, type WakeHold } from './wake-lock.ts';

/** A held lock. Times are epoch milliseconds on the database's clock. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly acquiredAtMs: number;
  readonly expiresAtMs: number;
  /** Gives the lock back. False when it was no longer ours (expired, or taken over by another owner). */
  release(): Promise<boolean>;
  /** Whether this lease is still stored and not expired. */
  isHeld(): Promise<boolean>;
}

export interface LockManagerOptions {
  /** The lock's name, e.g. {@link LOCK_NAME_TOKEN_REFRESH}. At most 191 characters. */
  readonly name: string;
  /** How long a lease lasts unless released: the bound on how long a crashed holder blocks others. */
  readonly leaseMs: number;
  /** Who holds the lease, as stored in the table. Default `host:pid:random`, unique per LockManager. */
  readonly ownerId?: string;
  /** The longest pause between attempts while waiting (default 200 ms; the first pauses are ~20 ms). */
  readonly pollMs?: number;
}

export interface AcquireOptions {
  /** How long to keep trying before {@link LockWaitTimeoutError}. 0 = a single attempt. */
  readonly waitMs: number;
  readonly signal?: AbortSignal;
}

const MAX_NAME_LENGTH = 191;
const FIRST_POLL_MS = 20;
const DEFAULT_POLL_MS = 200;

/**
 * The guide's `LockManager(name, parallelism=1)`: a lease row in `alarmbox_locks` of the same database, so
 * it excludes other threads, processes and hosts alike. Not re-entrant: a second acquire waits even with the
 * same owner. A crashed holder's lease simply expires after `leaseMs`.
 */
export class LockManager {
  readonly name: string;
  readonly ownerId: string;
  readonly leaseMs: number;
  readonly #db: DatabaseHandle;
  readonly #pollMs: number;
  /** The wake lock is ready (MariaDB: its row exists): prepared by this process's first lease. */
  #wakeLockReady: Promise<void> | undefined;

  constructor(db: DatabaseHandle, options: LockManagerOptions) {
    const { name, leaseMs, ownerId = defaultOwnerId(), pollMs = DEFAULT_POLL_MS } = options;
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new RangeError(`lock name must be 1..${MAX_NAME_LENGTH} characters`);
    }
    if (ownerId.length === 0 || ownerId.length > MAX_OWNER_LENGTH) {
      throw new RangeError(`ownerId must be 1..${MAX_OWNER_LENGTH} characters`);
    }
    if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) {
      throw new RangeError('leaseMs must be a positive integer');
    }
    if (!(pollMs > 0)) throw new RangeError('pollMs must be positive');
    this.#db = db;
    this.name = name;
    this.ownerId = ownerId;
    this.leaseMs = leaseMs;
    this.#pollMs = pollMs;
  }

  /**
   * Takes the lock, polling with a jittered back-off until `waitMs` has passed. A release by another process
   * ends the wait at once (see {@link watchHolder}); a crashed holder's lease expiring is seen at the next poll.
   * @throws LockWaitTimeoutError ('lock_timeout'), DatabaseUnavailableError, MigrationsPendingError, or the
   *   signal's reason when aborted.
   */
  async acquire(options: AcquireOptions): Promise<Lease> {
    const { waitMs, signal } = options;
    if (!(waitMs >= 0) || !Number.isFinite(waitMs)) {
      throw new RangeError('waitMs must be a finite number >= 0');
    }
    // Our own wait budget is measured on the local monotonic clock; only lease expiry needs the database's.
    const deadline = performance.now() + waitMs;
    const backoff = new Backoff(Math.min(FIRST_POLL_MS, this.#pollMs), this.#pollMs);
    let holder: HolderWatch | undefined;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const lease = await this.tryAcquire();
        if (lease !== undefined) return lease;
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw new LockWaitTimeoutError(this.name, waitMs);
        holder ??= this.watchHolder(signal);
        await holder.wait(backoff.next(), remaining);
      }
    } finally {
      holder?.close();
    }
  }

  /**
   * Wakes a waiter when this lock's holder, in any process, may be done: for callers that wait in their own
   * way between {@link tryAcquire} attempts (TokenService also looks at the token row).
   */
  watchHolder(signal?: AbortSignal): HolderWatch {
    return watchHolder(this.#db, this.name, signal);
  }

  /**
   * One attempt, no waiting: the lease, or undefined while another owner holds a live one. For callers that
   * wait in their own way (TokenService also watches the token row meanwhile).
   * @throws DatabaseUnavailableError, MigrationsPendingError
   */
  async tryAcquire(): Promise<Lease | undefined> {
    let row: LeaseRow | undefined;
    try {
      row = await tryTakeLease(this.#db, this.name, this.ownerId, this.leaseMs);
    } catch (error) {
      throw toDatabaseError(error, this.#db.target);
    }
    return row === undefined ? undefined : this.#toLease(row, this.#holdWakeLock());
  }

  /**
   * Takes the wake lock for as long as the lease is held, so that waiters in other processes and on other
   * hosts wake when it is released. In the background: the lease is ours already, and its holder need not
   * wait for what is only a hint to others.
   */
  #holdWakeLock(): Promise<WakeHold | undefined> | undefined {
    if (!canUseWakeLock(this.#db)) return undefined;
    this.#wakeLockReady ??= prepareWakeLock(this.#db, this.name);
    return this.#wakeLockReady
      .then(() => holdWakeLock(this.#db, this.name, this.leaseMs))
      .then((hold) => {
        // Not had (its row deleted by hand, a lost connection): prepare again next time.
        if (hold === undefined) this.#wakeLockReady = undefined;
        return hold;
      });
  }

  /**
   * Runs `fn` while holding the lock and releases it afterwards, whatever `fn` did. A failed release is
   * not reported: the lease expires on its own, and `fn`'s outcome (a saved token, say) stands.
   */
  async withLock<T>(fn: (lease: Lease) => Promise<T>, options: AcquireOptions): Promise<T> {
    const lease = await this.acquire(options);
    try {
      return await fn(lease);
    } finally {
      await lease.release().catch(() => false);
    }
  }

  /** The stored lease of this lock, whoever holds it, live or expired; undefined when free. */
  async holder(): Promise<Omit<LeaseRow, 'name'> | undefined> {
    try {
      const row = await readLease(this.#db, this.name);
      return row === undefined
        ? undefined
        : { owner: row.owner, acquiredAtMs: row.acquiredAtMs, expiresAtMs: row.expiresAtMs };
    } catch (error) {
      throw toDatabaseError(error, this.#db.target);
    }
  }

  #toLease(row: LeaseRow, wake: Promise<WakeHold | undefined> | undefined): Lease {
    const db = this.#db;
    /** The hold once taken: undefined while it is being taken (or when there is none), null if it failed. */
    let wakeHeld: WakeHold | null | undefined;
    void wake?.then((hold) => {
      wakeHeld = hold ?? null;
    });
    return {
      ...row,
      async release() {
        try {
          return await releaseLease(db, row);
        } catch (error) {
          throw toDatabaseError(error, db.target);
        } finally {
          // After the lease row is gone, so that a waiter that wakes finds the lock free. A hold still being
          // taken (a lease given back at once) is ended when it is taken, without making the release wait.
          if (wake !== undefined) {
            if (wakeHeld === undefined) void wake.then((hold) => hold?.end());
            else await wakeHeld?.end();
          }
        }
      },
      async isHeld() {
        try {
          return await isLeaseHeld(db, row);
        } catch (error) {
          throw toDatabaseError(error, db.target);
        }
      },
    };
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../backoff.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import { toDatabaseError } from '../db/driver-errors.ts';
import { AlarmboxError } from '../errors.ts';
import { isoOfDbTime, LockWaitTimeoutError } from './errors.ts';
import {
  type InspectedLease,
  type LeaseRow,
  MAX_LEASE_MS,
  readLease,
  releaseLease,
  renewLease,
  tryTakeLease,
} from './lease-sql.ts';
import { defaultOwnerId, isDeadLocalOwner, MAX_OWNER_LENGTH } from './owner-id.ts';

/** A held lock. Times are epoch milliseconds on the database's clock. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly acquiredAtMs: number;
  /** When the lease expires unless renewed (as taken; {@link renew} moves it). */
  readonly expiresAtMs: number;
  /** Gives the lock back. False when it was no longer ours (expired, or taken over by another owner). */
  release(): Promise<boolean>;
  /** Extends the lease to a whole `leaseMs` from now. False when it was no longer ours. */
  renew(): Promise<boolean>;
}

export interface LockManagerOptions {
  /** The lock's name, e.g. `TokenService.LOCK_NAME`. At most 191 characters. */
  readonly name: string;
  /**
   * How long a lease lasts unless released or renewed: how long a holder that vanished blocks others. At most
   * `MAX_LEASE_MS` (30 min): a lease ending later than that is taken for an impossible one and taken over.
   */
  readonly leaseMs: number;
  /**
   * What a holder of this lock does, in Japanese, for the message of a wait that timed out
   * (`トークンを更新中` → 他のプロセスがトークンを更新中のため…).
   */
  readonly purpose?: string | undefined;
  /** Who holds the lease, as stored in the table. Default `host:pid:machine.random`, unique per LockManager. */
  readonly ownerId?: string;
  /** The longest pause between attempts while waiting (default 50 ms; the first pauses are a few ms). */
  readonly pollMs?: number;
}

export interface AcquireOptions {
  /** How long to keep trying before {@link LockWaitTimeoutError}. 0 = a single attempt. */
  readonly waitMs: number;
  readonly signal?: AbortSignal | undefined;
}

const MAX_NAME_LENGTH = 191;
/** The first pause's ceiling: a lease is often held for milliseconds only. */
const FIRST_POLL_MS = 4;
const DEFAULT_POLL_MS = 50;

/**
 * The guide's `LockManager(name, parallelism=1)`: a lease row in `alarmbox_locks` of the same database, so
 * it excludes other threads, processes and hosts alike. Not re-entrant: a second acquire waits even with the
 * same owner. A lease whose holder is a dead process of this machine is taken over at once; any other
 * holder's lease is waited out until it is released or expires (database clock).
 */
export class LockManager {
  readonly name: string;
  readonly leaseMs: number;
  #ownerId: string | undefined;
  readonly #db: DatabaseHandle;
  readonly #pollMs: number;
  readonly #purpose: string | undefined;

  /** Who this manager's leases name as their holder (`host:pid:machine.random`), made on first use. */
  get ownerId(): string {
    this.#ownerId ??= defaultOwnerId();
    return this.#ownerId;
  }

  constructor(db: DatabaseHandle, options: LockManagerOptions) {
    const { name, leaseMs, ownerId, pollMs = DEFAULT_POLL_MS } = options;
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new AlarmboxError(`lock name must be 1..${MAX_NAME_LENGTH} characters`, { reason: 'unexpected' });
    }
    if (ownerId !== undefined && (ownerId.length === 0 || ownerId.length > MAX_OWNER_LENGTH)) {
      throw new AlarmboxError(`ownerId must be 1..${MAX_OWNER_LENGTH} characters`, { reason: 'unexpected' });
    }
    if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0 || leaseMs > MAX_LEASE_MS) {
      throw new AlarmboxError(`leaseMs must be an integer in 1..${MAX_LEASE_MS}`, { reason: 'unexpected' });
    }
    if (!(pollMs > 0)) throw new AlarmboxError('pollMs must be positive', { reason: 'unexpected' });
    this.#db = db;
    this.name = name;
    this.#ownerId = ownerId;
    this.leaseMs = leaseMs;
    this.#pollMs = pollMs;
    this.#purpose = options.purpose;
  }

  /**
   * Takes the lock, polling with a growing, jittered pause (src/backoff.ts) until `waitMs` has passed.
   * @throws LockWaitTimeoutError ('lock_timeout'), DatabaseUnavailableError, MigrationsPendingError, or the
   *   signal's reason when aborted.
   */
  async acquire(options: AcquireOptions): Promise<Lease> {
    // Nothing settles this wait (`never`): it ends with the lease or throws.
    const waited = await this.acquireUnless<never>(async () => undefined, options);
    return (waited as { lease: Lease }).lease;
  }

  /**
   * Takes the lock, or ends the wait as soon as `settled` finds what the lease was wanted for (another
   * process did the work meanwhile): the one wait loop of every lease. `settled` runs after each pause,
   * before the next attempt; its failures count as "not yet" (the next attempt reports a lost database).
   * @throws as {@link acquire}
   */
  async acquireUnless<T>(
    settled: () => Promise<T | undefined>,
    options: AcquireOptions,
  ): Promise<{ lease: Lease } | { settled: T }> {
    const { waitMs, signal } = options;
    if (!(waitMs >= 0) || !Number.isFinite(waitMs)) {
      throw new AlarmboxError('waitMs must be a finite number >= 0', { reason: 'unexpected' });
    }
    // Our own wait budget is measured on the local monotonic clock; only lease expiry needs the database's.
    const deadline = performance.now() + waitMs;
    const backoff = { firstMs: Math.min(FIRST_POLL_MS, this.#pollMs), maxMs: this.#pollMs };
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const lease = await this.tryAcquire();
      if (lease !== undefined) return { lease };
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        // Named in the message (owner ids are `host:pid:…`, no secret): whom to look at, and until when.
        const holder = await this.holder().catch(() => undefined);
        throw new LockWaitTimeoutError(this.name, waitMs, this.#purpose, holder);
      }
      await sleep(Math.min(backoffDelayMs(attempt, backoff), remaining), undefined, { signal }).catch(
        (error: unknown) => {
          signal?.throwIfAborted();
          throw error;
        },
      );
      const done = await settled().catch(() => undefined);
      if (done !== undefined) return { settled: done };
    }
  }

  /**
   * One attempt, no waiting: the lease, or undefined while another owner holds a live one.
   * @throws DatabaseUnavailableError, MigrationsPendingError
   */
  async tryAcquire(): Promise<Lease | undefined> {
    let taken: Awaited<ReturnType<typeof tryTakeLease>>;
    try {
      taken = await tryTakeLease(this.#db, this.name, this.ownerId, this.leaseMs, isDeadLocalOwner);
    } catch (error) {
      throw toDatabaseError(error, this.#db.target);
    }
    if (taken === undefined) return undefined;
    if (taken.replaced?.state === 'impossible') warnImpossibleTakeover(taken.replaced, taken.lease);
    return this.#toLease(taken.lease);
  }

  /** The stored lease of this lock, whoever holds it, live, expired or impossible; undefined when free. */
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

  #toLease(row: LeaseRow): Lease {
    const db = this.#db;
    const leaseMs = this.leaseMs;
    const run = async <T>(statement: () => Promise<T>): Promise<T> => {
      try {
        return await statement();
      } catch (error) {
        throw toDatabaseError(error, db.target);
      }
    };
    return {
      ...row,
      release: () => run(() => releaseLease(db, row)),
      renew: () => run(() => renewLease(db, row, leaseMs)),
    };
  }
}

/**
 * A lease that ended impossibly far away was taken over: said on the process's warnings (stderr unless the
 * application listens for `process.on('warning')`), with the holder's owner id so that a person can find out
 * who wrote it, and the database clock checked.
 */
function warnImpossibleTakeover(replaced: InspectedLease, lease: LeaseRow): void {
  process.emitWarning(
    `ロック "${replaced.name}" の保持者 ${replaced.owner} の期限 (${isoOfDbTime(replaced.expiresAtMs)}) が、` +
      `データベースの現在時刻 (${isoOfDbTime(lease.acquiredAtMs)}) から、このパッケージが与える最長の期限 ${MAX_LEASE_MS / 60_000} 分より先でした。` +
      'データベースの時計が戻されたか、手で作られた行のため、期限切れとみなして引き継ぎました。' +
      'データベースサーバーの時刻 (NTP) と、alarmbox_locks を書き換える処理がないか確認してください。',
    { code: 'ALARMBOX_LEASE_IMPOSSIBLE' },
  );
}

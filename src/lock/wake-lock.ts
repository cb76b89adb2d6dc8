// Waking a lease's waiters on MariaDB and PostgreSQL, on every host, the moment its holder is done.
//
// A waiter that sleeps between looks at the lease learns of a release up to one sleep late. MariaDB cannot
// tell another connection that something changed, and PostgreSQL's LISTEN needs a connection of its own (one
// more per app instance, opened at the very moment every instance meets the expiry, and deaf behind a
// transaction-mode pgbouncer). But both make a lock request wait for the transaction that holds the lock.
// So the holder of lease `X` also keeps a database lock, its wake lock, in an open transaction until it has
// released the lease, and a waiter asks for that lock in shared mode instead of sleeping: the holder's COMMIT
// grants it to every waiter at once. The wake lock is
// - PostgreSQL: a transaction-level advisory lock (pg_advisory_xact_lock), keyed by the lock's name. It
//   writes nothing: no transaction id, no WAL, no fsync at commit.
// - MariaDB: a row lock on the row `wake:X` of `alarmbox_locks` (InnoDB keeps row locks in memory only).
// Both belong to one transaction, so they also work through a transaction-mode pooler.
//
// A wake is only a hint to look again. The lease row, taken and released by its own statements on the
// database's clock, stays the only authority, and nothing here can hold up taking it: a waiter blocks for
// a bounded time, a new holder that finds the wake lock still held (by a frozen holder whose lease expired)
// goes on without it, and every failure here (no wake row yet, a lock timeout, a lost connection) leaves the
// waiter to its poll.
import { type ControlledTransaction, sql } from 'kysely';
import type { DatabaseHandle } from '../db/connection.ts';
import { type AlarmboxSchema, LOCKS_TABLE } from '../db/schema.ts';

/**
 * The longest a waiter blocks before it looks at the lease again (a frozen holder's lease expiring, its own
 * deadline), and the longest a new holder waits for a frozen one's wake lock. MariaDB counts lock waits in
 * whole seconds (`WAIT 0.5` means NOWAIT), so one second is also the shortest block there.
 */
export const WAKE_BLOCK_MS = 1_000;

/**
 * Connections a pool needs before the wake lock is used: the holder pins one for its transaction and a
 * waiter in the same process one for its block, and the refresh itself must still find one free. Smaller
 * pools poll.
 */
export const WAKE_MIN_POOL_SIZE = 3;

/**
 * Connections of each pool that wake locks keep busy now (holds, and blocked waits). They never take the
 * last one: a process holding more leases at once than its pool can spare goes on without wake locks for the
 * rest, instead of leaving its own queries no connection to finish the work and release.
 */
const pinnedConnections = new WeakMap<DatabaseHandle, number>();

function pin(handle: DatabaseHandle): boolean {
  const pinned = pinnedConnections.get(handle) ?? 0;
  if (pinned >= handle.poolSize - 1) return false;
  pinnedConnections.set(handle, pinned + 1);
  return true;
}

function unpin(handle: DatabaseHandle): void {
  pinnedConnections.set(handle, Math.max(0, (pinnedConnections.get(handle) ?? 0) - 1));
}

/** Whether `handle` can wake waiters this way (a server database with a pool large enough to pin). */
export function canUseWakeLock(handle: DatabaseHandle): boolean {
  return handle.dialect !== 'sqlite' && handle.poolSize >= WAKE_MIN_POOL_SIZE;
}

/** MariaDB's wake row of `lockName`. Never a lease: nobody takes a lock of that name. */
export function wakeRowName(lockName: string): string {
  return `wake:${lockName}`;
}

/** The first half of PostgreSQL's advisory keys: this toolkit's, so that other advisory lock users rarely collide. */
const ADVISORY_CLASS = 'alarmbox-auth:wake';

/** PostgreSQL's advisory key of `lockName`: two int4 hashes (the toolkit's, the name's), 64 bits in all. */
function advisoryKey(lockName: string) {
  return sql`hashtext(${ADVISORY_CLASS}), hashtext(${lockName})`;
}

/**
 * Makes the wake lock of `lockName` usable: on MariaDB, creates its row if missing (once per lock and
 * process is enough, the row is never deleted). Best effort, like everything here.
 */
export async function prepareWakeLock(handle: DatabaseHandle, lockName: string): Promise<void> {
  if (handle.dialect !== 'mysql') return;
  const row = { name: wakeRowName(lockName), owner: '', acquired_at_ms: 0, expires_at_ms: 0 };
  try {
    // IGNORE: the row exists already (or, in a non-strict sql_mode, a too long name is cut, and then the
    // hold below finds no row of its name and goes on without a wake lock).
    await handle.db.insertInto(LOCKS_TABLE).values(row).ignore().execute();
  } catch {
    // A lost connection: waiters poll.
  }
}

/** The holder's side: the wake lock, held by an open transaction until {@link WakeHold.end}. */
export interface WakeHold {
  /** Commits, waking every waiter. Never throws; safe to call more than once. */
  end(): Promise<void>;
}

/**
 * Takes the wake lock of `lockName` for the holder of its lease, until `end()` or, at the latest, after
 * `maxMs` (the lease's length: after that the lease means nothing, and the transaction must not outlive it).
 * Undefined when it cannot be had within {@link WAKE_BLOCK_MS} (a frozen former holder still keeps it), when
 * the pool has no connection to spare for it, or at all: the lease is held all the same, and its waiters poll.
 */
export async function holdWakeLock(
  handle: DatabaseHandle,
  lockName: string,
  maxMs: number,
): Promise<WakeHold | undefined> {
  if (!pin(handle)) return undefined;
  let trx: ControlledTransaction<AlarmboxSchema>;
  try {
    trx = await handle.db.startTransaction().execute();
  } catch {
    unpin(handle);
    return undefined;
  }
  try {
    if (handle.dialect === 'mysql') {
      const { rows } =
        await sql`select name from ${sql.table(LOCKS_TABLE)} where name = ${wakeRowName(lockName)}
        for update wait ${sql.lit(WAKE_BLOCK_MS / 1000)}`.execute(trx);
      // No row (prepareWakeLock failed): nothing is locked, so nothing would wake anybody.
      if (rows.length === 0) throw new Error('no wake row');
    } else {
      await sql.raw(`set local lock_timeout = '${WAKE_BLOCK_MS}ms'`).execute(trx);
      await sql`select pg_advisory_xact_lock(${advisoryKey(lockName)})`.execute(trx);
    }
  } catch {
    await trx
      .rollback()
      .execute()
      .catch(() => undefined);
    unpin(handle);
    return undefined;
  }
  let ending: Promise<void> | undefined;
  const end = (): Promise<void> => {
    ending ??= (async () => {
      clearTimeout(timer);
      // A failed commit (the connection lost) keeps Kysely's connection checked out, and the pool could
      // then never close: a rollback always gives it back.
      await trx
        .commit()
        .execute()
        .catch(() => trx.rollback().execute())
        .catch(() => undefined);
      unpin(handle);
    })();
    return ending;
  };
  // unref: a lease that is never released must not keep the process alive either.
  const timer = setTimeout(() => void end(), maxMs);
  timer.unref();
  return { end };
}

/**
 * What one wait on the wake lock found: `free` (nobody holds it, so there was nothing to wait for),
 * `released` (its holder committed while we waited), `timeout` (still held after `blockMs`), or `unknown`
 * (the wait could not be made: a block shorter than MariaDB can express, a database error).
 */
export type WakeWait = 'free' | 'released' | 'timeout' | 'unknown';

/**
 * Waits, for at most `blockMs`, until nobody holds the wake lock of `lockName`. One statement at a time, each
 * its own transaction: a waiter never keeps what a holder waits for longer than one statement.
 */
export async function waitOnWakeLock(
  handle: DatabaseHandle,
  lockName: string,
  blockMs: number,
): Promise<WakeWait> {
  // First, without waiting: whether anyone holds it at all.
  const probed = await probe(handle, lockName);
  if (probed !== 'held') return probed;
  // The blocked statement keeps its connection until the holder commits: not the pool's last one.
  if (!pin(handle)) return 'unknown';
  try {
    await block(handle, lockName, blockMs);
    return 'released';
  } catch (error) {
    return isLockNotAvailable(error) ? 'timeout' : 'unknown';
  } finally {
    unpin(handle);
  }
}

async function probe(handle: DatabaseHandle, lockName: string): Promise<'free' | 'held' | 'unknown'> {
  try {
    if (handle.dialect === 'mysql') {
      await sql`select name from ${sql.table(LOCKS_TABLE)} where name = ${wakeRowName(lockName)}
        lock in share mode nowait`.execute(handle.db);
      return 'free';
    }
    // The shared lock, if granted, ends with this statement's own transaction.
    const { rows } = await sql<{
      free: boolean;
    }>`select pg_try_advisory_xact_lock_shared(${advisoryKey(lockName)}) as free`.execute(handle.db);
    return rows[0]?.free === true ? 'free' : 'held';
  } catch (error) {
    return isLockNotAvailable(error) ? 'held' : 'unknown';
  }
}

/** @throws the lock timeout (see {@link isLockNotAvailable}) when the holder keeps it `blockMs` longer. */
async function block(handle: DatabaseHandle, lockName: string, blockMs: number): Promise<void> {
  if (handle.dialect === 'mysql') {
    const seconds = Math.floor(blockMs / 1000);
    // MariaDB waits whole seconds only, and WAIT 0 would be NOWAIT: too short to block, so do not.
    if (seconds < 1) throw new RangeError('MariaDB cannot block for less than a second');
    await sql`select name from ${sql.table(LOCKS_TABLE)} where name = ${wakeRowName(lockName)}
      lock in share mode wait ${sql.lit(seconds)}`.execute(handle.db);
    return;
  }
  // One statement: a DO block runs in a transaction of its own, to which set_config(…, true) gives its
  // lock_timeout, and a lock it waited for is released when it ends. A DO block takes no parameters, so the
  // name is written as a literal; one with a `$` could end the dollar-quoted body early, and is not blocked on.
  if (lockName.includes('$')) throw new RangeError('a lock name with "$" cannot be written into a DO block');
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  await sql
    .raw(
      `do $wake$ begin perform set_config('lock_timeout', '${Math.max(1, Math.floor(blockMs))}ms', true); ` +
        `perform pg_advisory_xact_lock_shared(hashtext(${literal(ADVISORY_CLASS)}), hashtext(${literal(lockName)})); ` +
        'end $wake$',
    )
    .execute(handle.db);
}

/**
 * A lock wait that gave up: PostgreSQL's `lock_not_available` (55P03, lock_timeout), MariaDB's
 * ER_LOCK_WAIT_TIMEOUT (1205, NOWAIT and WAIT n alike), MySQL 8's ER_LOCK_NOWAIT (3572).
 */
function isLockNotAvailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return code === '55P03' || errno === 1205 || errno === 3572;
}

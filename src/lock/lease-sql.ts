import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/connection.ts';
import { LOCKS_TABLE } from '../db/schema.ts';
import { AlarmboxError } from '../errors.ts';

// The statements behind a lease, one per step, each atomic on its own. The row of a lease is identified by
// name + owner + acquired_at_ms, so an owner that re-acquires after its own lease expired never confuses
// the new lease with the old one.

export interface LeaseRow {
  readonly name: string;
  readonly owner: string;
  /** Database clock, epoch ms. */
  readonly acquiredAtMs: number;
  /** Database clock, epoch ms. */
  readonly expiresAtMs: number;
}

/**
 * One attempt: insert the row if there is none, or take it over when the current lease has expired by the
 * database's clock or `isDeadOwner` says its holder is gone. Returns the lease now held, or undefined when
 * another owner holds a live one.
 */
export async function tryTakeLease(
  handle: DatabaseHandle,
  name: string,
  owner: string,
  leaseMs: number,
  isDeadOwner: (owner: string) => boolean,
): Promise<LeaseRow | undefined> {
  // One statement reads the database's clock and the current lease: one round trip for every waiter's look,
  // however many are looking. That one clock reading serves the comparison and the new row, so the lease we
  // report is exactly the stored one. Read before the write, it can only make us see an expiring lease as live
  // a little longer: never the opposite.
  const { now, current } = await readNowAndLease(handle, name);
  const lease: LeaseRow = { name, owner, acquiredAtMs: now, expiresAtMs: now + leaseMs };
  const values = { owner, acquired_at_ms: lease.acquiredAtMs, expires_at_ms: lease.expiresAtMs };

  // Look before writing: while a live lease is held, waiters only read. On SQLite every write takes the
  // one database-wide write lock, and a crowd of waiters writing to learn "still held" would queue behind
  // each other in SQLite's busy handler, slowing the holder's own save too.
  if (current !== undefined && current.expiresAtMs >= now && !isDeadOwner(current.owner)) return undefined;
  if (current === undefined) {
    // Lost the race to insert: someone took it a moment ago, and it is live.
    return (await handle.adapter.insertLeaseIfAbsent(handle.db, { name, ...values })) ? lease : undefined;
  }

  // A single UPDATE of exactly the lease we looked at (expired, or its holder dead): the database's row lock
  // lets one of several racing takers win, and a lease renewed or taken meanwhile is left alone.
  const taken = await handle.db
    .updateTable(LOCKS_TABLE)
    .set(values)
    .where('name', '=', name)
    .where('owner', '=', current.owner)
    .where('acquired_at_ms', '=', current.acquiredAtMs)
    .where('expires_at_ms', '=', current.expiresAtMs)
    .executeTakeFirst();
  return taken.numUpdatedRows > 0n ? lease : undefined;
}

/**
 * Pushes a live lease's expiry to `leaseMs` from now (database clock). False when it is no longer ours
 * (expired, taken over): a lease is never brought back to life.
 */
export async function renewLease(handle: DatabaseHandle, lease: LeaseRow, leaseMs: number): Promise<boolean> {
  const now = handle.adapter.nowMs();
  const renewed = await handle.db
    .updateTable(LOCKS_TABLE)
    .set({ expires_at_ms: sql<number>`${now} + ${leaseMs}` })
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .where('expires_at_ms', '>=', now)
    .executeTakeFirst();
  return renewed.numUpdatedRows > 0n;
}

/**
 * Deletes the lease if it is still ours and live. Returns false when it had expired (then anyone could
 * have taken it) or belongs to someone else now; another owner's row is never touched.
 */
export async function releaseLease(handle: DatabaseHandle, lease: LeaseRow): Promise<boolean> {
  const live = await handle.db
    .deleteFrom(LOCKS_TABLE)
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .where('expires_at_ms', '>=', handle.adapter.nowMs())
    .executeTakeFirst();
  if (live.numDeletedRows > 0n) return true;
  // Ours but expired and not taken over: tidy it up, and still report that we no longer held it.
  await handle.db
    .deleteFrom(LOCKS_TABLE)
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .execute();
  return false;
}

/** The database's clock and the stored lease of `name` (if any), in one statement. */
async function readNowAndLease(
  handle: DatabaseHandle,
  name: string,
): Promise<{ now: number; current: LeaseRow | undefined }> {
  const { rows } = await sql<{
    now_ms: number;
    owner: string | null;
    acquired_at_ms: number | null;
    expires_at_ms: number | null;
  }>`select ${handle.adapter.nowMs()} as now_ms, l.owner, l.acquired_at_ms, l.expires_at_ms
     from (select 1 as one) as clock left join ${sql.table(LOCKS_TABLE)} as l on l.name = ${name}`.execute(
    handle.db,
  );
  const row = rows[0];
  const now = row?.now_ms;
  if (typeof now !== 'number' || !Number.isSafeInteger(now)) {
    throw new AlarmboxError(`database clock returned ${typeof now}`, { reason: 'unexpected' });
  }
  if (row?.owner == null || row.acquired_at_ms == null || row.expires_at_ms == null) {
    return { now, current: undefined };
  }
  return {
    now,
    current: { name, owner: row.owner, acquiredAtMs: row.acquired_at_ms, expiresAtMs: row.expires_at_ms },
  };
}

/** Whether this exact lease is still stored and not expired by the database's clock. */
export async function isLeaseHeld(handle: DatabaseHandle, lease: LeaseRow): Promise<boolean> {
  const row = await handle.db
    .selectFrom(LOCKS_TABLE)
    .select('name')
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .where('expires_at_ms', '>=', handle.adapter.nowMs())
    .executeTakeFirst();
  return row !== undefined;
}

/** The stored lease of `name`, live or expired, if any (for status output and diagnostics). */
export async function readLease(handle: DatabaseHandle, name: string): Promise<LeaseRow | undefined> {
  const row = await handle.db
    .selectFrom(LOCKS_TABLE)
    .select(['name', 'owner', 'acquired_at_ms', 'expires_at_ms'])
    .where('name', '=', name)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    name: row.name,
    owner: row.owner,
    acquiredAtMs: row.acquired_at_ms,
    expiresAtMs: row.expires_at_ms,
  };
}

import type { DatabaseHandle } from '../db/connection.ts';
import { kysely } from '../db/kysely-runtime.ts';
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
 * The longest lease this package grants: the refresh lease lasts three HTTP timeouts (src/create.ts),
 * at most 3 × 10 min; the job lease 24 s. No lease of ours, however renewed, ever ends later than this after
 * the database's now, so one that does was not made by a holder of this package following its rules: the
 * database clock was stepped back while it was held, or the row was written by hand. Such a lease is taken
 * as expired ({@link LeaseState} `impossible`) instead of blocking every taker until the far-away expiry.
 */
export const MAX_LEASE_MS = 30 * 60_000;

/**
 * What the database says of a stored lease, by its own clock: `live`, `expired`, or `impossible` (it ends
 * more than {@link MAX_LEASE_MS} from now). Decided in SQL, so every database and every taker agree.
 */
export type LeaseState = 'live' | 'expired' | 'impossible';

/** A stored lease with its state (diagnostics, `doctor`). */
export interface InspectedLease extends LeaseRow {
  readonly state: LeaseState;
}

/** How a lease was taken: `replaced` is the lease it took over, when it took one over (not a free row). */
export interface TakenLease {
  readonly lease: LeaseRow;
  readonly replaced?: InspectedLease | undefined;
}

/**
 * One attempt: insert the row if there is none, or take it over when the current lease has expired by the
 * database's clock, ends impossibly far away ({@link MAX_LEASE_MS}), or `isDeadOwner` says its holder is
 * gone. Returns the lease now held, or undefined when another owner holds a live one.
 */
export async function tryTakeLease(
  handle: DatabaseHandle,
  name: string,
  owner: string,
  leaseMs: number,
  isDeadOwner: (owner: string) => boolean,
): Promise<TakenLease | undefined> {
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
  if (current?.state === 'live' && !isDeadOwner(current.owner)) return undefined;
  if (current === undefined) {
    // Lost the race to insert: someone took it a moment ago, and it is live.
    return (await handle.adapter.insertLeaseIfAbsent(await handle.open(), { name, ...values }))
      ? { lease }
      : undefined;
  }

  // A single UPDATE of exactly the lease we looked at, still in the state that let us take it: the database's
  // row lock lets one of several racing takers win, and a lease renewed or taken meanwhile is left alone. An
  // expired or impossible lease is matched by that state, re-checked on the database's clock (its stored
  // numbers may be anything a hand-made row holds); a dead holder's live lease by its exact times.
  let update = (await handle.open())
    .updateTable(LOCKS_TABLE)
    .set(values)
    .where('name', '=', name)
    .where('owner', '=', current.owner);
  const nowMs = handle.adapter.nowMs();
  if (current.state === 'expired') update = update.where('expires_at_ms', '<', nowMs);
  else if (current.state === 'impossible')
    update = update.where('expires_at_ms', '>', kysely().sql<number>`${nowMs} + ${MAX_LEASE_MS}`);
  else {
    update = update
      .where('acquired_at_ms', '=', current.acquiredAtMs)
      .where('expires_at_ms', '=', current.expiresAtMs);
  }
  const taken = await update.executeTakeFirst();
  return taken.numUpdatedRows > 0n ? { lease, replaced: current } : undefined;
}

/**
 * Pushes a live lease's expiry to `leaseMs` from now (database clock). False when it is no longer ours
 * (expired, taken over): a lease is never brought back to life.
 */
export async function renewLease(handle: DatabaseHandle, lease: LeaseRow, leaseMs: number): Promise<boolean> {
  const now = handle.adapter.nowMs();
  const renewed = await (await handle.open())
    .updateTable(LOCKS_TABLE)
    .set({ expires_at_ms: kysely().sql<number>`${now} + ${leaseMs}` })
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
  const live = await (await handle.open())
    .deleteFrom(LOCKS_TABLE)
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .where('expires_at_ms', '>=', handle.adapter.nowMs())
    .executeTakeFirst();
  if (live.numDeletedRows > 0n) return true;
  // Ours but expired and not taken over: tidy it up, and still report that we no longer held it.
  await (await handle.open())
    .deleteFrom(LOCKS_TABLE)
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('acquired_at_ms', '=', lease.acquiredAtMs)
    .execute();
  return false;
}

/**
 * The stored numbers of a lease as the database hands them over, clamped to the integers JavaScript holds
 * exactly: a hand-made row may hold anything its column type allows (pg refuses to read an int8 beyond 2^53,
 * SQLite stores text in any column), and such a lease must still be seen, judged and taken over.
 */
function clamped(column: 'acquired_at_ms' | 'expires_at_ms') {
  const ref = kysely().sql.ref(`l.${column}`);
  return kysely()
    .sql<number>`case when ${ref} > ${Number.MAX_SAFE_INTEGER} then ${Number.MAX_SAFE_INTEGER} when ${ref} < ${-Number.MAX_SAFE_INTEGER} then ${-Number.MAX_SAFE_INTEGER} else ${ref} end`;
}

/** The state of the lease `l` at `clock.now_ms`, decided by the database (see {@link LeaseState}). */
function stateOf() {
  return kysely()
    .sql<LeaseState>`case when l.expires_at_ms < clock.now_ms then 'expired' when l.expires_at_ms > clock.now_ms + ${MAX_LEASE_MS} then 'impossible' else 'live' end`;
}

interface LeaseQueryRow {
  now_ms: number;
  name: string | null;
  owner: string | null;
  acquired_at_ms: number | null;
  expires_at_ms: number | null;
  state: LeaseState | null;
}

/** The database's clock and the leases `where` selects (all, or one name), in one statement. */
async function queryLeases(
  handle: DatabaseHandle,
  name: string | undefined,
): Promise<{ now: number; leases: InspectedLease[] }> {
  const db = await handle.open();
  const { sql } = kysely();
  const on = name === undefined ? sql`1 = 1` : sql`l.name = ${name}`;
  // The clock is read once, in a derived table: PostgreSQL's clock_timestamp() moves within a statement.
  const { rows } = await sql<LeaseQueryRow>`select clock.now_ms, l.name, l.owner,
       ${clamped('acquired_at_ms')} as acquired_at_ms, ${clamped('expires_at_ms')} as expires_at_ms,
       ${stateOf()} as state
     from (select ${handle.adapter.nowMs()} as now_ms) as clock
     left join ${sql.table(LOCKS_TABLE)} as l on ${on}`.execute(db);
  const now = Number(rows[0]?.now_ms);
  if (!Number.isSafeInteger(now)) {
    throw new AlarmboxError(`database clock returned ${typeof rows[0]?.now_ms}`, { reason: 'unexpected' });
  }
  const leases: InspectedLease[] = [];
  for (const row of rows) {
    if (row.name == null || row.owner == null || row.state == null) continue;
    leases.push({
      name: row.name,
      owner: row.owner,
      // SQLite hands back whatever a hand-made row holds (text, a real): NaN is still an impossible lease.
      acquiredAtMs: Number(row.acquired_at_ms),
      expiresAtMs: Number(row.expires_at_ms),
      state: row.state,
    });
  }
  return { now, leases };
}

/** The database's clock and the stored lease of `name` (if any), in one statement. */
async function readNowAndLease(
  handle: DatabaseHandle,
  name: string,
): Promise<{ now: number; current: InspectedLease | undefined }> {
  const { now, leases } = await queryLeases(handle, name);
  return { now, current: leases[0] };
}

/**
 * Every stored lease with its state, and the database's clock they were judged by (epoch ms): for `doctor`,
 * which shows who holds what and flags leases that cannot be right.
 */
export async function inspectLeases(
  handle: DatabaseHandle,
): Promise<{ nowMs: number; leases: InspectedLease[] }> {
  const { now, leases } = await queryLeases(handle, undefined);
  return { nowMs: now, leases };
}

/** The stored lease of `name`, live, expired or impossible, if any (for status output and diagnostics). */
export async function readLease(handle: DatabaseHandle, name: string): Promise<InspectedLease | undefined> {
  return (await readNowAndLease(handle, name)).current;
}

// The wake lock (src/lock/wake-lock.ts): a lease holder's hint to its waiters on MariaDB and PostgreSQL. What
// matters is what it must never do: hold up a lease, outlive the lease, or keep a connection it was not meant
// to. (That a release wakes a waiter in another process: cross-process.test.ts.)
import { beforeAll, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import {
  canUseWakeLock,
  holdWakeLock,
  prepareWakeLock,
  WAKE_BLOCK_MS,
  WAKE_MIN_POOL_SIZE,
  waitOnWakeLock,
} from '../../src/lock/wake-lock.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { lockRowOne } from '../support/row-lock.ts';

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work;
  return { value, ms: performance.now() - start };
}

describeEachDatabase('wake lock', (fixture) => {
  beforeAll(() => migrateToLatest(fixture.handle));

  if (fixture.kind === 'sqlite') {
    it('is not used on SQLite (announcements wake its waiters)', () => {
      expect(canUseWakeLock(fixture.handle)).toBe(false);
    });
    return;
  }

  it(`is used only with a pool of ${WAKE_MIN_POOL_SIZE} connections or more, so a pinned one never starves the refresh`, async () => {
    expect(canUseWakeLock(fixture.handle)).toBe(true);
    const small = fixture.open({ poolSize: WAKE_MIN_POOL_SIZE - 1 });
    expect(canUseWakeLock(small)).toBe(false);
    const lease = await new LockManager(small, { name: 'small-pool', leaseMs: 30_000 }).acquire({
      waitMs: 1_000,
    });
    try {
      // No hold was taken, so a waiter has nothing to block on.
      await new Promise((r) => setTimeout(r, 200));
      expect(await waitOnWakeLock(fixture.handle, 'small-pool', WAKE_BLOCK_MS)).toBe('free');
    } finally {
      await lease.release();
    }
  });

  it("never takes a pool's last connection: more leases at once than the pool can spare go on without wake locks", async () => {
    const handle = fixture.open({ poolSize: WAKE_MIN_POOL_SIZE });
    const names = ['spare-a', 'spare-b', 'spare-c'];
    const leases = await Promise.all(
      names.map((name) => new LockManager(handle, { name, leaseMs: 30_000 }).acquire({ waitMs: 1_000 })),
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      const found = await Promise.all(names.map((name) => waitOnWakeLock(fixture.handle, name, 0)));
      // Two of the three connections are pinned by holds (which two depends on the race), none more.
      expect(found.filter((f) => f === 'free')).toHaveLength(1);
      // And the pool still answers its own queries at once.
      expect((await timed(handle.ping())).ms).toBeLessThan(500);
    } finally {
      await Promise.all(leases.map((lease) => lease.release()));
    }
  });

  it('a hold ends by itself when the lease would have expired, waking its waiters', async () => {
    await prepareWakeLock(fixture.handle, 'forgotten');
    const hold = await holdWakeLock(fixture.handle, 'forgotten', 300);
    expect(hold).toBeDefined();
    const waited = await timed(waitOnWakeLock(fixture.handle, 'forgotten', WAKE_BLOCK_MS));
    expect(waited.value).toBe('released');
    expect(waited.ms).toBeLessThan(WAKE_BLOCK_MS - 100);
    await hold?.end();
    await hold?.end();
  });

  it('a second holder gives up on a held wake lock after WAKE_BLOCK_MS instead of waiting for it', async () => {
    await prepareWakeLock(fixture.handle, 'frozen');
    const frozen = await holdWakeLock(fixture.handle, 'frozen', 30_000);
    try {
      const second = await timed(holdWakeLock(fixture.handle, 'frozen', 30_000));
      expect(second.value).toBeUndefined();
      expect(second.ms).toBeGreaterThanOrEqual(WAKE_BLOCK_MS - 50);
      expect(second.ms).toBeLessThan(WAKE_BLOCK_MS + 1_500);
    } finally {
      await frozen?.end();
    }
    // Ended: free for the next holder at once.
    const next = await timed(holdWakeLock(fixture.handle, 'frozen', 30_000));
    expect(next.value).toBeDefined();
    expect(next.ms).toBeLessThan(500);
    await next.value?.end();
  });

  it("a lease taken over from a frozen holder is held up by neither the frozen holder's wake lock nor its own", async () => {
    // A frozen process (SIGSTOP, a paused VM) keeps its transaction, and so its wake lock, open past its
    // lease: its timer cannot run. Here: a hold that outlives a 300 ms lease.
    await prepareWakeLock(fixture.handle, 'taken-over');
    const frozenHold = await holdWakeLock(fixture.handle, 'taken-over', 30_000);
    const frozen = new LockManager(fixture.open({ poolSize: 1 }), { name: 'taken-over', leaseMs: 300 });
    const stale = await frozen.acquire({ waitMs: 1_000 });
    try {
      const next = new LockManager(fixture.open(), { name: 'taken-over', leaseMs: 30_000 });
      const taken = await timed(next.acquire({ waitMs: 5_000 }));
      // By the database's clock the lease expired after 300 ms; the open transaction delayed nothing.
      expect(taken.ms).toBeLessThan(1_500);
      expect(taken.value.acquiredAtMs).toBeGreaterThan(stale.expiresAtMs);
      // Its own wake lock cannot be had while the frozen one is held: giving the lease back does not wait for it.
      const released = await timed(taken.value.release());
      expect(released.value).toBe(true);
      expect(released.ms).toBeLessThan(500);
      expect(await stale.release()).toBe(false);
    } finally {
      await frozenHold?.end();
    }
  });

  it("a hold whose connection the database dropped gives it back: the lease's release and the pool's close still end", async () => {
    const handle = fixture.open();
    const lease = await new LockManager(handle, { name: 'dropped', leaseMs: 30_000 }).acquire({
      waitMs: 1_000,
    });
    for (
      let i = 0;
      i < 100 && (await waitOnWakeLock(fixture.handle, 'dropped', WAKE_BLOCK_MS)) === 'free';
      i++
    );
    // A failover, an idle-in-transaction timeout, pg_terminate_backend / KILL: every other connection dies.
    const killer = await lockRowOne(fixture.target);
    try {
      await killer.killOthers();
    } finally {
      await killer.release();
    }
    await lease.release().catch(() => false);
    const closed = await timed(handle.close());
    expect(closed.ms).toBeLessThan(5_000);
  });
});

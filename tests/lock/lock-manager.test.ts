import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BOUNDS } from '../../src/config/config.ts';
import {
  DatabaseUnavailableError,
  LOCKS_TABLE,
  MigrationsPendingError,
  migrateToLatest,
  openDatabase,
  parseDatabaseUrl,
} from '../../src/db/index.ts';
import { AlarmboxError } from '../../src/errors.ts';
import { LockWaitTimeoutError } from '../../src/lock/errors.ts';
import { type Lease, LockManager, MAX_LEASE_MS } from '../../src/lock/index.ts';
import { readLease } from '../../src/lock/lease-sql.ts';
import { isDeadLocalOwner } from '../../src/lock/owner-id.ts';
import { createTestDatabase, describeEachDatabase } from '../support/databases.ts';
import { readDbNowMs } from '../support/db-clock.ts';
import { expectReason, rejectionOf } from '../support/rejections.ts';
import { until } from '../support/until.ts';

describe('LockManager options', () => {
  const handle = openDatabase(parseDatabaseUrl('sqlite::memory:'));
  it.each([
    [{ name: '', leaseMs: 1000 }],
    [{ name: 'x'.repeat(192), leaseMs: 1000 }],
    [{ name: 'x', leaseMs: 0 }],
    [{ name: 'x', leaseMs: 1.5 }],
    // Longer than the longest lease the package grants: every taker would see it as impossible.
    [{ name: 'x', leaseMs: MAX_LEASE_MS + 1 }],
    [{ name: 'x', leaseMs: 1000, ownerId: '' }],
    [{ name: 'x', leaseMs: 1000, ownerId: 'o'.repeat(192) }],
    [{ name: 'x', leaseMs: 1000, pollMs: 0 }],
  ])('refuses %j', (options) => {
    expect(() => new LockManager(handle, options)).toThrow(AlarmboxError);
  });

  it('MAX_LEASE_MS is the longest lease the package grants: three of the largest HTTP timeout', () => {
    // src/create.ts: the refresh lease is 3 × ALARMBOX_HTTP_TIMEOUT_MS (the job lease 24 s).
    expect(MAX_LEASE_MS).toBe(3 * BOUNDS.httpTimeoutMs.max);
    expect(() => new LockManager(handle, { name: 'x', leaseMs: MAX_LEASE_MS })).not.toThrow();
  });

  it('defaults the owner to host:pid:machine.random, different per manager', () => {
    const a = new LockManager(handle, { name: 'x', leaseMs: 1000 });
    const b = new LockManager(handle, { name: 'x', leaseMs: 1000 });
    expect(a.ownerId).toMatch(new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{8}\\.[0-9a-f]{12}$`));
    expect(a.ownerId).not.toBe(b.ownerId);
  });
});

describe('isDeadLocalOwner', () => {
  const own = new LockManager(openDatabase(parseDatabaseUrl('sqlite::memory:')), { name: 'x', leaseMs: 1 });
  const withPid = (pid: number) => own.ownerId.replace(`:${process.pid}:`, `:${pid}:`);

  it('is true only for a process of this machine that no longer exists', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid ?? 0;
    await once(child, 'close');
    expect(isDeadLocalOwner(withPid(pid))).toBe(true);
    // This process, and a process that exists (pid 1, whoever owns it).
    expect(isDeadLocalOwner(own.ownerId)).toBe(false);
    expect(isDeadLocalOwner(withPid(1))).toBe(false);
    // Another machine (same host name, another kernel or PID namespace), or an owner id given by hand.
    const elsewhere = withPid(pid).replace(/:[0-9a-f]{8}\./, (m) =>
      m === ':ffffffff.' ? ':eeeeeeee.' : ':ffffffff.',
    );
    expect(isDeadLocalOwner(elsewhere)).toBe(false);
    expect(isDeadLocalOwner(`worker-${pid}`)).toBe(false);
    expect(isDeadLocalOwner(withPid(0))).toBe(false);
  });

  it('counts a killed process its parent has not collected yet (a zombie) as dead', async () => {
    // `sh` starts a child, then becomes `sleep`, which never waits for children: once the shell is gone
    // (a shell may still reap its jobs), the child killed here stays a zombie until `sleep` ends.
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const state = (pid: number) => /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const pid = Number(line.toString().trim());
      await until(() => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim() === 'sleep', 5_000);
      process.kill(pid, 'SIGKILL');
      await until(() => state(pid) === 'Z', 5_000);
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(isDeadLocalOwner(withPid(pid))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('LockManager without a reachable database', () => {
  it('reports the database, not a lock timeout', async () => {
    const handle = openDatabase(parseDatabaseUrl('postgres://app:pw-never-shown@127.0.0.1:1/app'));
    try {
      const error = await expectReason(
        new LockManager(handle, { name: 'x', leaseMs: 1000 }).acquire({ waitMs: 1000 }),
        'temporary',
        DatabaseUnavailableError,
      );
      expect(error.message).not.toContain('pw-never-shown');
    } finally {
      await handle.close();
    }
  });
});

describeEachDatabase(
  'LockManager',
  (fixture) => {
    let counter = 0;
    /** A lock name of its own for each test, so leftovers of one test never affect another. */
    const freshName = () => `test-lock-${++counter}`;
    const manager = (name: string, leaseMs = 10_000, ownerId?: string) =>
      new LockManager(fixture.handle, {
        name,
        leaseMs,
        pollMs: 50,
        ...(ownerId === undefined ? {} : { ownerId }),
      });
    /** Whether `lease` is still the live lease stored for its lock (the query behind `holder()` and `doctor`). */
    const isHeld = async (lease: Lease) => {
      const row = await readLease(fixture.handle, lease.name);
      return row?.state === 'live' && row.owner === lease.owner && row.acquiredAtMs === lease.acquiredAtMs;
    };

    beforeAll(async () => {
      await migrateToLatest(fixture.handle);
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('before migrate, acquire says to run alarmbox migrate', async () => {
      const database = await createTestDatabase(fixture.kind);
      const handle = openDatabase(database.target);
      try {
        const error = await expectReason(
          new LockManager(handle, { name: 'x', leaseMs: 1000 }).acquire({ waitMs: 0 }),
          'configuration',
          MigrationsPendingError,
        );
        expect(error.message).toContain('alarmbox migrate');
      } finally {
        await handle.close();
        await database.drop();
      }
    });

    it('acquires a free lock, reports it, and releases it exactly once', async () => {
      const name = freshName();
      const a = manager(name, 5_000, 'owner-a');
      const before = await readDbNowMs(fixture.handle);
      const lease = await a.acquire({ waitMs: 0 });
      const after = await readDbNowMs(fixture.handle);
      expect(lease.name).toBe(name);
      expect(lease.owner).toBe('owner-a');
      expect(lease.acquiredAtMs).toBeGreaterThanOrEqual(before);
      expect(lease.acquiredAtMs).toBeLessThanOrEqual(after);
      expect(lease.expiresAtMs - lease.acquiredAtMs).toBe(5_000);
      expect(await a.holder()).toEqual({
        owner: 'owner-a',
        acquiredAtMs: lease.acquiredAtMs,
        expiresAtMs: lease.expiresAtMs,
      });
      expect(await isHeld(lease)).toBe(true);

      expect(await lease.release()).toBe(true);
      expect(await isHeld(lease)).toBe(false);
      expect(await a.holder()).toBeUndefined();
      expect(await lease.release()).toBe(false);
    });

    it('excludes a second owner while held, and is not re-entrant for the same owner', async () => {
      const name = freshName();
      const a = manager(name);
      const lease = await a.acquire({ waitMs: 0 });
      await expect(manager(name).acquire({ waitMs: 0 })).rejects.toBeInstanceOf(LockWaitTimeoutError);
      await expect(a.acquire({ waitMs: 100 })).rejects.toBeInstanceOf(LockWaitTimeoutError);
      expect((await a.holder())?.owner).toBe(a.ownerId);
      expect(await lease.release()).toBe(true);
      const next = await manager(name).acquire({ waitMs: 0 });
      expect(await next.release()).toBe(true);
    });

    it('gives up after waitMs with LockWaitTimeoutError (lock_timeout), never suggesting re-authorization', async () => {
      const name = 'alarmbox-token-refresh';
      const holder = await manager(name).acquire({ waitMs: 0 });
      try {
        const started = performance.now();
        const waiter = new LockManager(fixture.handle, {
          name,
          leaseMs: 10_000,
          purpose: 'トークンを更新中',
        });
        const timeout = await expectReason(
          waiter.acquire({ waitMs: 400 }),
          'lock_timeout',
          LockWaitTimeoutError,
        );
        const elapsed = performance.now() - started;
        expect(timeout.lockName).toBe(name);
        // The holder is named (its owner id, no secret) with its lease's times on the database clock.
        const since = new Date(holder.acquiredAtMs).toISOString();
        const until = new Date(holder.expiresAtMs).toISOString();
        expect(timeout.message).toBe(
          `他のプロセスがトークンを更新中のため、ロック "alarmbox-token-refresh" を 0.4 秒待っても取得できませんでした (保持者 ${holder.owner}、${since} から ${until} まで)。しばらくしてから再実行してください。`,
        );
        expect(timeout.holder).toEqual({
          owner: holder.owner,
          acquiredAtMs: holder.acquiredAtMs,
          expiresAtMs: holder.expiresAtMs,
        });
        expect(timeout.message).not.toMatch(/再認証|認可|save-token|authorize/);
        expect(elapsed).toBeGreaterThanOrEqual(395);
        expect(elapsed).toBeLessThan(1_500);
        expect(await isHeld(holder)).toBe(true);
      } finally {
        await holder.release();
      }
    });

    it('names other locks neutrally and shows whole seconds', () => {
      expect(new LockWaitTimeoutError('nightly-report', 30_000).message).toBe(
        '他のプロセスがロックを保持しているため、ロック "nightly-report" を 30 秒待っても取得できませんでした。しばらくしてから再実行してください。',
      );
    });

    it('a waiter gets the lock soon after the holder releases it', async () => {
      const name = freshName();
      const holder = await manager(name).acquire({ waitMs: 0 });
      const waiting = manager(name).acquire({ waitMs: 5_000 });
      await sleep(200);
      const releasedAt = performance.now();
      expect(await holder.release()).toBe(true);
      const lease = await waiting;
      // pollMs is 50: a few polls at most (generous for loaded machines), far from the 5 s waitMs.
      expect(performance.now() - releasedAt).toBeLessThan(1_000);
      expect(await lease.release()).toBe(true);
    });

    it('an expired lease is taken over, and its former holder can no longer release it', async () => {
      const name = freshName();
      // Long enough that b's first try surely meets it alive on a loaded machine.
      const a = manager(name, 1_500, 'owner-a');
      const b = manager(name, 10_000, 'owner-b');
      const old = await a.acquire({ waitMs: 0 });
      await expect(b.acquire({ waitMs: 0 })).rejects.toBeInstanceOf(LockWaitTimeoutError);

      const taken = await b.acquire({ waitMs: 5_000 });
      expect(taken.acquiredAtMs).toBeGreaterThan(old.expiresAtMs);
      expect(taken.acquiredAtMs - old.expiresAtMs).toBeLessThan(1_000);

      expect(await isHeld(old)).toBe(false);
      expect(await old.release()).toBe(false);
      expect(await isHeld(taken)).toBe(true);
      expect(await b.holder()).toMatchObject({ owner: 'owner-b', acquiredAtMs: taken.acquiredAtMs });
      expect(await taken.release()).toBe(true);
    });

    describe('a lease that cannot be right (a database clock stepped back, a hand-made row)', () => {
      const elsewhere = 'other-host:4242:ffffffff.000000000001';
      /** Stores a lease of `elsewhere` as a person or a clock step would leave it. */
      const plant = async (name: string, acquired: unknown, expires: unknown) => {
        await fixture.handle.db
          .insertInto(LOCKS_TABLE)
          .values({
            name,
            owner: elsewhere,
            acquired_at_ms: acquired as number,
            expires_at_ms: expires as number,
          })
          .execute();
      };
      const warningsDuring = async <T>(body: () => Promise<T>): Promise<{ value: T; warnings: Error[] }> => {
        const warnings: Error[] = [];
        const listen = (w: Error) => warnings.push(w);
        process.on('warning', listen);
        try {
          const value = await body();
          // emitWarning delivers on the next tick.
          await sleep(10);
          return { value, warnings };
        } finally {
          process.off('warning', listen);
        }
      };

      it('an expiry beyond now + the longest lease is taken over at once, with a warning naming its holder', async () => {
        const name = freshName();
        const now = await readDbNowMs(fixture.handle);
        const tenYears = 10 * 365 * 86_400_000;
        await plant(name, now - 1_000, now + tenYears);
        const started = performance.now();
        const { value: lease, warnings } = await warningsDuring(() => manager(name).acquire({ waitMs: 0 }));
        expect(performance.now() - started).toBeLessThan(1_000);
        expect(lease.owner).not.toBe(elsewhere);
        expect(await isHeld(lease)).toBe(true);
        const warning = warnings.find(
          (w) => (w as NodeJS.ErrnoException).code === 'ALARMBOX_LEASE_IMPOSSIBLE',
        );
        expect(warning?.message).toContain(elsewhere);
        expect(warning?.message).toContain(new Date(now + tenYears).toISOString());
        expect(warning?.message).toContain('データベースの時計');
        expect(await lease.release()).toBe(true);
      });

      it('so is one whose numbers no JavaScript number holds (beyond 2^53, text on SQLite)', async () => {
        for (const [acquired, expires] of fixture.kind === 'sqlite'
          ? [
              ['abc', 'abc'],
              [2n ** 62n, 2n ** 62n],
            ]
          : [[2n ** 62n, 2n ** 62n]]) {
          const name = freshName();
          await plant(name, acquired, expires);
          const { value: lease, warnings } = await warningsDuring(() => manager(name).acquire({ waitMs: 0 }));
          expect(await isHeld(lease)).toBe(true);
          expect(warnings.map((w) => w.message).join('\n')).toContain(elsewhere);
          expect(await lease.release()).toBe(true);
        }
      });

      it('a live lease of the longest length, or one acquired "in the future" that ends in time, is still waited for', async () => {
        const name = freshName();
        const now = await readDbNowMs(fixture.handle);
        await plant(name, now, now + MAX_LEASE_MS - 5_000);
        const error = await expectReason(
          manager(name).acquire({ waitMs: 200 }),
          'lock_timeout',
          LockWaitTimeoutError,
        );
        expect(error.message).toContain(elsewhere);
        await fixture.handle.db.deleteFrom(LOCKS_TABLE).where('name', '=', name).execute();
        // The clock stepped back by a minute during a 10 s lease: it still ends within the longest lease.
        await plant(name, now + 60_000, now + 70_000);
        await expect(manager(name).acquire({ waitMs: 200 })).rejects.toBeInstanceOf(LockWaitTimeoutError);
        await fixture.handle.db.deleteFrom(LOCKS_TABLE).where('name', '=', name).execute();
      });
    });

    it('an old lease of the same owner id cannot release the owner’s newer lease', async () => {
      const name = freshName();
      const first = await manager(name, 300, 'same-owner').acquire({ waitMs: 0 });
      const second = await manager(name, 10_000, 'same-owner').acquire({ waitMs: 3_000 });
      expect(second.acquiredAtMs).toBeGreaterThan(first.expiresAtMs);
      expect(await first.release()).toBe(false);
      expect(await isHeld(second)).toBe(true);
      expect(await second.release()).toBe(true);
    });

    it('a lease that expired untaken reports false on release and is cleaned up', async () => {
      const name = freshName();
      const a = manager(name, 200);
      const lease = await a.acquire({ waitMs: 0 });
      await sleep(300);
      expect(await isHeld(lease)).toBe(false);
      expect(await lease.release()).toBe(false);
      expect(await a.holder()).toBeUndefined();
    });

    it('stops waiting when the signal aborts', async () => {
      const name = freshName();
      const holder = await manager(name).acquire({ waitMs: 0 });
      try {
        const controller = new AbortController();
        setTimeout(() => controller.abort(new Error('cancelled by test')), 150);
        const started = performance.now();
        const error = await rejectionOf(manager(name).acquire({ waitMs: 10_000, signal: controller.signal }));
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toBe('cancelled by test');
        expect(performance.now() - started).toBeLessThan(1_000);
      } finally {
        await holder.release();
      }
    });

    it('renew extends a live lease to a whole leaseMs from now, and never revives an expired or taken one', async () => {
      const name = freshName();
      // Margins of a second: on a loaded machine a sleep or a query can overrun by hundreds of ms.
      const a = manager(name, 2_000, 'owner-a');
      const lease = await a.acquire({ waitMs: 0 });
      await sleep(1_000);
      expect(await lease.renew()).toBe(true);
      await sleep(1_200);
      // 2.2 s after taking a 2 s lease: alive only because it was renewed (which gave it until about 3 s).
      expect(await isHeld(lease)).toBe(true);
      await expect(manager(name, 10_000, 'owner-b').acquire({ waitMs: 0 })).rejects.toBeInstanceOf(
        LockWaitTimeoutError,
      );
      await sleep(2_000);
      expect(await lease.renew()).toBe(false);
      const taken = await manager(name, 10_000, 'owner-b').acquire({ waitMs: 0 });
      expect(await lease.renew()).toBe(false);
      expect(await a.holder()).toMatchObject({ owner: 'owner-b', expiresAtMs: taken.expiresAtMs });
      expect(await taken.release()).toBe(true);
    });

    it('acquireUnless ends the wait when `settled` finds the work done, without taking the lease', async () => {
      const name = freshName();
      const holder = await manager(name).acquire({ waitMs: 0 });
      try {
        let looks = 0;
        let done = false;
        setTimeout(() => {
          done = true;
        }, 200);
        const started = performance.now();
        const waited = await manager(name).acquireUnless(
          async () => {
            looks++;
            return done ? 'peer saved it' : undefined;
          },
          { waitMs: 5_000 },
        );
        expect(waited).toEqual({ settled: 'peer saved it' });
        // Looked often (a few ms at first, at most 50 ms apart), and ended soon after the work was done.
        expect(looks).toBeGreaterThan(4);
        expect(performance.now() - started).toBeLessThan(1_000);
        expect((await isHeld(holder)) && (await manager(name).holder())?.owner).toBe(holder.owner);
      } finally {
        await holder.release();
      }
      // A free lock is taken on the first attempt, before `settled` is ever asked.
      const free = await manager(name).acquireUnless(
        async () => {
          throw new Error('not asked');
        },
        { waitMs: 0 },
      );
      expect('lease' in free && (await free.lease.release())).toBe(true);
    });

    it('serializes concurrent callers in one process', async () => {
      const name = freshName();
      let inside = 0;
      let maxInside = 0;
      let done = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const lease = await manager(name).acquire({ waitMs: 10_000 });
          try {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await sleep(10);
            inside--;
            done++;
          } finally {
            await lease.release();
          }
        }),
      );
      expect(done).toBe(8);
      expect(maxInside).toBe(1);
    });
  },
  { concurrentKinds: true },
);

// Apart from the rest: it skews this process's Date.now, which must not leak into tests running alongside.
describeEachDatabase('LockManager under a skewed host clock', (fixture) => {
  beforeAll(async () => {
    await migrateToLatest(fixture.handle);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('takes lease times from the database clock even when the host clock is skewed', async () => {
    for (const skew of [3_600_000, -3_600_000]) {
      const name = `skew-${skew}`;
      const realNow = Date.now.bind(Date);
      const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
      const lease = await new LockManager(fixture.handle, { name, leaseMs: 2_000 }).acquire({ waitMs: 0 });
      const dbNow = await readDbNowMs(fixture.handle);
      spy.mockRestore();
      expect(Math.abs(dbNow - lease.acquiredAtMs)).toBeLessThan(1_000);
      expect(lease.expiresAtMs - lease.acquiredAtMs).toBe(2_000);
      await expect(
        new LockManager(fixture.handle, { name, leaseMs: 1_000 }).acquire({ waitMs: 0 }),
      ).rejects.toBeInstanceOf(LockWaitTimeoutError);
      expect(await lease.release()).toBe(true);
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { migrateToLatest, openDatabase, parseDatabaseUrl } from '../../src/db/index.ts';
import { LockWaitTimeoutError } from '../../src/lock/errors.ts';
import { LockManager } from '../../src/lock/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { NodeScript, type ScriptResult, startTogether } from '../support/node-scripts.ts';

// A dozen Node processes on a small, busy CI machine: allow more than the suite's default 30 s.
vi.setConfig({ testTimeout: 60_000 });

const WORKERS = 6;
const ROUNDS = 4;
const HOLD_MS = 10;

interface Workload {
  readonly counter: number;
  /** Critical sections that were entered while another one was still open. */
  readonly overlaps: number;
  readonly sections: number;
  readonly results: ScriptResult[];
}

/** Runs the lock-worker fixture in WORKERS processes at once against `url` and inspects what they left. */
async function runWorkload(url: string, lockName: string, mode: 'lock' | 'nolock'): Promise<Workload> {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-lock-'));
  try {
    const counterFile = join(dir, 'counter');
    const logFile = join(dir, 'log');
    writeFileSync(counterFile, '0');
    writeFileSync(logFile, '');
    const workers = await startTogether(WORKERS, 'lock-worker.ts', () => [
      url,
      lockName,
      '5000',
      String(ROUNDS),
      counterFile,
      logFile,
      String(HOLD_MS),
      mode,
    ]);
    const results = await Promise.all(workers.map((w) => w.exited(45_000)));
    let open: string | undefined;
    let overlaps = 0;
    let sections = 0;
    for (const line of readFileSync(logFile, 'utf8').split('\n').filter(Boolean)) {
      const [event, id] = line.split(' ');
      if (event === 'enter') {
        if (open !== undefined) overlaps++;
        open = id;
        sections++;
      } else if (open === id) {
        open = undefined;
      }
    }
    return { counter: Number(readFileSync(counterFile, 'utf8')), overlaps, sections, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the mutual-exclusion workload itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-nolock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does detect overlapping critical sections when no lock is taken', async () => {
    // Opening never creates a SQLite file: an empty one stands for the database the workers connect to.
    writeFileSync(join(dir, 'unused.db'), '');
    const url = `sqlite:${join(dir, 'unused.db')}`;
    const workload = await runWorkload(url, 'unused', 'nolock');
    for (const result of workload.results) expect(result.code, result.stderr).toBe(0);
    expect(workload.sections).toBe(WORKERS * ROUNDS);
    // Without the lock, read-sleep-write from 6 processes loses increments and interleaves sections.
    expect(workload.overlaps).toBeGreaterThan(0);
    expect(workload.counter).toBeLessThan(WORKERS * ROUNDS);
  });
});

describeEachDatabase(
  'LockManager across processes',
  (fixture) => {
    beforeAll(async () => {
      await migrateToLatest(fixture.handle);
    });

    it(`${WORKERS} processes × ${ROUNDS} rounds never overlap and lose no update`, async () => {
      const workload = await runWorkload(fixture.url, 'mutex-test', 'lock');
      for (const result of workload.results) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('done lost=0');
      }
      expect(workload.sections).toBe(WORKERS * ROUNDS);
      expect(workload.overlaps).toBe(0);
      expect(workload.counter).toBe(WORKERS * ROUNDS);
      expect(
        await new LockManager(fixture.handle, { name: 'mutex-test', leaseMs: 1 }).holder(),
      ).toBeUndefined();
    });

    it('a holder killed with SIGKILL on this machine is taken over at once, not waited out', async () => {
      const name = 'killed-here';
      const holder = new NodeScript('lock-holder.ts', [fixture.url, name, '600000']);
      onTestFinished(() => {
        holder.child.kill('SIGKILL');
      });
      const line = await holder.waitForLine('acquired ', 30_000);
      const held = JSON.parse(line.slice('acquired '.length)) as { owner: string; expiresAtMs: number };
      expect(held.owner).toContain(`:${holder.child.pid}:`);
      const manager = new LockManager(fixture.handle, { name, leaseMs: 5_000 });
      // Alive: its lease is respected.
      await expect(manager.acquire({ waitMs: 0 })).rejects.toBeInstanceOf(LockWaitTimeoutError);
      holder.child.kill('SIGKILL');
      expect((await holder.exited()).signal).toBe('SIGKILL');
      // Nothing released it, and it has 10 minutes left...
      expect((await manager.holder())?.owner).toBe(held.owner);
      // ...yet a single attempt, without any wait, takes it.
      const lease = await manager.acquire({ waitMs: 0 });
      expect(lease.acquiredAtMs).toBeLessThan(held.expiresAtMs);
      expect((await manager.holder())?.owner).toBe(manager.ownerId);
      expect(await lease.release()).toBe(true);
    });

    it('holders on another machine that stopped renewing are waited out until their lease expires by the database clock', async () => {
      // One holder's clock is 10 minutes fast, the other's 10 minutes slow. Had either stamped its lease with
      // its own clock, the fast one would block for 10 minutes and the slow one not at all. Their owner ids
      // name another machine, so their death here cannot be seen: only the lease's expiry frees them.
      const leaseMs = 2_000;
      const skews = { fast: 600_000, slow: -600_000 } as const;
      const holders = Object.entries(skews).map(([clock, skew]) => ({
        name: `killed-${clock}-holder`,
        script: new NodeScript('lock-holder.ts', [
          fixture.url,
          `killed-${clock}-holder`,
          String(leaseMs),
          String(skew),
          otherMachineOwner(clock === 'fast' ? 'a' : 'b'),
        ]),
      }));
      // Whatever happens below, no holder outlives the test.
      onTestFinished(() => {
        for (const { script } of holders) script.child.kill('SIGKILL');
      });
      const held = await Promise.all(
        holders.map(async ({ script }) => {
          const line = await script.waitForLine('acquired ');
          return JSON.parse(line.slice('acquired '.length)) as { owner: string; expiresAtMs: number };
        }),
      );
      const managers = holders.map(({ name }) => new LockManager(fixture.handle, { name, leaseMs: 5_000 }));
      // Both leases are live right now, the slow-clock one included.
      for (const manager of managers) {
        await expect(manager.acquire({ waitMs: 0 })).rejects.toBeInstanceOf(LockWaitTimeoutError);
      }
      for (const { script } of holders) script.child.kill('SIGKILL');
      for (const { script } of holders) expect((await script.exited()).signal).toBe('SIGKILL');
      // Nothing released them, and they are not taken over while live.
      expect((await managers[0]!.holder())?.owner).toBe(held[0]!.owner);
      await expect(managers[0]!.acquire({ waitMs: 0 })).rejects.toBeInstanceOf(LockWaitTimeoutError);

      const started = performance.now();
      const leases = await Promise.all(
        managers.map((manager) => manager.acquire({ waitMs: leaseMs + 3_000 })),
      );
      const waited = performance.now() - started;
      leases.forEach((lease, i) => {
        // Not before the dead holder's lease ran out (database clock), and promptly after.
        expect(lease.acquiredAtMs).toBeGreaterThan(held[i]!.expiresAtMs);
        expect(lease.acquiredAtMs - held[i]!.expiresAtMs).toBeLessThan(1_000);
      });
      expect(waited).toBeLessThan(leaseMs + 2_000);
      for (const lease of leases) expect(await lease.release()).toBe(true);
    });
  },
  { concurrentKinds: false },
);

/** An owner id in this package's format (host:pid:machine.random) that names another machine. */
function otherMachineOwner(lastDigit: string): string {
  const ours = new LockManager(openDatabase(parseDatabaseUrl('sqlite::memory:')), { name: 'x', leaseMs: 1 });
  const [, machine = ''] = /:([0-9a-f]{8})\.[0-9a-f]{12}$/.exec(ours.ownerId) ?? [];
  const other = machine === 'ffffffff' ? 'eeeeeeee' : 'ffffffff';
  return `other-host:${process.pid}:${other}.00000000000${lastDigit}`;
}

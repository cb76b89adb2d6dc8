// A `refresh-token` killed with SIGKILL leaves its refresh lease behind (the only lease a run takes). A rerun on
// the same machine takes it over at once and refreshes; a holder on another machine is waited out, and a run that
// cannot outwait it exits 5 (retry), never 0 without having refreshed. Real CLI processes, real SIGKILL.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE } from '../../src/db/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { CliProcess, runRefreshToken, useChildProcesses } from '../support/cli-process.ts';
import { describeEachDatabase } from '../support/databases.ts';

const LOCK = TokenService.LOCK_NAME;

describeEachDatabase(
  'a dead holder of the refresh-token leases',
  (fixture) => {
    let emulator: RunningEmulator;
    let alarmbox: Toolkit;
    let env: Record<string, string>;
    const keys = generateKeySpec('d1');
    const refreshes = () => emulator.stats().tokenRequests.refresh_token.ok ?? 0;
    const leases = () =>
      alarmbox.database.db.selectFrom(LOCKS_TABLE).select(['name', 'owner']).orderBy('name').execute();
    const job = (extra: Record<string, string> = {}, args: string[] = []) =>
      runRefreshToken({ ...env, ...extra }, args);
    // Each test starts from a reset emulator (no faults): only its children need stopping.
    const running = useChildProcesses();

    useEmulatorWorld(
      // A refresh lease of 3 × 20 s and a lock wait of 30 s: what a rerun must not wait for.
      { databaseUrl: () => fixture.url, keys, env: { ALARMBOX_HTTP_TIMEOUT_MS: '20000' } },
      (world) => {
        ({ emulator, alarmbox, env } = world);
      },
    );

    it('after kill -9 of a running refresh-token, a rerun takes its lease over at once and refreshes', async () => {
      const before = (await alarmbox.store.getInstance()).version;
      // The killed run's request waits inside AlarmBox (its answer would come long after the test).
      emulator.setFaults({ token: { delayMs: 60_000, times: 1 } });
      const killed = new CliProcess(['refresh-token', '--log-format=json'], env);
      running.push(killed);
      for (let i = 0; emulator.stats().faultsInjected.token === 0 && i < 1_500; i++) await sleep(10);
      expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(1);
      const pid = killed.child.pid;
      killed.signal('SIGKILL');
      expect((await killed.exited()).signal).toBe('SIGKILL');
      // The lease is still there, in the dead process's name.
      const left = await leases();
      expect(left.map((l) => l.name)).toEqual([LOCK]);
      for (const lease of left) expect(lease.owner).toContain(`:${pid}:`);

      const rerun = await job();
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.end).toMatchObject({ outcome: 'ok', code: 'refreshed', exitCode: 0, attempts: 1 });
      // Not the refresh lease's 60 s, nor the 30 s lock wait: at once.
      expect(rerun.end.durationMs as number).toBeLessThan(5_000);
      expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
      const stored = await alarmbox.store.getInstance();
      expect(stored.version).toBe(before + 1);
      expect(await apiStatus(emulator, stored.getDecryptedAccessToken())).toBe(200);
      expect(await leases()).toEqual([]);
    });

    it('a refresh lease held on another machine is waited out: exit 5 while it lasts, a refresh once it has expired', async () => {
      const elsewhere = (lastDigit: string) => {
        const ours = new LockManager(alarmbox.database, { name: LOCK, leaseMs: 1 }).ownerId;
        const machine = /:([0-9a-f]{8})\.[0-9a-f]{12}$/.exec(ours)?.[1];
        return `other-host:4242:${machine === 'ffffffff' ? 'eeeeeeee' : 'ffffffff'}.00000000000${lastDigit}`;
      };
      // What a holder there leaves when it stops renewing: a whole lease still to run.
      const long = await new LockManager(alarmbox.database, {
        name: LOCK,
        leaseMs: 60_000,
        ownerId: elsewhere('1'),
      }).acquire({ waitMs: 0 });
      const blocked = await job({ ALARMBOX_LOCK_WAIT_MS: '1500' }, ['--retries=0']);
      expect(blocked.code).toBe(5);
      expect(blocked.end).toMatchObject({ outcome: 'lock_timeout', action: 'retry_later', exitCode: 5 });
      expect(blocked.end.message).toContain(elsewhere('1'));
      expect(blocked.ms).toBeGreaterThanOrEqual(1_500);
      expect(refreshes(), 'refreshes at AlarmBox').toBe(0);
      expect(await long.release()).toBe(true);

      // One with 5 s left: the run waits for it to expire, then refreshes.
      await new LockManager(alarmbox.database, {
        name: LOCK,
        leaseMs: 5_000,
        ownerId: elsewhere('2'),
      }).acquire({ waitMs: 0 });
      const taken = performance.now();
      const after = await job({ ALARMBOX_LOCK_WAIT_MS: '15000' }, ['--retries=0']);
      expect(after.code, after.stderr).toBe(0);
      expect(after.end).toMatchObject({ outcome: 'ok', code: 'refreshed' });
      expect(performance.now() - taken).toBeGreaterThanOrEqual(4_900);
      expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
    });
  },
  { concurrentKinds: true },
);

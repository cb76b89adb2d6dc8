// A lease row that cannot be right (its expiry further away than the longest lease the package grants: a
// database clock stepped back, a row made by hand) once made every `refresh-token` exit 5 until that far-away
// expiry, while `doctor` said all was well. Now doctor flags it, and the next refresh takes it over with a
// warning naming its holder; a real live holder is still waited for, and the timeout names it. Real CLI
// processes against the emulator, on every database.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE } from '../../src/db/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { runCli } from '../support/cli.ts';
import { CliProcess, runRefreshToken, useChildProcesses } from '../support/cli-process.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { readDbNowMs } from '../support/db-clock.ts';

/** An owner id of another machine: never taken for a dead process of ours. */
const ELSEWHERE = 'db-clock-victim:4242:ffffffff.0000000000aa';
const TEN_YEARS_MS = 10 * 365 * 86_400_000;

describeEachDatabase(
  'a lease that cannot be right',
  (fixture) => {
    let emulator: RunningEmulator;
    let alarmbox: Toolkit;
    let env: Record<string, string>;
    const keys = generateKeySpec('l1');
    const refreshes = () => emulator.stats().tokenRequests.refresh_token.ok ?? 0;
    // Each test starts from a reset emulator (no faults): only its children need stopping.
    const running = useChildProcesses();
    const plant = async (name: string, acquiredAtMs: number, expiresAtMs: number) => {
      await alarmbox.database.db
        .insertInto(LOCKS_TABLE)
        .values({ name, owner: ELSEWHERE, acquired_at_ms: acquiredAtMs, expires_at_ms: expiresAtMs })
        .execute();
    };
    /** doctor's line for the lease check: its mark and its text (with the 対処 line when there is one). */
    const leaseLine = (stdout: string) => {
      const lines = stdout.split('\n');
      const at = lines.findIndex((l) => / トークン更新のロック: /.test(l));
      return { mark: lines[at]?.slice(0, 1), text: lines.slice(at, at + 2).join('\n') };
    };

    useEmulatorWorld(
      {
        databaseUrl: () => fixture.url,
        keys,
        emulator: { rotation: 'immediate' },
        env: { ALARMBOX_HTTP_TIMEOUT_MS: '10000' },
      },
      (world) => {
        ({ emulator, alarmbox, env } = world);
      },
    );

    it('a far-future lease: doctor flags it (exit 2), then refresh-token takes it over with a warning and exits 0', async () => {
      const now = await readDbNowMs(alarmbox.database);
      // As a clock stepped back by ten years would leave it.
      await plant(TokenService.LOCK_NAME, now - 1_000, now + TEN_YEARS_MS);

      const before = await runCli(['doctor'], env);
      expect(before.code, before.stdout).toBe(2);
      const flagged = leaseLine(before.stdout);
      expect(flagged.mark).toBe('✗');
      expect(flagged.text).toContain(ELSEWHERE);
      expect(flagged.text).toContain(new Date(now + TEN_YEARS_MS).toISOString());
      expect(flagged.text).toContain('DELETE FROM alarmbox_locks');
      expect(before.stdout).not.toContain('すべての確認に成功しました');

      const started = performance.now();
      const r = await runRefreshToken({ ...env, ALARMBOX_LOCK_WAIT_MS: '2000' }, ['--retries=0']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.end).toMatchObject({
        outcome: 'ok',
        code: 'refreshed',
        exitCode: 0,
      });
      // At once, not after the 2 s wait (nor ten years).
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(r.stderr).toContain('ALARMBOX_LEASE_IMPOSSIBLE');
      expect(r.stderr).toContain(`ロック "${TokenService.LOCK_NAME}" の保持者 ${ELSEWHERE}`);
      expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
      const stored = await alarmbox.store.getInstance();
      expect(await apiStatus(emulator, stored.getDecryptedAccessToken())).toBe(200);
      expect(await alarmbox.database.db.selectFrom(LOCKS_TABLE).selectAll().execute()).toEqual([]);

      const after = await runCli(['doctor'], env);
      expect(leaseLine(after.stdout).mark, after.stdout).toBe('✓');
      expect(leaseLine(after.stdout).text).toContain('保持しているプロセスはありません');
    });

    it('a lease acquired "in the future" (a clock stepped back a little) is flagged by doctor', async () => {
      const now = await readDbNowMs(alarmbox.database);
      await plant(TokenService.LOCK_NAME, now + 120_000, now + 130_000);
      const r = await runCli(['doctor'], env);
      expect(r.code, r.stdout).toBe(2);
      expect(leaseLine(r.stdout)).toMatchObject({ mark: '✗' });
      expect(leaseLine(r.stdout).text).toContain('取得時刻がデータベースの現在時刻');
      expect(leaseLine(r.stdout).text).toContain(ELSEWHERE);
    });

    it('a real live holder is still waited for: doctor shows it, a waiter times out naming it, then refreshes after it', async () => {
      await alarmbox.store.markExpired();
      // The holder's request waits inside AlarmBox long enough for the others to look.
      emulator.setFaults({ token: { delayMs: 6_000, times: 1 } });
      const holder = new CliProcess(['refresh-token', '--log-format=json'], env);
      running.push(holder);
      for (let i = 0; emulator.stats().faultsInjected.token === 0 && i < 1_500; i++) await sleep(10);
      expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(1);
      const pid = holder.child.pid;

      const doctor = await runCli(['doctor'], env);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(leaseLine(doctor.stdout).mark).toBe('✓');
      expect(leaseLine(doctor.stdout).text).toContain('トークンを更新中です');
      expect(leaseLine(doctor.stdout).text).toContain(`:${pid}:`);

      // `access-token` waits for the token lease itself (no job lease): its timeout names the holder.
      const waiter = await runCli(['access-token'], { ...env, ALARMBOX_LOCK_WAIT_MS: '1000' });
      expect(waiter.code, waiter.stderr).toBe(5);
      expect(waiter.stderr).toContain(`ロック "${TokenService.LOCK_NAME}"`);
      expect(waiter.stderr).toMatch(new RegExp(`保持者 [^ ]*:${pid}:[0-9a-f.]+、\\S+ から \\S+ まで`));
      expect(waiter.stderr).not.toContain('ALARMBOX_LEASE_IMPOSSIBLE');

      const done = await holder.exited(30_000);
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr).not.toContain('ALARMBOX_LEASE_IMPOSSIBLE');
      expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
    });

    it('a legitimate refresh lease (three HTTP timeouts, 30 s here) is never taken for an impossible one', async () => {
      const now = await readDbNowMs(alarmbox.database);
      await plant(TokenService.LOCK_NAME, now, now + 30_000);
      const r = await runRefreshToken({ ...env, ALARMBOX_LOCK_WAIT_MS: '1000' }, ['--retries=0']);
      expect(r.code, r.stdout).toBe(5);
      expect(r.end).toMatchObject({ outcome: 'lock_timeout' });
      expect(r.stderr).not.toContain('ALARMBOX_LEASE_IMPOSSIBLE');
      expect(refreshes(), 'refreshes at AlarmBox').toBe(0);
    });
  },
  { concurrentKinds: true },
);

// Interruption is safe: real CLI processes killed with SIGINT, SIGTERM, SIGHUP and SIGKILL at each step of a
// refresh — waiting for the lease (before the request), while AlarmBox holds the request (the emulator's delay
// fault), right after AlarmBox answered, and while the save is blocked — and after each: exactly the token
// requests expected, and either a usable pair stored or, only where AlarmBox itself has no valid token left
// for us (immediate rotation after a SIGKILL), an honest re-authorization.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { CliProcess, type CliProcessResult } from '../support/cli-process.ts';
import { type DatabaseFixture, describeEachDatabase } from '../support/databases.ts';
import { lockRowOne } from '../support/row-lock.ts';
import { until } from '../support/until.ts';

const HTTP_TIMEOUT_MS = 8_000;
/** Long enough for a loaded machine to notice the request is held and signal before AlarmBox answers. */
const DELAY_MS = 1_500;
const EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
type Step = 'before-request' | 'held-by-alarmbox' | 'after-answer' | 'during-save';
type Kill = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGKILL';

/**
 * Whether the process has a handler for SIGHUP (Linux: the SigCgt mask of /proc/<pid>/status). Node itself
 * catches SIGINT and SIGTERM from start-up (to restore the terminal), but SIGHUP only once the CLI's handlers
 * are installed.
 */
function catchesStopSignals(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & 1n) !== 0n;
  } catch {
    return false;
  }
}

function suite(
  fixture: DatabaseFixture,
  steps: readonly Step[],
  kills: readonly Kill[],
  rotations: readonly ('on_use' | 'immediate')[] = ['immediate'],
): void {
  for (const rotation of rotations) {
    // Child processes on a loaded machine: start-up alone may take seconds.
    describe(`rotation ${rotation}`, { timeout: 90_000 }, () => {
      let emulator: RunningEmulator;
      let alarmbox: Toolkit;
      let env: Record<string, string>;
      let child: CliProcess | undefined;
      const keys = generateKeySpec('g1');
      const refreshes = () => emulator.stats().tokenRequests.refresh_token;
      const snapshot = () => storedPair(alarmbox);

      useEmulatorWorld(
        {
          databaseUrl: () => fixture.url,
          keys,
          emulator: { rotation },
          alarmbox: { httpTimeoutMs: HTTP_TIMEOUT_MS },
          expired: true,
        },
        (world) => {
          ({ emulator, alarmbox, env } = world);
        },
      );
      afterEach(() => child?.kill());

      /**
       * After the child is gone: the stored pair works at AlarmBox, or (SIGKILL after the rotation, immediate
       * mode) AlarmBox has no valid token left for us and the next run says re-authorize (exit 4's reason).
       */
      async function expectUsableOrHonest(before: { refresh: string }, killed: boolean): Promise<void> {
        const after = await snapshot();
        if (after.refresh !== before.refresh) {
          expect(await apiStatus(emulator, after.access)).toBe(200);
          return;
        }
        // The old pair is still what is stored: does AlarmBox still honour its refresh token? Asked without the
        // lease (a SIGKILLed holder's lease is the lock helper's business, not this test's).
        const rotated = refreshes().ok !== undefined;
        const next = await alarmbox.client.refreshToken(after.refresh).then(
          () => 'ok' as const,
          (e: unknown) => (e instanceof AlarmboxAPIError ? e.reason : 'unexpected'),
        );
        if (rotation === 'on_use' || !rotated) expect(next).toBe('ok');
        else {
          // Only a SIGKILL may lose a rotated pair.
          expect(killed).toBe(true);
          expect(next).toBe('reauthorization_required');
        }
      }

      for (const step of steps) {
        for (const kill of kills) {
          it(`access-token, ${kill} ${step}`, async () => {
            const before = await snapshot();
            let blocker: { release(): Promise<unknown> } | undefined;
            if (step === 'before-request') {
              // A peer holds the lease: the child is waiting, nothing sent yet.
              const lock = new LockManager(alarmbox.database, {
                name: TokenService.LOCK_NAME,
                leaseMs: 60_000,
              });
              const lease = await lock.tryAcquire();
              expect(lease).toBeDefined();
              blocker = { release: () => lease?.release() ?? Promise.resolve() };
            } else if (step !== 'after-answer') {
              emulator.setFaults({ token: { delayMs: DELAY_MS, times: 1 } });
            }
            child = new CliProcess(['access-token'], env);
            try {
              if (step === 'before-request') {
                // Its signal handlers are in place (the command has started), then it reaches the lease wait.
                await until(() => catchesStopSignals(child?.child.pid), 15_000);
                await sleep(500);
              } else if (step === 'held-by-alarmbox') {
                await until(() => emulator.stats().faultsInjected.token > 0);
              } else if (step === 'after-answer') {
                await until(() => (refreshes().ok ?? 0) > 0);
              } else {
                await until(() => emulator.stats().faultsInjected.token > 0);
                blocker = await lockRowOne(fixture.target);
                await until(() => (refreshes().ok ?? 0) > 0);
                await sleep(200);
              }
              const signalledAt = Date.now();
              child.signal(kill);
              if (kill === 'SIGINT' && step !== 'before-request' && step !== 'after-answer') {
                // A second Ctrl+C says what it risks and changes nothing.
                await sleep(100);
                child.signal('SIGINT');
              }
              if (step === 'during-save') {
                await sleep(500);
                await blocker?.release();
                blocker = undefined;
              }
              const result: CliProcessResult = await child.exited(HTTP_TIMEOUT_MS + 10_000);
              if (kill === 'SIGKILL') expect(result.signal).toBe('SIGKILL');
              else if (result.code === null) throw new Error(`killed by ${result.signal}: ${result.stderr}`);
              else if (step === 'after-answer' || step === 'during-save') {
                // Right after the answer, or blocked in the save: the save completes either way. SQLite's driver
                // is synchronous, so a signal that arrives during its busy wait is handled only after the save,
                // when the command may already have finished normally.
                expect([0, EXIT[kill]]).toContain(result.code);
              } else expect(result.code).toBe(EXIT[kill]);
              if (kill === 'SIGINT' && step === 'held-by-alarmbox') {
                expect(result.stderr).toContain('kill -9');
              }
              if (step === 'before-request' && kill !== 'SIGKILL') {
                // Nothing was at stake: it ended at once, without waiting for the lease.
                expect(Date.now() - signalledAt).toBeLessThan(5_000);
              }
            } finally {
              await blocker?.release();
            }
            // Exactly the token requests expected.
            const expected = step === 'before-request' ? undefined : { ok: 1 };
            if (step === 'held-by-alarmbox' && kill === 'SIGKILL')
              await until(() => (refreshes().ok ?? 0) > 0);
            expect(refreshes().ok === undefined ? undefined : refreshes()).toEqual(expected);
            if (kill !== 'SIGKILL' && step !== 'before-request') {
              // Saved, and the lease released: another refresh starts at once.
              const after = await snapshot();
              expect(after.version).toBe(before.version + 1);
              expect(await apiStatus(emulator, after.access)).toBe(200);
              const started = Date.now();
              expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
              expect(Date.now() - started).toBeLessThan(HTTP_TIMEOUT_MS);
            } else {
              await expectUsableOrHonest(before, kill === 'SIGKILL');
            }
          });
        }
      }
    });
  }
}

describeEachDatabase('signals at each step of a refresh', (fixture) => {
  // Every step and signal under immediate rotation, where AlarmBox revokes the old refresh token at once and a
  // lost answer costs the most; under on_use, the step where the request is in flight.
  if (fixture.kind === 'sqlite') {
    suite(
      fixture,
      ['before-request', 'held-by-alarmbox', 'after-answer', 'during-save'],
      ['SIGINT', 'SIGTERM', 'SIGKILL'],
    );
    suite(fixture, ['held-by-alarmbox'], ['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGHUP'], ['on_use']);
    suite(fixture, ['held-by-alarmbox'], ['SIGHUP']);
  } else {
    // The servers: the step where the most is at stake, with the signals platforms send.
    suite(fixture, ['held-by-alarmbox'], ['SIGTERM', 'SIGKILL']);
  }
});

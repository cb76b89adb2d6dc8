// Lost responses, crashed holders and a database lost mid-refresh: the stored pair is never half-written,
// and the outcome is the one each rotation mode allows (on_use recovers by itself; immediate says exactly
// what a person must run).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import {
  alarmboxFor,
  emulatorEnv,
  registerToken,
  storedPair,
  useEmulatorWorld,
} from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { NodeScript } from '../support/node-scripts.ts';
import { expectReason, expectReasonOf } from '../support/rejections.ts';
import { lockRowOne } from '../support/row-lock.ts';

const HTTP_TIMEOUT_MS = 1_000; // lease = 3 × 1 s

describeEachDatabase('crashes and lost responses', (fixture) => {
  for (const rotation of ['on_use', 'immediate'] as const) {
    describe(`rotation ${rotation}`, () => {
      let emulator: RunningEmulator;
      let alarmbox: Toolkit;
      let env: Record<string, string>;
      const keys = generateKeySpec('x1');
      const refreshes = () => emulator.stats().tokenRequests.refresh_token;
      const snapshot = () => storedPair(alarmbox);
      /** What must follow a refresh whose new pair never reached the database. */
      async function expectModeOutcome(): Promise<void> {
        if (rotation === 'on_use') {
          const recovered = await alarmbox.tokens.refresh({ force: true });
          expect(recovered.refreshed).toBe(true);
        } else {
          const dead = await expectReason(
            alarmbox.tokens.refresh({ force: true }),
            'reauthorization_required',
            AlarmboxTokenExpiredError,
          );
          expect(dead.message).toContain('alarmbox authorize-url');
          expect(dead.message).toContain('alarmbox save-token');
        }
      }

      useEmulatorWorld(
        {
          databaseUrl: () => fixture.url,
          keys,
          emulator: { rotation },
          alarmbox: { httpTimeoutMs: HTTP_TIMEOUT_MS },
        },
        (world) => {
          ({ emulator, alarmbox, env } = world);
        },
      );

      it('AlarmBox commits the rotation and the response is lost', async () => {
        const before = await snapshot();
        emulator.setFaults({ token: { drop: 'after-commit', times: 1 } });
        await expectReason(alarmbox.tokens.refresh({ force: true }), 'temporary', AlarmboxTokenExpiredError);
        expect(refreshes().ok, 'refreshes at AlarmBox').toBe(1); // AlarmBox did rotate
        expect(await snapshot()).toEqual(before);
        await expectModeOutcome();
      });

      it('a holder killed with SIGKILL mid-refresh is taken over at once, not waited out for its lease', async () => {
        const before = await snapshot();
        emulator.setFaults({ token: { delayMs: 1_500, times: 1 } });
        const holder = new NodeScript('token-caller.ts', ['1'], env);
        await holder.waitForLine('ready', 30_000);
        holder.send('force k');
        const lock = new LockManager(alarmbox.database, { name: TokenService.LOCK_NAME, leaseMs: 1 });
        // kill it while its request is inside AlarmBox (the delay fault has caught it)
        for (let i = 0; emulator.stats().faultsInjected.token === 0 && i < 500; i++) await sleep(10);
        expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(1);
        expect(await lock.holder()).toBeDefined();
        holder.child.kill('SIGKILL');
        await holder.exited();
        expect(await snapshot()).toEqual(before);
        const started = Date.now();
        await alarmbox.store.markExpired();
        if (rotation === 'on_use') {
          await alarmbox.tokens.getValidAccessToken();
        } else {
          // the dead holder's request may or may not have reached AlarmBox: either the refresh works or
          // the chain is gone, never anything in between
          await alarmbox.tokens
            .getValidAccessToken()
            .catch((e: unknown) => expectReasonOf(e, 'reauthorization_required', AlarmboxTokenExpiredError));
        }
        // Its lease (3 × 1 s) had almost all of it left: a process of this machine that is gone holds nothing.
        expect(Date.now() - started).toBeLessThan(2_000);
      });

      it('killed between AlarmBox answering and the database commit: the row is never half-written', async () => {
        const before = await snapshot();
        emulator.setFaults({ token: { delayMs: 600, times: 1 } });
        const refresher = new NodeScript('token-caller.ts', ['1'], env);
        await refresher.waitForLine('ready', 30_000);
        refresher.send('force s');
        await sleep(300); // the request is on its way; now block its save
        const rowLock = await lockRowOne(fixture.target);
        try {
          for (let i = 0; (refreshes().ok ?? 0) === 0 && i < 300; i++) await sleep(10);
          expect(refreshes().ok, 'refreshes at AlarmBox').toBe(1);
          await sleep(300); // blocked in the UPDATE
          refresher.child.kill('SIGKILL');
          await refresher.exited();
        } finally {
          await rowLock.release();
        }
        await alarmbox.database.db.deleteFrom('alarmbox_locks').execute(); // its lease would expire in 3 s
        const after = await snapshot();
        if (after.version === before.version) {
          // SQLite: the UPDATE never ran. Exactly the old pair, and the mode decides what follows.
          expect(after).toEqual(before);
          await expectModeOutcome();
        } else {
          // PostgreSQL / MariaDB finish a statement already sent even when its client died: then the whole
          // new pair is there (never one column of it), and it works.
          expect(after.version).toBe(before.version + 1);
          expect(after.access).not.toBe(before.access);
          expect(after.refresh).not.toBe(before.refresh);
          expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
        }
      });

      it('the database lost after AlarmBox answered: the error says what it means for each rotation mode', async () => {
        const before = await snapshot();
        const blocked = alarmboxFor(emulator, fixture.url, keys, { httpTimeoutMs: HTTP_TIMEOUT_MS });
        await blocked.database.ping();
        emulator.setFaults({ token: { delayMs: 400, times: 1 } });
        const pending = expectReason(
          blocked.tokens.refresh({ force: true }),
          'temporary',
          AlarmboxTokenExpiredError,
        );
        await sleep(150);
        const rowLock = await lockRowOne(fixture.target);
        let lost: AlarmboxTokenExpiredError;
        try {
          for (let i = 0; (refreshes().ok ?? 0) === 0 && i < 300; i++) await sleep(10);
          await sleep(200);
          await rowLock.killOthers();
          lost = await pending;
        } finally {
          await rowLock.release();
          await blocked.close().catch(() => undefined);
        }
        expect(lost.message).toContain('データベースに保存できませんでした');
        expect(lost.message).toContain('on_use');
        expect(lost.message).toContain('immediate');
        expect(await snapshot()).toEqual(before);
        await alarmbox.database.db.deleteFrom('alarmbox_locks').execute();
        await expectModeOutcome();
      }, 20_000);
    });
  }
});

describeEachDatabase('stale lease holder and lock waits', (fixture) => {
  for (const rotation of ['on_use', 'immediate'] as const) {
    it(`a holder whose lease expired cannot overwrite the newer pair (${rotation})`, async () => {
      const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation });
      const base = alarmboxFor(emulator, fixture.url, generateKeySpec('s1'));
      try {
        await migrateToLatest(base.database);
        await base.database.db.deleteFrom('alarmbox_locks').execute();
        await registerToken(base, emulator);
        const peer = (owner: string) =>
          new TokenService({
            store: base.store,
            client: () => base.client,
            // a lease far shorter than AlarmBox's answer: the holder outlives it
            lock: new LockManager(base.database, {
              name: TokenService.LOCK_NAME,
              leaseMs: 200,
              ownerId: owner,
              pollMs: 20,
            }),
            lockWaitMs: 5_000,
            fallbackExpiresIn: 3600,
          });
        emulator.setFaults({ token: { delayMs: 1_200, times: 1 } });
        const stale = peer('stale').refresh({ force: true });
        await sleep(500);
        const fresh = await peer('fresh').refresh({ force: true });
        expect(fresh.refreshed).toBe(true);
        const late = await stale;
        expect(late.accessToken).toBe(fresh.accessToken);
        expect(late.refreshed).toBe(false);
        const stored = await base.store.getInstance();
        expect(stored.getDecryptedAccessToken()).toBe(fresh.accessToken);
        const outcomes = emulator.stats().tokenRequests.refresh_token;
        expect(outcomes).toEqual(rotation === 'on_use' ? { ok: 2 } : { ok: 1, invalid_grant: 1 });
      } finally {
        await base.close();
        await emulator.close();
      }
    });
  }

  it('a lock wait that times out is temporary (exit 5), never "re-authorize"', async () => {
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    const keys = generateKeySpec('w1');
    const base = alarmboxFor(emulator, fixture.url, keys);
    try {
      await migrateToLatest(base.database);
      await base.database.db.deleteFrom('alarmbox_locks').execute();
      await registerToken(base, emulator);
      await base.store.markExpired();
      const held = await new LockManager(base.database, {
        name: TokenService.LOCK_NAME,
        leaseMs: 20_000,
      }).acquire({
        waitMs: 1_000,
      });
      const r = await runCli(
        ['access-token'],
        emulatorEnv(emulator, fixture.url, keys, { ALARMBOX_LOCK_WAIT_MS: '700' }),
      );
      await held.release();
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('ロック');
      expect(r.stderr).not.toContain('再認可');
      expect(emulator.stats().tokenRequests.refresh_token, 'refreshes at AlarmBox').toEqual({});
    } finally {
      await base.close();
      await emulator.close();
    }
  });
});

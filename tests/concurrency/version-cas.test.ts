// A failed compare-and-set on `version` proves a peer's save, or it is not "ok". With a corrupted `version`
// (a bigint beyond 2^53 that JavaScript rounds, text on SQLite) `refresh-token` once sent the token request,
// saved nothing and exited 0 `peer_refreshed`; with immediate rotation the next refresh exited 4. Now a
// corrupted counter stops the refresh before anything is sent, one corrupted while AlarmBox answers does not
// cost the issued pair, and a genuine peer is still a peer. Real CLI processes, the emulator rotating at
// once, every database.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE, TOKENS_TABLE } from '../../src/db/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus, obtainCode } from '../support/authorize.ts';
import { runCli } from '../support/cli.ts';
import {
  CliProcess,
  type LogEvent,
  logEvents,
  runRefreshToken,
  useChildProcesses,
} from '../support/cli-process.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase(
  'the version compare-and-set of a refresh',
  (fixture) => {
    let emulator: RunningEmulator;
    let alarmbox: Toolkit;
    let env: Record<string, string>;
    const keys = generateKeySpec('v1');
    // Each test starts from a reset emulator (no faults): only its children need stopping.
    const running = useChildProcesses();
    /** Every refresh request AlarmBox saw, whatever it answered. */
    const refreshRequests = () =>
      Object.values(emulator.stats().tokenRequests.refresh_token).reduce((a, b) => a + b, 0);
    /** What a corrupted row holds: beyond 2^53 on every database (and int8's maximum), text on SQLite. */
    const corrupted = () => [
      '9007199254740993',
      '9223372036854775807',
      ...(fixture.kind === 'sqlite' ? ["'abc'"] : []),
    ];
    const corrupt = (literal: string) =>
      sql`update ${sql.table(TOKENS_TABLE)} set version = ${sql.raw(literal)} where id = 1`.execute(
        alarmbox.database.db,
      );
    const rawVersion = async () =>
      String(
        (
          await sql<{
            v: string;
          }>`select cast(version as char(30)) as v from ${sql.table(TOKENS_TABLE)} where id = 1`.execute(
            alarmbox.database.db,
          )
        ).rows[0]?.v,
      ).trim();
    const refresh = () => runRefreshToken(env, ['--retries=0']);
    /** Waits until the delayed token request (the `faults`-th of this test) is inside AlarmBox. */
    const untilTokenRequestArrives = async (faults: number) => {
      for (let i = 0; emulator.stats().faultsInjected.token < faults && i < 1_500; i++) await sleep(10);
      expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(faults);
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

    it('a corrupted version stops the refresh before any token request (exit 2), names the column and the fix, and the fix works', async () => {
      for (const literal of corrupted()) {
        const sent = refreshRequests();
        await corrupt(literal);
        const before = await rawVersion();
        const r = await refresh();
        expect(r.code, `${literal}: ${r.stdout}`).toBe(2);
        expect(r.end).toMatchObject({ outcome: 'stored_data_invalid', exitCode: 2 });
        const message = String(r.end.message);
        expect(message).toContain(`テーブル ${TOKENS_TABLE} の行 1 の列 version`);
        expect(message).toContain('AlarmBox には何も送っていない');
        expect(message).toContain(`UPDATE ${TOKENS_TABLE} SET version = 1 WHERE id = 1`);
        // Nothing was sent, nothing stored changed.
        expect(refreshRequests(), 'refreshes at AlarmBox').toBe(sent);
        expect(await rawVersion()).toBe(before);
        // The valid access token is still read: the counter only matters to a refresh.
        const read = await runCli(['access-token'], env);
        expect(read.code, read.stderr).toBe(0);

        // The fix the message gives, and the chain is intact: two refreshes in a row (immediate rotation).
        await sql.raw(`UPDATE ${TOKENS_TABLE} SET version = 1 WHERE id = 1`).execute(alarmbox.database.db);
        for (const round of [1, 2]) {
          const fixed = await refresh();
          expect(fixed.code, `${literal} round ${round}: ${fixed.stdout}`).toBe(0);
          expect(fixed.end).toMatchObject({ outcome: 'ok', code: 'refreshed' });
        }
        expect(refreshRequests(), 'refreshes at AlarmBox').toBe(sent + 2);
      }
    });

    it('save-token (the re-authorization the reason suggests) repairs a corrupted version', async () => {
      await corrupt('9223372036854775807');
      const saved = await runCli(['save-token', `--code=${await obtainCode(emulator)}`], env);
      expect(saved.code, saved.stderr).toBe(0);
      expect(await rawVersion()).toBe('1');
      const r = await refresh();
      expect(r.code, r.stdout).toBe(0);
      expect(r.end).toMatchObject({ outcome: 'ok', code: 'refreshed' });
    });

    it('corrupted while AlarmBox answers: the issued pair is saved (not "peer_refreshed"), exit 2, and the next refresh works', async () => {
      for (const [index, literal] of corrupted().entries()) {
        const before = await alarmbox.store.getInstance();
        const oldRefresh = before.getDecryptedRefreshToken();
        emulator.setFaults({ token: { delayMs: 1_500, times: 1 } });
        const run = new CliProcess(['refresh-token', '--log-format=json', '--retries=0'], env);
        running.push(run);
        await untilTokenRequestArrives(index + 1);
        // The child has read row 1 and sent the refresh token: the counter goes bad under it.
        await corrupt(literal);
        const done = await run.exited(30_000);
        const end = logEvents(done.stdout).find((e: LogEvent) => e.event === 'end');
        expect(done.code, `${literal}: ${done.stdout}${done.stderr}`).toBe(2);
        expect(end).toMatchObject({ outcome: 'stored_data_invalid', exitCode: 2 });
        expect(String(end?.message)).toContain(`version を ${before.version + 1} に直しました`);
        expect(String(end?.message)).not.toContain(oldRefresh);

        // What AlarmBox issued is stored, with a sound counter; the old refresh token is dead (immediate).
        const after = await alarmbox.store.getInstance();
        expect(after.version).toBe(before.version + 1);
        expect(after.getDecryptedRefreshToken()).not.toBe(oldRefresh);
        expect(await apiStatus(emulator, after.getDecryptedAccessToken())).toBe(200);
        expect(after.lastRefreshOutcome).toBe('stored_data_invalid');

        emulator.setFaults({});
        const next = await refresh();
        expect(next.code, `${literal}: ${next.stdout}`).toBe(0);
        expect(next.end).toMatchObject({ outcome: 'ok', code: 'refreshed' });
      }
    });

    it('a genuine peer (two concurrent refreshes, the first one outliving its lease) is still peer_refreshed', async () => {
      const before = await alarmbox.store.getInstance();
      emulator.setFaults({ token: { delayMs: 1_500, times: 1 } });
      const slow = new CliProcess(['refresh-token', '--log-format=json', '--retries=0'], env);
      running.push(slow);
      await untilTokenRequestArrives(1);
      // The slow run's lease runs out (as a paused process's would), and a peer takes it over and refreshes.
      await alarmbox.database.db
        .updateTable(LOCKS_TABLE)
        .set({ expires_at_ms: 0 })
        .where('name', '=', TokenService.LOCK_NAME)
        .execute();
      const peer = await alarmbox.tokens.refresh({ force: true });
      expect(peer.refreshed).toBe(true);

      const done = await slow.exited(30_000);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(logEvents(done.stdout).find((e) => e.event === 'end')).toMatchObject({
        outcome: 'skipped',
        code: 'peer_refreshed',
        exitCode: 0,
      });
      const stored = await alarmbox.store.getInstance();
      expect(stored.version).toBe(before.version + 1);
      expect(stored.getDecryptedAccessToken()).toBe(peer.accessToken);
      const next = await refresh();
      expect(next.code, next.stdout).toBe(0);
    });
  },
  { concurrentKinds: true },
);

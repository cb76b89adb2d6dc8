// The reason this product exists: at expiry, many processes × many callers, exactly one token request per
// rotation, everyone gets the same new token, nobody errors, in both of Doorkeeper's rotation modes.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { runCli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { NodeScript } from '../support/node-scripts.ts';

const PROCESSES = 8;
const CALLERS = 25;
const digest = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

interface RoundResult {
  readonly tokens: string[];
  readonly errors: string[];
  readonly ms: number;
}

describeEachDatabase('refresh under contention', (fixture) => {
  for (const rotation of ['on_use', 'immediate'] as const) {
    describe(`rotation ${rotation}`, () => {
      let emulator: RunningEmulator;
      let alarmbox: Toolkit;
      let env: Record<string, string>;
      let callers: NodeScript[] = [];
      const refreshes = () => emulator.stats().tokenRequests.refresh_token;

      beforeAll(async () => {
        emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation });
        const keys = generateKeySpec('c1');
        env = emulatorEnv(emulator, fixture.url, keys, { ALARMBOX_HTTP_TIMEOUT_MS: '5000' });
        alarmbox = alarmboxFor(emulator, fixture.url, keys);
        await migrateToLatest(alarmbox.database);
        await registerToken(alarmbox, emulator);
        callers = Array.from(
          { length: PROCESSES },
          () => new NodeScript('token-caller.ts', [String(CALLERS)], env),
        );
        await Promise.all(callers.map((c) => c.waitForLine('ready', 30_000)));
      }, 90_000);

      afterAll(async () => {
        for (const c of callers) c.send('exit');
        await Promise.all(callers.map((c) => c.exited().catch(() => undefined)));
        await alarmbox?.close();
        await emulator?.close();
      });

      async function round(name: string, command: 'go' | 'force' = 'go'): Promise<RoundResult[]> {
        for (const c of callers) c.send(`${command} ${name}`);
        const lines = await Promise.all(callers.map((c) => c.waitForLine(`result:${name} `, 60_000)));
        return lines.map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)) as RoundResult);
      }

      it(`${PROCESSES} processes × ${CALLERS} callers at expiry, 3 rotations: one request each, one token for all`, async () => {
        for (const n of [1, 2, 3]) {
          await alarmbox.store.markExpired();
          const before = refreshes().ok ?? 0;
          const version = (await alarmbox.store.getInstance()).version;
          const results = await round(`r${n}`);
          expect(results.flatMap((r) => r.errors)).toEqual([]);
          const tokens = new Set(results.flatMap((r) => r.tokens));
          expect(tokens.size).toBe(1);
          expect(refreshes().ok ?? 0, 'refreshes at AlarmBox').toBe(before + 1);
          const stored = await alarmbox.store.getInstance();
          expect(stored.version).toBe(version + 1);
          expect([...tokens]).toEqual([digest(stored.getDecryptedAccessToken())]);
        }
        // each rotation saved the new refresh token: nothing was ever rejected
        expect(Object.keys(refreshes()), 'kinds of refresh outcome at AlarmBox').toEqual(['ok']);
        expect(
          await apiStatus(emulator, (await alarmbox.store.getInstance()).getDecryptedAccessToken()),
        ).toBe(200);
      });

      it('the forced batch refresh racing online refreshes: one rotation at a time, no invalid_grant, newest pair stored', async () => {
        await alarmbox.store.markExpired();
        const batch = Array.from({ length: 3 }, () => runCli(['refresh-token'], env));
        const online = round('race');
        const [batchResults, onlineResults] = await Promise.all([Promise.all(batch), online]);
        for (const r of batchResults) expect(r.code, r.stderr).toBe(0);
        expect(onlineResults.flatMap((r) => r.errors)).toEqual([]);
        expect(Object.keys(refreshes()), 'kinds of refresh outcome at AlarmBox').toEqual(['ok']);
        // the stored pair is the newest: its access token works and its refresh token is still alive
        const stored = await alarmbox.store.getInstance();
        expect(await apiStatus(emulator, stored.getDecryptedAccessToken())).toBe(200);
        const next = await alarmbox.tokens.refresh({ force: true });
        expect(next.refreshed).toBe(true);
        expect(Object.keys(refreshes()), 'kinds of refresh outcome at AlarmBox').toEqual(['ok']);
      });
    });
  }
});

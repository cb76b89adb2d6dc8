// Key rotation on every database: `alarmbox rekey` re-encrypts row 1 with the first key of the ring, the
// token stays usable, the old key can then be removed; and it is safe while refreshes are going on.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rekeyStoredToken } from '../../src/alarmbox/rekey.ts';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/index.ts';
import { TOKENS_TABLE } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { apiStatus } from '../support/authorize.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

describeEachDatabase(
  'alarmbox rekey',
  (fixture) => {
    let emulator: RunningEmulator;
    let setup: Registered;
    const k1 = generateKeySpec('k1');
    const k2 = generateKeySpec('k2');
    const outputs: string[] = [];
    const cli = async (args: string[], keys: string): Promise<CliResult> => {
      const r = await runCli(args, { ...setup.env, ALARMBOX_ENCRYPTION_KEYS: keys });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const raw = () =>
      setup.alarmbox.database.db
        .selectFrom(TOKENS_TABLE)
        .select(['access_token', 'refresh_token', 'version'])
        .executeTakeFirstOrThrow();

    beforeAll(async () => {
      // immediate rotation: a stale pair written back by mistake would be dead at once, and the test would see it.
      emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation: 'immediate' });
      setup = await openRegistered(emulator, fixture.url, k1);
    });
    afterAll(async () => {
      await setup.collect().catch(() => undefined);
      expectNoSecrets(outputs, setup.secrets);
      await setup?.close();
      await emulator?.close();
    });

    it('nothing registered: exit 3', async () => {
      const r = await cli(['rekey'], `${k2},${k1}`);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('save-token');
    });

    it('re-encrypts with the first key; the token stays usable and the old key removable', async () => {
      await setup.register();
      const before = await raw();
      const token = (await setup.alarmbox.store.getInstance()).getDecryptedAccessToken();
      expect(before.access_token.startsWith('v1.k1.')).toBe(true);

      const r = await cli(['rekey'], `${k2},${k1}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('"k2"');
      expect(r.stdout).toContain('以前のキー: k1');
      const after = await raw();
      expect(after.access_token.startsWith('v1.k2.')).toBe(true);
      expect(after.refresh_token.startsWith('v1.k2.')).toBe(true);
      expect(after.version).toBe(before.version);

      const again = await cli(['rekey'], `${k2},${k1}`);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('すでに');
      expect(await raw()).toEqual(after);

      // The old key is gone from the ring: the stored pair still works, both tokens.
      const revealed = await cli(['access-token', '--reveal'], k2);
      expect(revealed.code, revealed.stderr).toBe(0);
      expect(revealed.stdout.trim()).toBe(token);
      // The one output allowed to hold a token is --reveal's stdout (cli() pushed stdout, then stderr).
      outputs.splice(outputs.length - 2, 1);
      expect(await apiStatus(emulator, token)).toBe(200);
      const refreshed = await cli(['refresh-token'], k2);
      expect(refreshed.code, refreshed.stderr).toBe(0);
      expect(refreshed.stdout).toContain('トークンを更新しました');
      const doctor = await cli(['doctor'], k2);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).not.toContain('alarmbox rekey');
    });

    it('a row under a key missing from the ring: exit 2 naming it, row untouched', async () => {
      const before = await raw();
      const r = await cli(['rekey'], generateKeySpec('k3'));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('"k2"');
      expect(await raw()).toEqual(before);
    });

    it('safe while the app refreshes: no refresh is lost, the stored pair is the newest and readable with the new key alone', async () => {
      // Mid-deploy: an instance still encrypts with the old key k2 (it knows k4) and keeps refreshing while
      // rekey moves the row to k4. They overwrite each other's encryption, never each other's tokens.
      const k4 = generateKeySpec('k4');
      const app = createToolkit({
        env: 'dev',
        databaseUrl: fixture.url,
        encryptionKeys: `${k2},${k4}`,
        baseUrl: emulator.url,
        clientId: emulator.options.clientId,
        clientSecret: emulator.options.clientSecret,
      });
      try {
        const ring = parseKeyRing(`${k4},${k2}`, 'test');
        let refreshes = 0;
        const refresher = (async () => {
          for (let i = 0; i < 6; i++) {
            await app.tokens.refresh({ force: true, trigger: 'manual' });
            refreshes++;
          }
        })();
        const rekeys = (async () => {
          const results = [];
          for (let i = 0; i < 6; i++) results.push(await rekeyStoredToken(app.database, ring));
          return results;
        })();
        const [, results] = await Promise.all([refresher, rekeys]);
        expect(refreshes).toBe(6);
        expect(results.some((r) => r.changed)).toBe(true);
        // Once every instance runs with the new ring, a last rekey leaves the row under k4.
        await rekeyStoredToken(app.database, ring);
        const stored = await raw();
        expect(stored.access_token.startsWith('v1.k4.')).toBe(true);
        expect(stored.refresh_token.startsWith('v1.k4.')).toBe(true);
        // Readable with k4 alone, and the newest pair (immediate rotation: any older one would be revoked).
        const alone = createToolkit({
          env: 'dev',
          databaseUrl: fixture.url,
          encryptionKeys: k4,
          baseUrl: emulator.url,
          clientId: emulator.options.clientId,
          clientSecret: emulator.options.clientSecret,
        });
        try {
          const token = await alone.tokens.getValidAccessToken();
          setup.secrets.add(token);
          expect(await apiStatus(emulator, token)).toBe(200);
          expect((await alone.tokens.refresh({ force: true })).refreshed).toBe(true);
        } finally {
          await alone.close();
        }
      } finally {
        await app.close();
      }
    });
  },
  { concurrentKinds: true },
);

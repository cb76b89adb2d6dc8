// Whatever AlarmBox issued is kept: a 200 with a usable refresh token is stored whatever else is odd, the
// oddity is reported (history, row 1 → status / doctor, a process warning), and the next refresh works.
// Under both rotation modes, on every database (the long-token case checks the column types).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type FaultSpec, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { runCli } from '../support/cli.ts';
import { ANY_CONTROL } from '../support/controls.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectReason } from '../support/rejections.ts';

const FALLBACK = 7_200;

/** fault → the warning code it must leave, and whether the new access token is usable as it came. */
const ODD_200S: readonly [string, FaultSpec, string][] = [
  ['token_type missing', { response: { omit: ['token_type'] } }, 'token_type_missing'],
  ['token_type mac', { response: { set: { token_type: 'mac' } } }, 'token_type_not_bearer'],
  ['expires_in 0', { response: { set: { expires_in: 0 } } }, 'expires_in_invalid'],
  ['expires_in negative', { response: { set: { expires_in: -3600 } } }, 'expires_in_invalid'],
  ['expires_in huge', { response: { set: { expires_in: 1e12 } } }, 'expires_in_invalid'],
  ['expires_in a string', { response: { set: { expires_in: '7200' } } }, 'expires_in_invalid'],
  ['expires_in missing', { response: { omit: ['expires_in'] } }, 'expires_in_missing'],
  // The scope is not a token, but a value its column refuses (PostgreSQL: NUL; MariaDB strict: too long)
  // must not lose the pair AlarmBox issued.
  ['scope with a NUL', { response: { set: { scope: 'read\u0000write' } } }, 'scope_control_characters'],
  [
    'scope with control characters',
    { response: { set: { scope: 'read\u001b[2J\u0007\r\nトークンを保存しました\u009b31m\u202e' } } },
    'scope_control_characters',
  ],
  ['scope of 900,000 characters', { response: { set: { scope: 's'.repeat(900_000) } } }, 'scope_too_long'],
  [
    'scope of 900,000 characters in many scopes',
    { response: { set: { scope: 'credit_checks:read '.repeat(47_370) } } },
    'scope_too_long',
  ],
  ['scope a number', { response: { set: { scope: 42 } } }, 'scope_not_string'],
  ['scope an object', { response: { set: { scope: { read: true } } } }, 'scope_not_string'],
  ['scope an array', { response: { set: { scope: ['read', 'write'] } } }, 'scope_not_string'],
];

describeEachDatabase('odd 200s from the token endpoint', (fixture) => {
  for (const rotation of ['on_use', 'immediate'] as const) {
    describe(`rotation ${rotation}`, () => {
      let emulator: RunningEmulator;
      let alarmbox: Toolkit;
      const keys = generateKeySpec('o1');
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);

      beforeAll(async () => {
        emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation });
        alarmbox = alarmboxFor(emulator, fixture.url, keys, { fallbackExpiresIn: FALLBACK });
        await migrateToLatest(alarmbox.database);
        process.on('warning', onWarning);
      });
      afterAll(async () => {
        process.off('warning', onWarning);
        await alarmbox?.close();
        await emulator?.close();
      });
      beforeEach(async () => {
        emulator.reset();
        warnings.length = 0;
        await registerToken(alarmbox, emulator);
      });

      it.each(ODD_200S)(
        '%s: the pair is stored, the oddity reported, the next refresh works',
        async (_n, fault, code) => {
          const before = await alarmbox.store.getInstance();
          emulator.setFaults({ token: { ...fault, times: 1 } });
          const sent = Date.now();
          const result = await alarmbox.tokens.refresh({ force: true });
          expect(result.refreshed).toBe(true);
          expect(result.warnings?.map((w) => w.code)).toContain(code);
          const after = await alarmbox.store.getInstance();
          expect(after.version).toBe(before.version + 1);
          expect(after.getDecryptedRefreshToken()).not.toBe(before.getDecryptedRefreshToken());
          expect(await apiStatus(emulator, after.getDecryptedAccessToken())).toBe(200);
          if (code.startsWith('expires_in')) {
            // The fallback lifetime, counted from the request.
            expect(result.expiredAt.getTime()).toBeGreaterThanOrEqual(sent + FALLBACK * 1000);
            expect(result.expiredAt.getTime()).toBeLessThanOrEqual(Date.now() + FALLBACK * 1000);
          }
          if (code.startsWith('scope')) {
            // Stored as its column can hold it: printable, at most varchar(512).
            expect(after.scope ?? '').not.toMatch(ANY_CONTROL);
            expect((after.scope ?? '').length).toBeLessThanOrEqual(512);
            if (code === 'scope_not_string') {
              expect(after.scope).toBe(
                Array.isArray(fault.response?.set?.scope) ? 'read write' : before.scope,
              );
            }
          }
          // Reported: row 1 (status, doctor), the history, the process warning.
          expect(after.lastRefreshOutcome).toBe('ok');
          expect(after.lastError).toContain(code);
          await alarmbox.history.flush();
          // Writes of earlier tests may land around it (the pool runs them side by side): look among the newest.
          const rows = await alarmbox.history.recent(5);
          expect(rows.some((row) => row.outcome === 'ok' && row.message?.includes(code) === true)).toBe(true);
          await new Promise((r) => setImmediate(r));
          expect(warnings.join('\n')).toContain(code);
          // The next refresh works with what was stored.
          const next = await alarmbox.tokens.refresh({ force: true });
          expect(next.refreshed).toBe(true);
          expect(next.warnings ?? []).toEqual([]);
          expect((await alarmbox.store.getInstance()).lastError).toBeNull();
          expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 2 });
        },
      );

      it('tokens of 5000 and 100000 characters (a custom Doorkeeper generator) are stored and used', async () => {
        for (const length of [5_000, 100_000]) {
          emulator.setFaults({ token: { tokenLength: length, times: 1 } });
          const result = await alarmbox.tokens.refresh({ force: true });
          expect(result.refreshed).toBe(true);
          const stored = await alarmbox.store.getInstance();
          expect(stored.getDecryptedRefreshToken()).toHaveLength(length);
          expect(stored.getDecryptedAccessToken()).toHaveLength(length);
          const next = await alarmbox.tokens.refresh({ force: true });
          expect(next.refreshed).toBe(true);
        }
      });

      it('no usable access token: the new refresh token is kept, the call is temporary, the next read recovers', async () => {
        emulator.setFaults({ token: { response: { omit: ['access_token'] }, times: 1 } });
        await expectReason(alarmbox.tokens.refresh({ force: true }), 'temporary', AlarmboxTokenExpiredError);
        const kept = await alarmbox.store.getInstance();
        expect(kept.getDecryptedAccessToken()).toBe('');
        expect(kept.lastError).toContain('access_token_unusable');
        const token = await alarmbox.tokens.getValidAccessToken();
        expect(await apiStatus(emulator, token)).toBe(200);
        expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 2 });
      });

      it('no refresh_token: a visible warning; immediate rotation then needs re-authorization, on_use goes on', async () => {
        emulator.setFaults({ token: { response: { omit: ['refresh_token'] }, times: 1 } });
        const result = await alarmbox.tokens.refresh({ force: true });
        expect(result.warnings?.map((w) => w.code)).toEqual(['refresh_token_missing']);
        await new Promise((r) => setImmediate(r));
        expect(warnings.join('\n')).toContain('immediate');
        expect((await alarmbox.store.getInstance()).lastError).toContain('refresh_token_missing');
        if (rotation === 'immediate') {
          await expectReason(
            alarmbox.tokens.refresh({ force: true }),
            'reauthorization_required',
            AlarmboxTokenExpiredError,
          );
        } else {
          expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
        }
      });

      it('status and doctor show the warning of the stored pair', async () => {
        emulator.setFaults({ token: { response: { set: { token_type: 'mac' } }, times: 1 } });
        await alarmbox.tokens.refresh({ force: true });
        await alarmbox.history.flush();
        const env = emulatorEnv(emulator, fixture.url, keys);
        const status = await runCli(['status'], env);
        expect(status.stdout).toContain('最後の警告');
        expect(status.stdout).toContain('token_type_not_bearer');
        const doctor = await runCli(['doctor'], env);
        expect(doctor.stdout + doctor.stderr).toContain('token_type_not_bearer');
      });
    });
  }
});

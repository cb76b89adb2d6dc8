// Every way the token endpoint can fail or lie: the right reason, and nothing stored changes unless a
// valid pair arrived. Plus random (property-based) token responses: no crash, no hang, no secret shown.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import { isUsableToken } from '../../src/alarmbox/token-response.ts';
import { createToolkit, type Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { FaultSpec, RunningEmulator } from '../../src/emulator/index.ts';
import type { FailureReason } from '../../src/failure-reason.ts';
import { registerToken, storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { closedPort } from '../support/closed-port.ts';
import { expectReason } from '../support/rejections.ts';

const FALLBACK = 7_200;

describe('token endpoint faults (SQLite)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;

  const snapshot = () => storedPair(alarmbox);

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-faults-')), 'faults.db')}`,
      keys: generateKeySpec('f1'),
      alarmbox: { httpTimeoutMs: 800, fallbackExpiresIn: FALLBACK },
    },
    (world) => {
      ({ emulator, alarmbox } = world);
    },
  );

  it.each<[string, FaultSpec, FailureReason]>([
    ['timeout', { delayMs: 2_000 }, 'temporary'],
    ['connection reset before any answer', { drop: 'before' }, 'temporary'],
    ['connection reset mid-body after a 200', { drop: 'mid-body' }, 'temporary'],
    ['429', { status: 429, retryAfter: 30 }, 'temporary'],
    ['500', { status: 500 }, 'temporary'],
    ['503 with an empty body', { status: 503, body: 'empty' }, 'temporary'],
    ['200 with an HTML page', { body: 'html' }, 'temporary'],
    ['200 with broken JSON', { body: 'broken-json' }, 'temporary'],
    [
      'JSON without access_token nor refresh_token',
      { response: { omit: ['access_token', 'refresh_token'] } },
      'temporary',
    ],
    ['a body past the 1 MiB limit', { body: 'huge' }, 'temporary'],
  ])('%s: reason %s, nothing stored changes', async (_name, fault, reason) => {
    const before = await snapshot();
    emulator.setFaults({ token: fault });
    const e = await expectReason(alarmbox.tokens.refresh({ force: true }), reason, AlarmboxTokenExpiredError);
    emulator.setFaults({});
    expect(e.message).toContain('トークンの更新に失敗しました');
    expect(await snapshot()).toEqual(before);
    expect((await alarmbox.store.getInstance()).lastRefreshOutcome).toBe(reason);
  });

  it('connection refused: temporary, with the cause named', async () => {
    const down = createToolkit({
      env: 'dev',
      databaseUrl: 'sqlite::memory:',
      encryptionKeys: generateKeySpec('d1'),
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      clientId: 'x',
      clientSecret: 'y',
    });
    try {
      await expect(down.client.refreshToken('some-refresh-token')).rejects.toMatchObject({
        reason: 'temporary',
        message: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await down.close();
    }
  });

  it('missing expires_in: the configured fallback lifetime, counted from the request', async () => {
    emulator.setFaults({ token: { response: { omit: ['expires_in'] } } });
    const sent = Date.now();
    const result = await alarmbox.tokens.refresh({ force: true });
    const done = Date.now();
    expect(result.refreshed).toBe(true);
    expect(result.expiredAt.getTime()).toBeGreaterThanOrEqual(sent + FALLBACK * 1000);
    expect(result.expiredAt.getTime()).toBeLessThanOrEqual(done + FALLBACK * 1000);
  });

  it('missing refresh_token: the new access token is stored with the old refresh token', async () => {
    const before = await snapshot();
    emulator.setFaults({ token: { response: { omit: ['refresh_token'] } } });
    const result = await alarmbox.tokens.refresh({ force: true });
    const after = await snapshot();
    expect(after.access).toBe(result.accessToken);
    expect(after.access).not.toBe(before.access);
    expect(after.refresh).toBe(before.refresh);
    expect(after.version).toBe(before.version + 1);
  });

  it.each([600, -600])('a clock offset of %i s on AlarmBox does not move our expiry', async (offset) => {
    emulator.setClockOffset(offset);
    const sent = Date.now();
    const result = await alarmbox.tokens.refresh({ force: true });
    const done = Date.now();
    expect(result.expiredAt.getTime()).toBeGreaterThanOrEqual(sent + 86_400_000);
    expect(result.expiredAt.getTime()).toBeLessThanOrEqual(done + 86_400_000);
    expect(await alarmbox.tokens.getValidAccessToken()).toBe(result.accessToken);
  });

  it('random token responses: a typed error or a stored valid pair, never a crash, a hang or a secret', async () => {
    const secretish = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
    const value = fc.oneof(
      secretish,
      fc.string({ maxLength: 40 }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.string({ minLength: 500, maxLength: 700 }),
    );
    const keys = [
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'scope',
      'created_at',
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 }),
        fc.subarray([...keys]),
        async (set, omit) => {
          const before = await snapshot();
          emulator.setFaults({ token: { response: { set, omit } } });
          const outcome = await alarmbox.tokens.refresh({ force: true }).then(
            (r) => ({ ok: true as const, r }),
            (e: unknown) => ({ ok: false as const, e }),
          );
          emulator.setFaults({});
          const after = await snapshot();
          // What the tampered answer carried: `set` is applied after `omit`.
          const carried = (key: 'access_token' | 'refresh_token') =>
            key in set ? isUsableToken(set[key]) : !omit.includes(key);
          const keptRefresh = carried('refresh_token');
          const keptAccess = carried('access_token');
          if (keptRefresh || keptAccess) {
            // Whatever else was odd, what AlarmBox issued is stored.
            expect(after.version).toBe(before.version + 1);
            expect(Number.isFinite(after.expiredAt)).toBe(true);
            if (keptRefresh) expect(after.refresh).not.toBe(before.refresh);
            else expect(after.refresh).toBe(before.refresh);
            if (keptAccess) {
              expect(outcome.ok).toBe(true);
              if (outcome.ok) expect(after.access).toBe(outcome.r.accessToken);
            } else {
              expect(outcome.ok).toBe(false);
              expect(after.access).toBe('');
            }
          } else {
            expect(outcome.ok).toBe(false);
            expect(after).toEqual(before);
          }
          if (!outcome.ok) {
            expect(outcome.e).toBeInstanceOf(AlarmboxTokenExpiredError);
            const message = (outcome.e as Error).message;
            for (const v of Object.values(set)) {
              if (typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v)) expect(message).not.toContain(v);
            }
            expect(message).not.toContain(before.refresh);
          }
          // A refresh token the emulator never issued ends the chain: start a new one.
          if ('refresh_token' in set && keptRefresh) await registerToken(alarmbox, emulator);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});

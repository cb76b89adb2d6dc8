// alarmbox.health() on every database against the emulator over HTTP: each state a probe can meet, no
// request to AlarmBox and no refresh from the check itself, no secret in the answer, and the time bound
// against a database that accepts connections and never answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmboxHealth } from '../../src/alarmbox/health.ts';
import { createAlarmbox, type Toolkit } from '../../src/create.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { REFRESH_HISTORY_TABLE, TOKENS_TABLE } from '../../src/db/schema.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, registerToken } from '../support/alarmbox.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectReason } from '../support/rejections.ts';
import { type SilentListener, silentListener } from '../support/silent-listener.ts';

const KEYS = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';

/** Every token request the emulator has answered, of any grant and outcome. */
function tokenRequests(emulator: RunningEmulator): number {
  return Object.values(emulator.stats().tokenRequests)
    .flatMap((byOutcome) => Object.values(byOutcome))
    .reduce((a, b) => a + b, 0);
}

describeEachDatabase('alarmbox.health()', (fixture) => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  const secrets = new Set<string>();

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    secrets.add(emulator.options.clientSecret);
    alarmbox = alarmboxFor(emulator, fixture.url, KEYS);
    await migrateToLatest(alarmbox.database);
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    await alarmbox.database.db.deleteFrom(TOKENS_TABLE).execute();
    await alarmbox.database.db.deleteFrom(REFRESH_HISTORY_TABLE).execute();
  });

  /** health() with the checks that it neither asked AlarmBox nor changed row 1, and held no secret. */
  async function health(): Promise<AlarmboxHealth> {
    const requests = tokenRequests(emulator);
    const before = await alarmbox.store.getInstance();
    const result = await alarmbox.health();
    const after = await alarmbox.store.getInstance();
    expect(tokenRequests(emulator), 'health() sent no token request').toBe(requests);
    expect(after.version, 'health() wrote no pair').toBe(before.version);
    const text = JSON.stringify(result);
    for (const secret of secrets) expect(text.includes(secret), 'no secret in the result').toBe(false);
    return result;
  }
  async function register(): Promise<void> {
    const pair = await registerToken(alarmbox, emulator);
    secrets.add(pair.access).add(pair.refresh);
  }
  /** A real refresh through the emulator that fails as `fault` makes it (the row records the reason). */
  async function failedRefresh(fault: Parameters<RunningEmulator['setFaults']>[0]): Promise<void> {
    emulator.setFaults(fault);
    await alarmbox.tokens.refresh({ force: true }).catch(() => undefined);
    await alarmbox.history.flush();
    emulator.setFaults({});
  }

  it('nothing registered: down, not_registered, with the fix', async () => {
    const result = await health();
    expect(result).toMatchObject({
      status: 'down',
      ready: false,
      reason: 'not_registered',
      secondsRemaining: null,
    });
    expect(result.checks.database).toMatchObject({ status: 'pass', state: 'reachable' });
    expect(result.checks.registration).toMatchObject({ status: 'fail', state: 'not_registered' });
    expect(result.checks.registration.message).toContain('alarmbox save-token');
  });

  it('a fresh pair: ok and ready, the expiry a day away', async () => {
    await register();
    const result = await health();
    expect(result).toMatchObject({ status: 'ok', ready: true, reason: null, lastRefreshOutcome: 'ok' });
    expect(result.secondsRemaining).toBeGreaterThan(86_000);
    expect(result.checks.accessToken).toMatchObject({ status: 'pass', state: 'valid', message: null });
    expect(result.consecutiveFailures).toBe(0);
  });

  it('an expired token whose chain works: degraded but ready, and health() does not refresh it', async () => {
    await register();
    await alarmbox.store.markExpired();
    const result = await health();
    expect(result).toMatchObject({ status: 'degraded', ready: true, reason: null });
    expect(result.checks.accessToken).toMatchObject({ status: 'warn', state: 'expired' });
    expect(result.secondsRemaining).toBeLessThan(0);
  });

  it('the last refresh failed temporarily while the token lives: degraded, no reason', async () => {
    await register();
    await failedRefresh({ token: { status: 503 } });
    const result = await health();
    expect(result).toMatchObject({
      status: 'degraded',
      ready: true,
      reason: null,
      lastRefreshOutcome: 'temporary',
    });
    expect(result.checks.lastRefresh).toMatchObject({ status: 'warn', state: 'failed', reason: 'temporary' });
    expect(result.consecutiveFailures, 'the history counts the failure').toBe(1);
  });

  it('expired and the last refresh failed temporarily: down, temporary', async () => {
    await register();
    await failedRefresh({ token: { status: 503 } });
    await alarmbox.store.markExpired();
    const result = await health();
    expect(result).toMatchObject({ status: 'down', ready: false, reason: 'temporary' });
  });

  it('the chain is dead (invalid_grant) while the access token lives: degraded, reauthorization_required', async () => {
    await register();
    await failedRefresh({ token: { oauthError: { error: 'invalid_grant' } } });
    const result = await health();
    expect(result).toMatchObject({ status: 'degraded', ready: true, reason: 'reauthorization_required' });
    expect(result.checks.lastRefresh).toMatchObject({ status: 'fail', reason: 'reauthorization_required' });
    expect(result.checks.lastRefresh.message).toContain('docs/operations.md「再認可の手順」');
  });

  it('the chain is dead and the token expired: down, reauthorization_required', async () => {
    await register();
    await failedRefresh({ token: { oauthError: { error: 'invalid_grant' } } });
    await alarmbox.store.markExpired();
    const result = await health();
    expect(result).toMatchObject({ status: 'down', ready: false, reason: 'reauthorization_required' });
  });
});

describe('alarmbox.health() bounds and edges', () => {
  it('after close(): down and temporary, without touching the database', async () => {
    const alarmbox = createAlarmbox({ env: 'dev', databaseUrl: 'sqlite::memory:', encryptionKeys: KEYS });
    await alarmbox.close();
    const result = await alarmbox.health();
    expect(result).toMatchObject({ status: 'down', ready: false, reason: 'temporary' });
    expect(result.checks.database.state).toBe('closed');
  });

  it('tables not migrated: down, configuration, telling to run migrate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alarmbox-health-'));
    const file = join(dir, 'empty.db');
    writeFileSync(file, '');
    const alarmbox = createAlarmbox({ env: 'dev', databaseUrl: `sqlite:${file}`, encryptionKeys: KEYS });
    try {
      const result = await alarmbox.health();
      expect(result).toMatchObject({ status: 'down', ready: false, reason: 'configuration' });
      expect(result.checks.database).toMatchObject({ status: 'fail', state: 'failed' });
      expect(result.checks.database.message).toContain('alarmbox migrate');
    } finally {
      await alarmbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a timeoutMs out of range is a usage error', async () => {
    const alarmbox = createAlarmbox({ env: 'dev', databaseUrl: 'sqlite::memory:', encryptionKeys: KEYS });
    try {
      const error = await expectReason(alarmbox.health({ timeoutMs: 5 }), 'usage');
      expect(error.message).toContain('timeoutMs');
    } finally {
      await alarmbox.close();
    }
  });

  for (const scheme of ['postgres', 'mysql'] as const) {
    describe(`a ${scheme} server that accepts and never answers`, () => {
      let listener: SilentListener;
      beforeAll(async () => {
        listener = await silentListener();
      });
      afterAll(async () => {
        await listener?.close();
      });

      for (const timeoutMs of [500, undefined]) {
        it(`answers down / timeout within ${timeoutMs ?? 'the default 3000'} ms`, async () => {
          const alarmbox = createAlarmbox({
            env: 'dev',
            databaseUrl: `${scheme}://user:pa55word@127.0.0.1:${listener.port}/db`,
            encryptionKeys: KEYS,
            databaseTimeouts: { connectTimeoutMs: 20_000, queryTimeoutMs: 20_000 },
          });
          try {
            const started = performance.now();
            const result = await alarmbox.health(timeoutMs === undefined ? {} : { timeoutMs });
            const ms = performance.now() - started;
            const bound = timeoutMs ?? 3_000;
            expect(ms, 'within the bound').toBeLessThan(bound + 1_000);
            expect(ms, 'not before it').toBeGreaterThanOrEqual(bound - 50);
            expect(result).toMatchObject({ status: 'down', ready: false, reason: 'temporary' });
            expect(result.checks.database).toMatchObject({ status: 'fail', state: 'timeout' });
            expect(result.checks.database.message).toContain('データベースが時間内に応答しませんでした');
            expect(JSON.stringify(result)).not.toContain('pa55word');
            expect(listener.connections(), 'the database was really tried').toBeGreaterThan(0);
          } finally {
            listener.dropAll();
            await alarmbox.close();
          }
        }, 15_000);
      }
    });
  }
});

// `close()` of one instance (issue 16 items 5 and 6): after it every method rejects at once with the package's
// temporary "shutting down" error and touches neither the pool nor AlarmBox; a refresh or a code exchange under
// way is saved first; a refresh through any door of the instance updates the API client's cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { type Alarmbox, AlarmboxError, createAlarmbox } from '../../src/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { expectReasonOf, rejectionOf } from '../support/rejections.ts';

let emulator: RunningEmulator;
let database: TestDatabase;
const keys = generateKeySpec('close-test');

function open(): Alarmbox {
  return createAlarmbox({
    env: 'dev',
    databaseUrl: database.url,
    encryptionKeys: keys,
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
    httpTimeoutMs: 5_000,
  });
}

/** A new instance with a freshly registered pair (the emulator reset). */
async function registered(): Promise<Alarmbox> {
  emulator.reset();
  const alarmbox = open();
  await alarmbox.migrate();
  await alarmbox.exchangeCode(emulator.issueAuthorizationCode());
  return alarmbox;
}

function expectShuttingDown(error: unknown): void {
  // The instance's own answer, given before the pool: not the closed pool's error (DatabaseUnavailableError).
  expect(expectReasonOf(error, 'temporary').message).toContain(
    'データベースにも AlarmBox にも何も送っていません',
  );
}

/** Every request the emulator has served so far (token grants and API calls). */
function served(): number {
  const stats = emulator.stats();
  const grants = Object.values(stats.tokenRequests).flatMap((byOutcome) => Object.values(byOutcome));
  return [...grants, ...Object.values(stats.apiRequests)].reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation: 'immediate' });
  database = await createTestDatabase('sqlite');
});

afterAll(async () => {
  await emulator.close();
  await database.drop();
});

describe('after close()', () => {
  it('every method rejects at once with the temporary shutting-down error, sending nothing', async () => {
    const alarmbox = await registered();
    // A token in the API client's cache: even so no purchase may start after close().
    await alarmbox.api.creditChecks.create({ corporation_number: '0000000000001' });
    const code = emulator.issueAuthorizationCode();
    await alarmbox.close();
    const before = served();
    const calls: Record<string, () => Promise<unknown>> = {
      getValidAccessToken: () => alarmbox.tokens.getValidAccessToken(),
      getValidToken: () => alarmbox.tokens.getValidToken(),
      refresh: () => alarmbox.tokens.refresh({ force: true }),
      saveInitialToken: () =>
        alarmbox.tokens.saveInitialToken({ accessToken: 'a', refreshToken: 'r', expiresIn: 7200 }),
      prepareSave: () => alarmbox.tokens.prepareSave(),
      exchangeCode: () => alarmbox.exchangeCode(code),
      migrate: () => alarmbox.migrate(),
      'api.creditChecks.create': () =>
        alarmbox.api.creditChecks.create({ corporation_number: '0000000000002' }),
      'api.creditChecks.get': () => alarmbox.api.creditChecks.get(1),
      'api.request': () => alarmbox.api.request('GET', '/ps/v1/credit_checks/1'),
    };
    for (const [name, call] of Object.entries(calls)) {
      const started = performance.now();
      const error = await rejectionOf(call());
      expect(performance.now() - started, name).toBeLessThan(50);
      expectShuttingDown(error);
    }
    expect(served(), 'requests served after close()').toBe(before);
    // The code was never sent: still usable by another instance.
    const next = open();
    await next.exchangeCode(code);
    await next.close();
  });

  it('a burst of 200 at expiry with close() in the middle: none unexpected, the refresh under way is saved', async () => {
    const alarmbox = await registered();
    // The stored pair expiring, AlarmBox slow: close() lands while the refresh waits for its answer.
    await expireStored();
    emulator.setFaults({ token: { delayMs: 400, times: 1 } });
    // Spread over 300 ms: the first ones share the refresh under way, the later ones come after close().
    // Settled as they come: a rejection during close() is not left unhandled.
    const burst = Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 1.5)).then(() =>
          alarmbox.tokens.getValidAccessToken(),
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    await alarmbox.close();
    const outcomes = await burst;
    const rejected = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as unknown);
    const reasons = rejected.map((e) => (e instanceof AlarmboxError ? e.reason : `foreign ${String(e)}`));
    expect(reasons.filter((r) => r !== 'temporary')).toEqual([]);
    for (const error of rejected) expectShuttingDown(error);
    const fulfilled = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    // Both kinds happened: callers sharing the refresh got its token, later ones the shutting-down error.
    expect(fulfilled.length).toBeGreaterThan(0);
    expect(rejected.length).toBeGreaterThan(0);
    // One refresh was sent and its pair saved before the pool closed: the next instance reads it as is.
    expect(emulator.stats().tokenRequests.refresh_token.ok, 'refreshes in the burst').toBe(1);
    const after = open();
    const stored = await after.tokens.getValidAccessToken();
    await after.close();
    expect(new Set(fulfilled)).toEqual(new Set(fulfilled.length === 0 ? [] : [stored]));
    // Stored and valid: the new instance needed no refresh of its own.
    expect(emulator.stats().tokenRequests.refresh_token.ok, 'refreshes after the next instance read').toBe(1);
  });

  it("waiters of a refresh that waits for a peer's lease end at close() with the temporary error", async () => {
    const alarmbox = await registered();
    await expireStored();
    // Another process is refreshing: it holds the lease (and will for a minute).
    const peer = createToolkit({ env: 'dev', databaseUrl: database.url, encryptionKeys: keys });
    const lease = await new LockManager(peer.database, {
      name: TokenService.LOCK_NAME,
      leaseMs: 60_000,
    }).acquire({ waitMs: 0 });
    const waiters = Promise.allSettled(
      Array.from({ length: 50 }, () => alarmbox.tokens.getValidAccessToken()),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    await alarmbox.close();
    const outcomes = await waiters;
    // Not after the lock wait (ALARMBOX_LOCK_WAIT_MS): at once.
    expect(performance.now() - started).toBeLessThan(2_000);
    const reasons = outcomes.map((o) =>
      o.status === 'rejected' && o.reason instanceof AlarmboxError ? o.reason.reason : o.status,
    );
    expect(new Set(reasons)).toEqual(new Set(['temporary']));
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes sent').toBe(0);
    // Ended by close() itself (the lease wait aborted), not by the pool closing under the wait.
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(String(o.reason)).toContain('トークンの更新を始めませんでした');
    }
    await lease.release();
    await peer.close();
  });

  it('close() waits for an exchangeCode() under way: its pair is saved', async () => {
    const alarmbox = await registered();
    const before = await alarmbox.tokens.getValidAccessToken();
    emulator.setFaults({ token: { delayMs: 500, times: 1 } });
    const exchange = alarmbox.exchangeCode(emulator.issueAuthorizationCode());
    await new Promise((resolve) => setTimeout(resolve, 150));
    const closing = alarmbox.close();
    const saved = await exchange;
    await closing;
    expect(saved.isRegistered).toBe(true);
    const after = open();
    const stored = await after.tokens.getValidAccessToken();
    await after.close();
    expect(stored).not.toBe(before);
    expect(emulator.stats().tokenRequests.authorization_code.ok, 'code exchanges').toBe(2);
  });
});

describe('one instance, one token cache', () => {
  it('after tokens.refresh() the API client sends the new token: one API request, no 401', async () => {
    const alarmbox = await registered();
    const api = alarmbox.api;
    await api.creditChecks.create({ corporation_number: '0000000000001' }); // caches the first token
    await alarmbox.tokens.refresh({ force: true }); // immediate rotation: the cached token is revoked now
    const before = emulator.stats().apiRequests;
    await api.creditChecks.create({ corporation_number: '0000000000002' });
    const after = emulator.stats().apiRequests;
    expect((after.ok ?? 0) - (before.ok ?? 0), 'API requests answered').toBe(1);
    expect(after.invalid_token ?? 0, 'API requests refused (401)').toBe(before.invalid_token ?? 0);
    await alarmbox.close();
  });

  it('after a getValidAccessToken() that refreshed, the API client follows too', async () => {
    const alarmbox = await registered();
    await alarmbox.api.creditChecks.create({ corporation_number: '0000000000001' });
    await expireStored();
    const refreshed = await alarmbox.tokens.getValidAccessToken();
    expect(emulator.stats().tokenRequests.refresh_token.ok, 'refreshes').toBe(1);
    await alarmbox.api.creditChecks.create({ corporation_number: '0000000000002' });
    const stats = emulator.stats();
    expect(stats.apiRequests.invalid_token ?? 0, 'API requests refused (401)').toBe(0);
    expect(stats.apiRequests.ok, 'API requests answered').toBe(2);
    expect(refreshed).toBe(await alarmbox.tokens.getValidAccessToken());
    await alarmbox.close();
  });
});

/** Marks the stored access token expired (the row's expiry in the past), so that the next read refreshes. */
async function expireStored(): Promise<void> {
  const wired = createToolkit({ env: 'dev', databaseUrl: database.url, encryptionKeys: keys });
  expect(await wired.store.markExpired()).toBe(true);
  await wired.close();
}

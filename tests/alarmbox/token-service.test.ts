import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError, AlarmboxTokenNotFoundError } from '../../src/alarmbox/errors.ts';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import { AlarmboxTokenStore } from '../../src/alarmbox/token-store.ts';
import type { AlarmboxOptions } from '../../src/config/index.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { alarmboxFor, registerToken } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { closedPort } from '../support/closed-port.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectReason, expectReasonOf, rejectionOf } from '../support/rejections.ts';

describeEachDatabase('TokenService', (fixture) => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  const keys = generateKeySpec('t1');

  const open = (overrides: AlarmboxOptions = {}) =>
    alarmboxFor(emulator, fixture.url, keys, { httpTimeoutMs: 2_000, ...overrides });

  /** The raw row, as an attacker with a database dump would see it. */
  const rawRow = async () =>
    alarmbox.database.db
      .selectFrom('hansha_alarmbox_tokens')
      .selectAll()
      .where('id', '=', 1)
      .executeTakeFirst();

  const register = () => registerToken(alarmbox, emulator);

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    await alarmbox?.close();
    emulator.reset();
    alarmbox = open();
    await migrateToLatest(alarmbox.database);
    await alarmbox.database.db.deleteFrom('hansha_alarmbox_tokens').execute();
    await alarmbox.database.db.deleteFrom('alarmbox_locks').execute();
  });

  it('nothing registered: a read is AlarmboxTokenNotFoundError with the guide message', async () => {
    const e = await expectReason(
      alarmbox.tokens.getValidAccessToken(),
      'not_registered',
      AlarmboxTokenNotFoundError,
    );
    expect(e.message).toContain('トークンが未設定です');
  });

  it('nothing registered: a refresh is AlarmboxTokenNotFoundError', async () => {
    await expectReason(
      alarmbox.tokens.refresh({ force: true }),
      'not_registered',
      AlarmboxTokenNotFoundError,
    );
  });

  it('stores the pair encrypted and returns it without calling AlarmBox while valid', async () => {
    const { access, refresh } = await register();
    const row = await rawRow();
    expect(row).toBeDefined();
    for (const value of Object.values(row ?? {})) {
      expect(String(value)).not.toContain(access);
      expect(String(value)).not.toContain(refresh);
    }
    expect(Number(row?.version)).toBe(1);
    const before = emulator.stats().tokenRequests.refresh_token.ok ?? 0;
    expect(await alarmbox.tokens.getValidAccessToken()).toBe(access);
    expect(await alarmbox.tokens.getValidAccessToken()).toBe(access);
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes while valid').toBe(before);
  });

  describe('reads of row 1', () => {
    /** The real store over the real database, counting its reads (nothing is faked: each read is a query). */
    const countingService = () => {
      let reads = 0;
      const counting = new (class extends AlarmboxTokenStore {
        override getInstance() {
          reads++;
          return super.getInstance();
        }
      })(alarmbox.database, alarmbox.config.keyRing);
      const service = new TokenService({
        store: counting,
        client: () => alarmbox.client,
        lock: new LockManager(alarmbox.database, { name: TokenService.LOCK_NAME, leaseMs: 10_000 }),
        lockWaitMs: 5_000,
        fallbackExpiresIn: 3600,
      });
      return { service, reads: () => reads };
    };

    it('callers arriving during a read share it', async () => {
      const { access } = await register();
      const { service, reads } = countingService();
      const burst = await Promise.all(Array.from({ length: 25 }, () => service.getValidAccessToken()));
      expect(new Set(burst)).toEqual(new Set([access]));
      expect(reads(), 'store reads for the burst of 25').toBe(1);
    });

    it('nothing is kept once the read is over: a later caller reads again and sees a new pair', async () => {
      await register();
      const { service, reads } = countingService();
      await service.getValidAccessToken();
      const rotated = await alarmbox.tokens.refresh({ force: true });
      expect(await service.getValidAccessToken()).toBe(rotated.accessToken);
      expect(reads(), 'store reads for two callers apart').toBe(2);
    });

    it('a failed read fails the callers that shared it', async () => {
      await register();
      const { service, reads } = countingService();
      await alarmbox.database.db.deleteFrom('hansha_alarmbox_tokens').execute();
      await Promise.all(
        [1, 2, 3].map(() =>
          expectReason(service.getValidAccessToken(), 'not_registered', AlarmboxTokenNotFoundError),
        ),
      );
      expect(reads(), 'store reads for the 3 callers').toBe(1);
    });
  });

  it('an expired token is refreshed once, the rotated pair saved before it is returned', async () => {
    const { access } = await register();
    await alarmbox.store.markExpired();
    const callers = await Promise.all(
      Array.from({ length: 20 }, () => alarmbox.tokens.getValidAccessToken()),
    );
    const fresh = callers[0] ?? '';
    expect(new Set(callers)).toEqual(new Set([fresh]));
    expect(fresh).not.toBe(access);
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes for 20 callers').toBe(1);
    const stored = await alarmbox.store.getInstance();
    expect(stored.version).toBe(2);
    expect(stored.getDecryptedAccessToken()).toBe(fresh);
    expect(stored.lastRefreshOutcome).toBe('ok');
    expect(stored.expiredAt?.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    expect(await apiStatus(emulator, fresh)).toBe(200);
    // the stored refresh token is the rotated one: refreshing again works after the old pair was revoked
    const again = await alarmbox.tokens.refresh({ force: true });
    expect(again.refreshed).toBe(true);
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes after the forced one').toBe(2);
  });

  it('ifAccessTokenIs: refreshes only while the rejected token is still the stored one', async () => {
    const { access } = await register();
    const fresh = await alarmbox.tokens.refresh({ ifAccessTokenIs: access });
    expect(fresh.refreshed).toBe(true);
    expect(fresh.accessToken).not.toBe(access);
    // a second caller that also saw the old token rejected gets the new one without another request
    const peer = await alarmbox.tokens.refresh({ ifAccessTokenIs: access });
    expect(peer).toMatchObject({ refreshed: false, accessToken: fresh.accessToken });
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes for both callers').toBe(1);
  });

  it('onAttempt sees each attempt with its trigger and outcome, never a token', async () => {
    const attempts: { trigger: string; outcome: string; message?: string | undefined; durationMs: number }[] =
      [];
    const observed = new TokenService({
      store: alarmbox.store,
      client: () => alarmbox.client,
      lock: new LockManager(alarmbox.database, { name: TokenService.LOCK_NAME, leaseMs: 10_000 }),
      lockWaitMs: 5_000,
      fallbackExpiresIn: 3600,
      onAttempt: (a) => {
        attempts.push(a);
      },
    });
    const { access, refresh } = await register();
    await observed.refresh({ force: true, trigger: 'batch' });
    await observed.refresh({ trigger: 'manual' });
    emulator.setFaults({ token: { status: 503 } });
    await rejectionOf(observed.refresh({ force: true, trigger: 'batch' }));
    emulator.setFaults({});
    expect(attempts.map((a) => [a.trigger, a.outcome])).toEqual([
      ['batch', 'ok'],
      ['manual', 'skipped'],
      ['batch', 'temporary'],
    ]);
    expect(attempts[2]?.message).toContain('503');
    for (const a of attempts) {
      expect(a.durationMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(a)).not.toContain(access);
      expect(JSON.stringify(a)).not.toContain(refresh);
    }
  });

  it('a refresh without force (--if-expiring style) does not spend the refresh token while valid', async () => {
    await register();
    const lazy = await alarmbox.tokens.refresh();
    expect(lazy.refreshed).toBe(false);
    expect((await alarmbox.store.getInstance()).version).toBe(1);
  });

  it('a forced refresh always spends the refresh token, even while valid', async () => {
    await register();
    const forced = await alarmbox.tokens.refresh({ force: true });
    expect(forced.refreshed).toBe(true);
    expect((await alarmbox.store.getInstance()).version).toBe(2);
  });

  it('a dead refresh token (revoked) means re-authorization, and the stored pair is kept', async () => {
    const { refresh } = await register();
    const revoke = await fetch(new URL('/oauth/revoke', emulator.url), {
      method: 'POST',
      body: new URLSearchParams({
        token: refresh,
        client_id: emulator.options.clientId,
        client_secret: emulator.options.clientSecret,
      }),
    });
    expect(revoke.status).toBe(200);
    const before = await rawRow();
    const e = await expectReason(
      alarmbox.tokens.refresh({ force: true }),
      'reauthorization_required',
      AlarmboxTokenExpiredError,
    );
    expect(e.oauthError).toBe('invalid_grant');
    expect(e.message).toContain('トークンの更新に失敗しました');
    expect(e.message).toContain('alarmbox save-token');
    const after = await rawRow();
    expect(after?.access_token).toBe(before?.access_token);
    expect(after?.refresh_token).toBe(before?.refresh_token);
    expect(Number(after?.version)).toBe(Number(before?.version));
    expect(after?.last_refresh_outcome).toBe('reauthorization_required');
    expect(String(after?.last_error)).not.toContain(refresh);
  });

  it.each([
    ['500', { status: 500 as const }],
    ['HTML page', { status: 503 as const, body: 'html' as const }],
    ['broken JSON on 200', { body: 'broken-json' as const }],
    ['dropped connection', { drop: 'before' as const }],
    ['no answer until the timeout', { delayMs: 3_000 }],
  ])('token endpoint fault (%s): temporary, nothing stored changes', async (_name, fault) => {
    await register();
    const before = await rawRow();
    emulator.setFaults({ token: fault });
    const e = await expectReason(
      alarmbox.tokens.refresh({ force: true }),
      'temporary',
      AlarmboxTokenExpiredError,
    );
    expect(e.temporary).toBe(true);
    const after = await rawRow();
    expect(after?.access_token).toBe(before?.access_token);
    expect(after?.refresh_token).toBe(before?.refresh_token);
    expect(Number(after?.version)).toBe(Number(before?.version));
    emulator.setFaults({});
  });

  it('emulator down: temporary', async () => {
    await register();
    const down = open({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    try {
      const e = await expectReason(down.tokens.refresh({ force: true }), 'temporary');
      expect(e.message).toContain('接続エラー');
    } finally {
      await down.close();
    }
  });

  it('wrong client secret: client configuration, not re-authorization', async () => {
    await register();
    const wrong = open({ clientSecret: 'not-the-secret' });
    try {
      const e = await expectReason(
        wrong.tokens.refresh({ force: true }),
        'client_configuration',
        AlarmboxTokenExpiredError,
      );
      expect(e.statusCode).toBe(401);
      expect(e.message).not.toContain('not-the-secret');
    } finally {
      await wrong.close();
    }
  });

  it('a row encrypted with a key no longer in the ring is a clear error', async () => {
    await register();
    const rotated = open({ encryptionKeys: generateKeySpec('t2') });
    try {
      const e = await expectReason(rotated.tokens.getValidAccessToken(), 'stored_data_invalid');
      expect(e.message).toContain('"t1"');
    } finally {
      await rotated.close();
    }
  });

  it('a lock held elsewhere past the wait is temporary (lock_timeout), never re-authorization', async () => {
    await register();
    await alarmbox.store.markExpired();
    const other = new LockManager(alarmbox.database, { name: TokenService.LOCK_NAME, leaseMs: 10_000 });
    const lease = await other.acquire({ waitMs: 1_000 });
    const impatient = new TokenService({
      store: alarmbox.store,
      client: () => alarmbox.client,
      lock: new LockManager(alarmbox.database, { name: TokenService.LOCK_NAME, leaseMs: 10_000 }),
      lockWaitMs: 300,
      fallbackExpiresIn: 3600,
    });
    try {
      const e = await expectReason(
        impatient.getValidAccessToken(),
        'lock_timeout',
        AlarmboxTokenExpiredError,
      );
      expect(e.reauthorizationRequired).toBe(false);
      expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes sent').toBe(0);
    } finally {
      await lease.release();
    }
  });

  describe('a failed compare-and-set on version proves a peer, or it is not "ok"', () => {
    /** The refresh under test waits inside AlarmBox until `during` has run. */
    const whileRequestIsOut = async <T>(start: () => Promise<T>, during: () => Promise<void>) => {
      emulator.setFaults({ token: { delayMs: 1_000, times: 1 } });
      const pending = start().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      for (let i = 0; emulator.stats().faultsInjected.token === 0 && i < 1_000; i++) await sleep(5);
      expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(1);
      await during();
      const settled = await pending;
      emulator.setFaults({});
      return settled;
    };
    const bumpVersion = async () => {
      await sql`update hansha_alarmbox_tokens set version = version + 5 where id = 1`.execute(
        alarmbox.database.db,
      );
    };
    /** A refresher of its own lock name: a holder whose lease ran out while AlarmBox answered. */
    const peerService = (store: AlarmboxTokenStore = alarmbox.store) =>
      new TokenService({
        store,
        client: () => alarmbox.client,
        lock: new LockManager(alarmbox.database, { name: 'another-lease', leaseMs: 10_000 }),
        lockWaitMs: 5_000,
        fallbackExpiresIn: 3600,
      });

    it('a genuine peer saved first (on_use: both answered): its pair is the answer', async () => {
      await register();
      let peer: Awaited<ReturnType<TokenService['refresh']>> | undefined;
      const slow = await whileRequestIsOut(
        () => alarmbox.tokens.refresh({ force: true }),
        async () => {
          peer = await peerService().refresh({ force: true });
        },
      );
      expect(peer?.refreshed).toBe(true);
      expect(slow).toMatchObject({ value: { refreshed: false, accessToken: peer?.accessToken } });
      expect(emulator.stats().tokenRequests.refresh_token.ok, 'refreshes (ours and the peer)').toBe(2);
      const stored = await alarmbox.store.getInstance();
      expect(stored.version).toBe(2);
      expect(stored.getDecryptedAccessToken()).toBe(peer?.accessToken);
    });

    it('a version moved without a new pair is no peer: the issued pair is saved, then stored_data_invalid', async () => {
      const { access } = await register();
      const outcome = await whileRequestIsOut(() => alarmbox.tokens.refresh({ force: true }), bumpVersion);
      const e = expectReasonOf(
        'error' in outcome ? outcome.error : undefined,
        'stored_data_invalid',
        AlarmboxTokenExpiredError,
      );
      expect(e.message).toContain('version を 7 に直しました');
      const stored = await alarmbox.store.getInstance();
      expect(stored.version).toBe(7);
      expect(stored.getDecryptedAccessToken()).not.toBe(access);
      expect(await apiStatus(emulator, stored.getDecryptedAccessToken())).toBe(200);
      expect(stored.lastRefreshOutcome).toBe('stored_data_invalid');
      expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
    });

    it('when the pair cannot be kept either (the row rewritten again), the message says it may be lost', async () => {
      await register();
      // The real store over the real database; another writer replaces the row just before the repair.
      const meddled = new (class extends AlarmboxTokenStore {
        override async saveOver(...args: Parameters<AlarmboxTokenStore['saveOver']>) {
          await sql`update hansha_alarmbox_tokens set refresh_token = ${'x'} where id = 1`.execute(
            alarmbox.database.db,
          );
          return super.saveOver(...args);
        }
      })(alarmbox.database, alarmbox.config.keyRing);
      const outcome = await whileRequestIsOut(
        () => peerService(meddled).refresh({ force: true }),
        bumpVersion,
      );
      const e = expectReasonOf('error' in outcome ? outcome.error : undefined, 'stored_data_invalid');
      expect(e.message).toContain('受け取ったトークンは失われました');
      expect(e.message).toContain('alarmbox save-token');
    });

    it('invalid_grant with a version moved but the same (revoked) pair is no peer: reauthorization_required', async () => {
      const { refresh } = await register();
      const outcome = await whileRequestIsOut(
        () => alarmbox.tokens.refresh({ force: true }),
        async () => {
          const revoke = await fetch(new URL('/oauth/revoke', emulator.url), {
            method: 'POST',
            body: new URLSearchParams({
              token: refresh,
              client_id: emulator.options.clientId,
              client_secret: emulator.options.clientSecret,
            }),
          });
          expect(revoke.status).toBe(200);
          await bumpVersion();
        },
      );
      expectReasonOf('error' in outcome ? outcome.error : undefined, 'reauthorization_required');
    });

    it('a corrupted version: a valid token is still read, a due refresh sends nothing (stored_data_invalid)', async () => {
      const { access } = await register();
      await sql`update hansha_alarmbox_tokens set version = ${sql.raw('9007199254740993')} where id = 1`.execute(
        alarmbox.database.db,
      );
      expect((await alarmbox.store.getInstance()).version).toBe(-1);
      expect(await alarmbox.tokens.getValidAccessToken()).toBe(access);
      await alarmbox.store.markExpired();
      for (const attempt of [
        alarmbox.tokens.getValidAccessToken(),
        alarmbox.tokens.refresh({ force: true }),
      ]) {
        const e = await expectReason(attempt, 'stored_data_invalid', AlarmboxTokenExpiredError);
        expect(e.message).toContain('列 version');
      }
      expect(Object.values(emulator.stats().tokenRequests.refresh_token), 'refreshes sent').toEqual([]);
    });
  });
});

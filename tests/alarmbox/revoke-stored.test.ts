// The revocation of the stored pair (src/alarmbox/revoke.ts) in-process, on every database: it runs under the
// token refresh lease, so a refresh under way finishes first and the pair it saved is the one revoked; a live
// holder of the lease is waited for, then the wait ends as lock_timeout with nothing sent; the delete never
// removes a pair saved after the revocation read row 1.
import { expect, it } from 'vitest';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { type EmulatorWorld, registerToken, storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectReason } from '../support/rejections.ts';

const HINT = '--local-only を付けて実行してください';

describeEachDatabase('revokeStoredTokens', (fixture) => {
  let w: EmulatorWorld;
  useEmulatorWorld(
    { databaseUrl: () => fixture.url, keys: generateKeySpec('k1'), alarmbox: { lockWaitMs: 1_000 } },
    (world) => {
      w = world;
    },
  );

  it('a refresh under way finishes first: the pair it saved is the one revoked, nothing stays valid', async () => {
    const old = await storedPair(w.alarmbox);
    // AlarmBox takes its time with the refresh: the revocation arrives while the refresh holds the lease.
    w.emulator.setFaults({ token: { delayMs: 400 } });
    const refreshing = w.alarmbox.tokens.refresh({ force: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const revoked = await w.alarmbox.revoke({ localOnly: false, localOnlyHint: HINT });
    w.emulator.setFaults({});
    const refreshed = await refreshing;
    expect(refreshed.refreshed, 'the refresh saved its pair').toBe(true);
    expect(revoked.outcome).toBe('revoked');
    expect(w.emulator.stats().tokenRequests.refresh_token, 'refreshes at AlarmBox').toEqual({ ok: 1 });
    expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
    // Neither the refreshed pair nor the old one still works at AlarmBox.
    expect(await apiStatus(w.emulator, refreshed.accessToken), 'the refreshed access token').toBe(401);
    expect(await apiStatus(w.emulator, old.access), 'the old access token').toBe(401);
    await expectReason(
      w.alarmbox.client.refreshToken(old.refresh),
      'reauthorization_required',
      AlarmboxAPIError,
    );
  });

  it('a live holder of the lease: the wait ends as lock_timeout, nothing sent, row 1 kept', async () => {
    const before = await storedPair(w.alarmbox);
    const lease = await new LockManager(w.alarmbox.database, {
      name: TokenService.LOCK_NAME,
      leaseMs: 30_000,
    }).acquire({ waitMs: 0 });
    try {
      await expectReason(w.alarmbox.revoke({ localOnly: false, localOnlyHint: HINT }), 'lock_timeout');
      await expectReason(w.alarmbox.revoke({ localOnly: true, localOnlyHint: HINT }), 'lock_timeout');
    } finally {
      await lease.release();
    }
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
    expect(await storedPair(w.alarmbox)).toEqual(before);
  });

  it('the delete is a compare-and-set on the pair: one saved after the read is not deleted', async () => {
    const seen = await w.alarmbox.store.getInstance();
    const fresh = await registerToken(w.alarmbox, w.emulator);
    expect(await w.alarmbox.store.deleteIfUnchanged(seen), 'delete with a stale snapshot').toBe(false);
    expect((await storedPair(w.alarmbox)).refresh).toBe(fresh.refresh);
    expect(await w.alarmbox.store.deleteIfUnchanged(await w.alarmbox.store.getInstance())).toBe(true);
    expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
  });
});

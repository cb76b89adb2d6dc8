// The in-process token cache: bounded by the revalidation interval and by the token's expiry (minus the
// margin TokenService uses), dropped by the 401 rule, off on request. Time is moved, never waited for.
import { describe, expect, it } from 'vitest';
import type { ValidAccessToken } from '../../src/alarmbox/token-service.ts';
import { AccessTokenCache, type TokenSource } from '../../src/api/token-cache.ts';
import { createAlarmboxApi } from '../../src/create.ts';
import { type ApiFixture, useApiFixture } from '../support/api-fixture.ts';

let f: ApiFixture;

/** The real TokenService (SQLite, decryption), counting how often the cache goes to it. */
function counted(): TokenSource & { reads: number } {
  const tokens = f.registered.alarmbox.tokens;
  const source = {
    reads: 0,
    getValidToken: () => {
      source.reads++;
      return tokens.getValidToken();
    },
  };
  return source;
}

/** A fixed answer, for the cases the store cannot produce without refreshing. */
function fixed(token: ValidAccessToken): TokenSource & { reads: number } {
  const source = {
    reads: 0,
    getValidToken: async () => {
      source.reads++;
      return token;
    },
  };
  return source;
}

const TOKEN_A = 'AAAAbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q';
const TOKEN_B = 'BBBBbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q';

useApiFixture((fixture) => {
  f = fixture;
});

describe('AccessTokenCache', () => {
  it('answers from memory while fresh, with the same settled promise (no store read, no decrypt)', async () => {
    const source = counted();
    const cache = new AccessTokenCache(source);
    const first = await cache.getValidAccessToken();
    const p1 = cache.getValidAccessToken();
    const p2 = cache.getValidAccessToken();
    expect(p1).toBe(p2);
    expect(await p1).toBe(first);
    expect(source.reads, 'token source reads').toBe(1);
    expect(first).toBe(await f.registered.alarmbox.tokens.getValidAccessToken());
  });

  it('concurrent misses share one read of the store', async () => {
    const source = counted();
    const cache = new AccessTokenCache(source);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => cache.getValidAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(source.reads, 'token source reads').toBe(1);
  });

  it('revalidates: a token replaced by another process is picked up after revalidateMs', async () => {
    let now = Date.now();
    const source = counted();
    const cache = new AccessTokenCache(source, { revalidateMs: 30_000, now: () => now });
    const old = await cache.getValidAccessToken();
    await f.fresh(); // a new authorization replaces the stored pair
    now += 29_000;
    expect(await cache.getValidAccessToken()).toBe(old);
    now += 2_000;
    const renewed = await cache.getValidAccessToken();
    expect(renewed).not.toBe(old);
    expect(renewed).toBe(await f.registered.alarmbox.tokens.getValidAccessToken());
    expect(source.reads, 'token source reads').toBe(2);
  });

  it('never keeps a token past the point where TokenService would refresh it', async () => {
    // A 10-minute token: TokenService refreshes it from 5 minutes before expiry (expiry.ts).
    await f.registered.alarmbox.tokens.saveInitialToken({
      accessToken: TOKEN_A,
      refreshToken: TOKEN_B,
      expiresIn: 600,
    });
    let now = Date.now();
    const source = counted();
    const cache = new AccessTokenCache(source, { revalidateMs: 3_600_000, now: () => now });
    expect(await cache.getValidAccessToken()).toBe(TOKEN_A);
    now += 290_000;
    await cache.getValidAccessToken();
    expect(source.reads, 'token source reads').toBe(1);
    now += 20_000; // 310 s after issue: inside the margin
    await cache.getValidAccessToken();
    expect(source.reads, 'token source reads').toBe(2);
  });

  it('does not cache a token that is already expiring or has no known expiry', async () => {
    const now = Date.now();
    for (const token of [
      {
        accessToken: TOKEN_A,
        expiredAt: new Date(now + 100_000),
        issuedAt: new Date(now - 500_000),
        scope: null,
      },
      { accessToken: TOKEN_A, expiredAt: null, issuedAt: null, scope: null },
    ]) {
      const source = fixed(token);
      const cache = new AccessTokenCache(source, { now: () => now });
      await cache.getValidAccessToken();
      await cache.getValidAccessToken();
      expect(source.reads, 'token source reads').toBe(2);
    }
  });

  it('invalidate(token) drops only that token; a read begun before the drop is not stored', async () => {
    const source = counted();
    const cache = new AccessTokenCache(source);
    const token = await cache.getValidAccessToken();
    cache.invalidate('someone-elses-token-value');
    await cache.getValidAccessToken();
    expect(source.reads, 'token source reads').toBe(1);
    cache.invalidate(token);
    await cache.getValidAccessToken();
    expect(source.reads, 'token source reads').toBe(2);

    // A slow read overtaken by an invalidation (a 401 elsewhere) must not put its token back.
    let release: (t: ValidAccessToken) => void = () => {};
    const slow: TokenSource & { reads: number } = {
      reads: 0,
      getValidToken: () => {
        slow.reads++;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const raced = new AccessTokenCache(slow);
    const pending = raced.getValidAccessToken();
    raced.invalidate();
    release({
      accessToken: TOKEN_A,
      expiredAt: new Date(Date.now() + 86_400_000),
      issuedAt: new Date(),
      scope: null,
    });
    expect(await pending).toBe(TOKEN_A);
    const next = raced.getValidAccessToken();
    release({
      accessToken: TOKEN_B,
      expiredAt: new Date(Date.now() + 86_400_000),
      issuedAt: new Date(),
      scope: null,
    });
    expect(await next).toBe(TOKEN_B);
    expect(slow.reads, 'token source reads').toBe(2);
  });

  it('can be turned off: every call reads the store', async () => {
    const source = counted();
    const tokens = new AccessTokenCache(source, false);
    await tokens.getValidAccessToken();
    await tokens.getValidAccessToken();
    expect(source.reads, 'token source reads').toBe(2);
    expect(createAlarmboxApi({ alarmbox: f.registered.alarmbox, tokenCache: false }).tokens.cached).toBe(
      false,
    );
    expect(createAlarmboxApi({ alarmbox: f.registered.alarmbox }).tokens.cached).toBe(true);
    expect(() => new AccessTokenCache(source, { revalidateMs: -1 })).toThrow(/revalidateMs/);
  });

  it('with the cache off, API calls still work and follow the stored token', async () => {
    const api = f.api({ tokenCache: false });
    await api.creditChecks.create({ corporation_number: '0000000000001' });
    await f.fresh();
    expect((await api.creditChecks.create({ corporation_number: '0000000000002' })).result).toBe('hold');
    expect(api.retries).toEqual([]); // no stale token, so no 401
  });
});

// Fault injection (every kind, every endpoint key) and the control API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FaultPlan, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  createCreditCheck,
  DESCRIPTIONS,
  expectOAuthError,
  form,
  issuePair,
  OOB,
  refresh,
  type TokenBody,
  tokenInfo,
} from './helpers.ts';

let onUse: RunningEmulator;
let immediate: RunningEmulator;

beforeAll(async () => {
  [onUse, immediate] = await Promise.all([
    startEmulator({ port: 0, quiet: true, rotation: 'on_use' }),
    startEmulator({ port: 0, quiet: true, rotation: 'immediate' }),
  ]);
});
afterAll(() => Promise.all([onUse.close(), immediate.close()]));
beforeEach(() => {
  onUse.reset();
  immediate.reset();
});

describe('injected status', () => {
  it('answers an HTML 503 with Retry-After without processing the refresh', async () => {
    const pair = await issuePair(immediate.url);
    immediate.setFaults({ token: { status: 503, retryAfter: 30, times: 1 } });
    const res = await refresh(immediate.url, pair.refresh_token);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.text()).toContain('503 Service Temporarily Unavailable');
    // Not processed: not counted, the refresh token is still alive even in immediate mode.
    expect(immediate.stats().tokenRequests.refresh_token).toEqual({});
    expect(immediate.stats().faultsInjected.token).toBe(1);
    expect((await refresh(immediate.url, pair.refresh_token)).status).toBe(200);
  });

  it('answers an OAuth error with any values (oauthError) without processing the refresh', async () => {
    const pair = await issuePair(immediate.url);
    const odd = 'x\u001b[2J\r\nline\u0000';
    immediate.setFaults({ token: { oauthError: { error: odd, error_description: 42 }, times: 1 } });
    const res = await refresh(immediate.url, pair.refresh_token);
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({ error: odd, error_description: 42 });
    expect(immediate.stats().tokenRequests.refresh_token).toEqual({});
    expect((await refresh(immediate.url, pair.refresh_token)).status).toBe(200);
    expect(() => immediate.setFaults({ token: { oauthError: { status: 500 as 400, error: 'x' } } })).toThrow(
      /oauthError\.status/,
    );
    expect(() => immediate.setFaults({ token: { oauthError: {} as { error: string } } })).toThrow(
      /oauthError/,
    );
  });

  it('sends broken JSON or an empty body when asked', async () => {
    onUse.setFaults({ token: { status: 500, body: 'broken-json' } });
    const broken = await refresh(onUse.url, 'whatever');
    expect(broken.status).toBe(500);
    expect(broken.headers.get('content-type')).toBe('application/json; charset=utf-8');
    await expect(broken.json()).rejects.toThrow(SyntaxError);
    onUse.setFaults({ token: { status: 502, body: 'empty' } });
    const empty = await refresh(onUse.url, 'whatever');
    expect(empty.status).toBe(502);
    expect(await empty.text()).toBe('');
    onUse.setFaults({ token: { status: 429, retryAfter: 5 } });
    const limited = await refresh(onUse.url, 'whatever');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('5');
  });

  it('applies to each endpoint key separately', async () => {
    const pair = await issuePair(onUse.url);
    const plan: FaultPlan = {
      authorize: { status: 500 },
      revoke: { status: 502 },
      tokenInfo: { status: 503 },
      api: { status: 429 },
    };
    onUse.setFaults(plan);
    const authorize = await fetch(
      `${onUse.url}/oauth/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(OOB)}&response_type=code`,
    );
    expect(authorize.status).toBe(500);
    const revoke = await fetch(`${onUse.url}/oauth/revoke`, {
      method: 'POST',
      body: form({ token: pair.access_token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    });
    expect(revoke.status).toBe(502);
    expect((await tokenInfo(onUse.url, pair.access_token)).status).toBe(503);
    expect(
      (await createCreditCheck(onUse.url, pair.access_token, { corporation_number: '0000000000001' })).status,
    ).toBe(429);
    // The token endpoint has no fault: it answers normally.
    expect((await refresh(onUse.url, pair.refresh_token)).status).toBe(200);
    expect(onUse.stats().faultsInjected).toEqual({ token: 0, authorize: 1, revoke: 1, tokenInfo: 1, api: 1 });
    onUse.setFaults({});
    expect((await tokenInfo(onUse.url, pair.access_token)).status).toBe(200);
  });

  it('stops after `times` requests', async () => {
    onUse.setFaults({ tokenInfo: { status: 500, times: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await tokenInfo(onUse.url, 'x')).status);
    expect(statuses).toEqual([500, 500, 401]);
  });
});

describe('delay', () => {
  it('waits before processing', async () => {
    const pair = await issuePair(onUse.url);
    onUse.setFaults({ token: { delayMs: 200 } });
    const start = performance.now();
    const res = await refresh(onUse.url, pair.refresh_token);
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
  });
});

describe('dropped connections', () => {
  it('before: the client sees a network error and nothing happened', async () => {
    const pair = await issuePair(immediate.url);
    immediate.setFaults({ token: { drop: 'before', times: 1 } });
    await expect(refresh(immediate.url, pair.refresh_token)).rejects.toThrow(TypeError);
    expect(immediate.stats().tokenRequests.refresh_token).toEqual({});
    expect((await refresh(immediate.url, pair.refresh_token)).status).toBe(200);
  });

  it('after-commit in immediate mode: the refresh counted and the old refresh token is dead', async () => {
    const pair = await issuePair(immediate.url);
    immediate.setFaults({ token: { drop: 'after-commit', times: 1 } });
    await expect(refresh(immediate.url, pair.refresh_token)).rejects.toThrow(TypeError);
    const stats = immediate.stats();
    expect(stats.tokenRequests.refresh_token).toEqual({ ok: 1 });
    expect(stats.lastRefreshAt).not.toBeNull();
    expect(stats.faultsInjected.token).toBe(1);
    await expectOAuthError(
      await refresh(immediate.url, pair.refresh_token),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    expect((await tokenInfo(immediate.url, pair.access_token)).status).toBe(401);
  });

  it('after-commit in on_use mode: the old refresh token still works', async () => {
    const pair = await issuePair(onUse.url);
    onUse.setFaults({ token: { drop: 'after-commit', times: 1 } });
    await expect(refresh(onUse.url, pair.refresh_token)).rejects.toThrow(TypeError);
    expect(onUse.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
    const retry = await refresh(onUse.url, pair.refresh_token);
    expect(retry.status).toBe(200);
    expect(onUse.stats().tokenRequests.refresh_token).toEqual({ ok: 2 });
  });

  it('works on the API too (keep-alive or not, the emulator keeps answering)', async () => {
    const pair = await issuePair(onUse.url);
    onUse.setFaults({ api: { drop: 'before', times: 3 } });
    for (let i = 0; i < 3; i++) {
      await expect(
        createCreditCheck(onUse.url, pair.access_token, { corporation_number: '0000000000001' }),
      ).rejects.toThrow(TypeError);
    }
    expect(
      (await createCreditCheck(onUse.url, pair.access_token, { corporation_number: '0000000000001' })).status,
    ).toBe(200);
  });
});

describe('tampered success bodies', () => {
  it('omits and sets keys of the token response, keeping the order of the rest', async () => {
    const pair = await issuePair(onUse.url);
    onUse.setFaults({
      token: { response: { omit: ['expires_in', 'refresh_token'], set: { token_type: 'mac' } } },
    });
    const res = await refresh(onUse.url, pair.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['access_token', 'token_type', 'scope', 'created_at']);
    expect(body.token_type).toBe('mac');
  });

  it('leaves error answers alone', async () => {
    onUse.setFaults({ token: { response: { set: { access_token: 'x' } } } });
    await expectOAuthError(
      await refresh(onUse.url, 'unknown'),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
  });

  it('replaces the body of a processed request (the grant is committed)', async () => {
    const pair = await issuePair(immediate.url);
    immediate.setFaults({ token: { body: 'html', times: 1 } });
    const res = await refresh(immediate.url, pair.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(immediate.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
    expect((await refresh(immediate.url, pair.refresh_token)).status).toBe(400);
    const next = await issuePair(immediate.url);
    immediate.setFaults({ token: { body: 'broken-json', times: 1 } });
    const broken = await refresh(immediate.url, next.refresh_token);
    expect(broken.status).toBe(200);
    const text = await broken.text();
    expect(text.startsWith('{"access_token":"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });
});

describe('control API', () => {
  const put = (url: string, path: string, body: unknown) =>
    fetch(`${url}/__emulator/${path}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('health, faults, clock, stats and reset', async () => {
    const url = onUse.url;
    const health = await fetch(`${url}/__emulator/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const set = await put(url, 'faults', { token: { status: 503, times: 2 } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ token: { status: 503, times: 2 } });
    expect((await refresh(url, 'x')).status).toBe(503);
    expect(await (await fetch(`${url}/__emulator/faults`)).json()).toEqual({
      token: { status: 503, times: 1 },
    });
    expect(await (await put(url, 'faults', {})).json()).toEqual({});
    expect((await refresh(url, 'x')).status).toBe(400);

    for (const bad of [
      { tokn: {} },
      { token: { status: 404 } },
      { token: { drop: 'sometimes' } },
      { token: { times: 0 } },
      [1],
    ]) {
      const res = await put(url, 'faults', bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_fault_plan');
    }
    expect((await put(url, 'faults', '{not json')).status).toBe(400);

    const code = await (async () => {
      const res = await fetch(`${url}/oauth/authorize`, {
        method: 'POST',
        body: form({ client_id: CLIENT_ID, redirect_uri: OOB, response_type: 'code' }),
        redirect: 'manual',
      });
      return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    })();
    const clock = await put(url, 'clock', { offsetSeconds: 601 });
    expect(clock.status).toBe(200);
    const clockBody = (await clock.json()) as { offsetSeconds: number; now: string };
    expect(clockBody.offsetSeconds).toBe(601);
    expect(Date.parse(clockBody.now) - Date.now()).toBeGreaterThan(600_000);
    expect((await put(url, 'clock', { offsetSeconds: 'soon' })).status).toBe(400);
    expect((await put(url, 'clock', { offsetSeconds: 1e300 })).status).toBe(400);
    expect(() => onUse.setClockOffset(Number.NaN)).toThrow(RangeError);
    const expired = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      body: form({
        grant_type: 'authorization_code',
        code,
        redirect_uri: OOB,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    expect(expired.status).toBe(400);

    const stats = (await (await fetch(`${url}/__emulator/stats`)).json()) as Record<string, unknown>;
    expect(stats).toEqual({
      tokenRequests: {
        authorization_code: { invalid_grant: 1 },
        refresh_token: { invalid_grant: 1 },
        other: {},
      },
      apiRequests: {},
      revokeRequests: {},
      tokenInfoRequests: {},
      faultsInjected: { token: 1, authorize: 0, revoke: 0, tokenInfo: 0, api: 0 },
      lastRefreshAt: null,
    });

    const pair = await issuePair(url);
    await put(url, 'faults', { api: { status: 500 } });
    const reset = await fetch(`${url}/__emulator/reset`, { method: 'POST' });
    expect(reset.status).toBe(204);
    expect(await (await fetch(`${url}/__emulator/faults`)).json()).toEqual({});
    expect(
      ((await (await fetch(`${url}/__emulator/clock`)).json()) as { offsetSeconds: number }).offsetSeconds,
    ).toBe(0);
    expect(onUse.stats().tokenRequests.authorization_code).toEqual({});
    // Tokens are gone, options are kept.
    expect((await tokenInfo(url, pair.access_token)).status).toBe(401);
    expect(onUse.options.rotation).toBe('on_use');
    const again = (await issuePair(url)) as TokenBody;
    expect(again.expires_in).toBe(86400);
  });

  it('setFaults refuses an invalid plan', () => {
    expect(() => onUse.setFaults({ token: { status: 404 as 500 } })).toThrow(/status/);
    expect(() => onUse.setFaults({ nope: {} } as FaultPlan)).toThrow(/nope/);
  });
});

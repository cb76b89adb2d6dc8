// Refresh-token rotation, both modes of docs/design.md「AlarmBox について分かっていること」, including concurrent refreshes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import {
  createCreditCheck,
  DESCRIPTIONS,
  expectOAuthError,
  issuePair,
  refresh,
  TOKEN_FORMAT,
  type TokenBody,
  tokenInfo,
} from './helpers.ts';

const REVOKED =
  'Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token was revoked"';
const CHECK = { corporation_number: '0000000000001' };

describe('on_use rotation (Doorkeeper default)', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quiet: true, rotation: 'on_use' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('keeps the old pair until the new access token is first used, and spares siblings', async () => {
    const a = await issuePair(emu.url);
    const b = (await (await refresh(emu.url, a.refresh_token)).json()) as TokenBody;
    // Old access token still works, old refresh token can be spent again (a lost response is recoverable).
    expect((await tokenInfo(emu.url, a.access_token)).status).toBe(200);
    const c = (await (await refresh(emu.url, a.refresh_token)).json()) as TokenBody;
    expect(c.access_token).toMatch(TOKEN_FORMAT);
    expect(new Set([a.access_token, b.access_token, c.access_token]).size).toBe(3);
    // First use of B's access token on the API retires A.
    expect((await createCreditCheck(emu.url, b.access_token, CHECK)).status).toBe(200);
    const old = await createCreditCheck(emu.url, a.access_token, CHECK);
    expect(old.status).toBe(401);
    expect(old.headers.get('www-authenticate')).toBe(REVOKED);
    await expectOAuthError(
      await refresh(emu.url, a.refresh_token),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    // The sibling pair C was never revoked: its tokens still work.
    expect((await createCreditCheck(emu.url, c.access_token, CHECK)).status).toBe(200);
    expect((await refresh(emu.url, c.refresh_token)).status).toBe(200);
    // B as well.
    expect((await refresh(emu.url, b.refresh_token)).status).toBe(200);
  });

  it('counts /oauth/token/info as a use', async () => {
    const a = await issuePair(emu.url);
    const b = (await (await refresh(emu.url, a.refresh_token)).json()) as TokenBody;
    expect((await tokenInfo(emu.url, b.access_token)).status).toBe(200);
    expect((await tokenInfo(emu.url, a.access_token)).status).toBe(401);
    await expectOAuthError(
      await refresh(emu.url, a.refresh_token),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
  });

  it('lets 10 concurrent refreshes with one token all succeed, each with its own pair', async () => {
    const a = await issuePair(emu.url);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(emu.url, a.refresh_token)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = (await Promise.all(results.map((r) => r.json()))) as TokenBody[];
    const tokens = bodies.flatMap((b) => [b.access_token, b.refresh_token]);
    expect(new Set(tokens).size).toBe(20);
    expect(emu.stats().tokenRequests.refresh_token).toEqual({ ok: 10 });
    // Using one of them retires A but none of the nine siblings.
    expect((await tokenInfo(emu.url, bodies[0]!.access_token)).status).toBe(200);
    expect((await tokenInfo(emu.url, a.access_token)).status).toBe(401);
    for (const sibling of bodies.slice(1))
      expect((await tokenInfo(emu.url, sibling.access_token)).status).toBe(200);
  });
});

describe('immediate rotation', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, quiet: true, rotation: 'immediate' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it('revokes the old pair inside the refresh', async () => {
    const a = await issuePair(emu.url);
    const res = await refresh(emu.url, a.refresh_token);
    expect(res.status).toBe(200);
    const b = (await res.json()) as TokenBody;
    const old = await createCreditCheck(emu.url, a.access_token, CHECK);
    expect(old.status).toBe(401);
    expect(await old.text()).toBe('');
    expect(old.headers.get('www-authenticate')).toBe(REVOKED);
    await expectOAuthError(
      await refresh(emu.url, a.refresh_token),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    expect((await createCreditCheck(emu.url, b.access_token, CHECK)).status).toBe(200);
  });

  it('lets exactly one of 10 concurrent refreshes with one token succeed', async () => {
    const a = await issuePair(emu.url);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(emu.url, a.refresh_token)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    for (const r of results.filter((x) => x.status === 400)) {
      expect(await r.json()).toEqual({
        error: 'invalid_grant',
        error_description: DESCRIPTIONS.invalid_grant,
      });
    }
    expect(emu.stats().tokenRequests.refresh_token).toEqual({ ok: 1, invalid_grant: 9 });
  });
});

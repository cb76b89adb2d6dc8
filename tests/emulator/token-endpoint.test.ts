// POST /oauth/token: Doorkeeper's answers, checked to the header and the byte of the descriptions.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import {
  ALL_SCOPES,
  authorizeCode,
  CLIENT_ID,
  CLIENT_SECRET,
  DESCRIPTIONS,
  exchangeCode,
  expectOAuthError,
  issuePair,
  OOB,
  postToken,
  refresh,
  TOKEN_FORMAT,
  type TokenBody,
} from './helpers.ts';

let emu: RunningEmulator;
let url: string;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    quiet: true,
    accessTtl: 3600,
    additionalClients: [{ clientId: 'other-client', clientSecret: 'other-secret' }],
  });
  url = emu.url;
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

describe('authorization_code grant', () => {
  it('answers 200 with Doorkeeper headers and body keys in order', async () => {
    const code = await authorizeCode(url);
    const before = Math.floor(Date.now() / 1000);
    const res = await exchangeCode(url, code);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('www-authenticate')).toBeNull();
    const body = (await res.json()) as TokenBody;
    expect(Object.keys(body)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'scope',
      'created_at',
    ]);
    expect(body.access_token).toMatch(TOKEN_FORMAT);
    expect(body.refresh_token).toMatch(TOKEN_FORMAT);
    expect(body.access_token).not.toBe(body.refresh_token);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3600);
    expect(body.scope).toBe(ALL_SCOPES);
    expect(body.created_at).toBeGreaterThanOrEqual(before);
    expect(body.created_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('issues the scopes approved at authorize', async () => {
    const code = await authorizeCode(url, { scope: 'read credit_check:create' });
    const body = (await (await exchangeCode(url, code)).json()) as TokenBody;
    expect(body.scope).toBe('read credit_check:create');
  });

  it('accepts HTTP Basic client authentication (RFC 6749 §2.3.1)', async () => {
    const code = await authorizeCode(url);
    const res = await postToken(
      url,
      { grant_type: 'authorization_code', code, redirect_uri: OOB },
      {
        headers: {
          Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        },
      },
    );
    expect(res.status).toBe(200);
  });

  it('reads HTTP Basic before the body parameters', async () => {
    const code = await authorizeCode(url);
    const res = await postToken(
      url,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: OOB,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      },
      { headers: { Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:wrong`).toString('base64')}` } },
    );
    await expectOAuthError(res, 401, 'invalid_client', DESCRIPTIONS.invalid_client);
  });

  it('accepts a JSON body and query-string parameters', async () => {
    const code = await authorizeCode(url);
    const json = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'authorization_code',
        code,
        redirect_uri: OOB,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    expect(json.status).toBe(200);
    const code2 = await authorizeCode(url);
    const query = new URLSearchParams({
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: OOB,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    const viaQuery = await fetch(`${url}/oauth/token?${query}`, { method: 'POST' });
    expect(viaQuery.status).toBe(200);
  });

  it('checks in Doorkeeper order: code, redirect_uri, client, grant, redirect_uri match', async () => {
    const code = await authorizeCode(url);
    // Everything wrong: the blank code wins.
    await expectOAuthError(
      await postToken(url, { grant_type: 'authorization_code', client_id: 'nobody', client_secret: 'x' }),
      400,
      'invalid_request',
      'Missing required parameter: code.',
    );
    await expectOAuthError(
      await postToken(url, { grant_type: 'authorization_code', code: '  ', redirect_uri: OOB }),
      400,
      'invalid_request',
      'Missing required parameter: code.',
    );
    // Code present, redirect_uri blank, bad client: redirect_uri wins.
    await expectOAuthError(
      await postToken(url, {
        grant_type: 'authorization_code',
        code: 'unknown',
        client_id: 'nobody',
        client_secret: 'x',
      }),
      400,
      'invalid_request',
      'Missing required parameter: redirect_uri.',
    );
    // Bad client before unknown code.
    await expectOAuthError(
      await exchangeCode(url, 'unknown', { client_secret: 'wrong' }),
      401,
      'invalid_client',
      DESCRIPTIONS.invalid_client,
    );
    await expectOAuthError(
      await postToken(url, { grant_type: 'authorization_code', code, redirect_uri: OOB }),
      401,
      'invalid_client',
      DESCRIPTIONS.invalid_client,
    );
    await expectOAuthError(
      await exchangeCode(url, code, { client_id: 'unknown-client' }),
      401,
      'invalid_client',
      DESCRIPTIONS.invalid_client,
    );
    await expectOAuthError(
      await exchangeCode(url, 'unknown'),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    // The real code still works after all of those: none of them consumed it.
    expect((await exchangeCode(url, code)).status).toBe(200);
  });

  it('binds the code to its redirect_uri', async () => {
    const code = await authorizeCode(url, { redirectUri: 'http://127.0.0.1:8123/callback', state: 's' });
    await expectOAuthError(await exchangeCode(url, code), 400, 'invalid_grant', DESCRIPTIONS.invalid_grant);
    await expectOAuthError(
      await exchangeCode(url, code, { redirect_uri: 'http://127.0.0.1:8123/other' }),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    expect((await exchangeCode(url, code, { redirect_uri: 'http://127.0.0.1:8123/callback' })).status).toBe(
      200,
    );
  });

  it('refuses a code issued to another client', async () => {
    const code = await authorizeCode(url, { clientId: 'other-client' });
    await expectOAuthError(await exchangeCode(url, code), 400, 'invalid_grant', DESCRIPTIONS.invalid_grant);
    const res = await exchangeCode(url, code, { client_id: 'other-client', client_secret: 'other-secret' });
    expect(res.status).toBe(200);
  });

  it('is single use', async () => {
    const code = await authorizeCode(url);
    expect((await exchangeCode(url, code)).status).toBe(200);
    await expectOAuthError(await exchangeCode(url, code), 400, 'invalid_grant', DESCRIPTIONS.invalid_grant);
    expect(emu.stats().tokenRequests.authorization_code).toEqual({ ok: 1, invalid_grant: 1 });
  });

  it('gives exactly one token for concurrent exchanges of one code', async () => {
    const code = await authorizeCode(url);
    const results = await Promise.all(Array.from({ length: 5 }, () => exchangeCode(url, code)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
  });

  it('expires codes after 10 minutes on the emulator clock', async () => {
    const fresh = await authorizeCode(url);
    emu.setClockOffset(599);
    expect((await exchangeCode(url, fresh)).status).toBe(200);
    emu.setClockOffset(0);
    const stale = await authorizeCode(url);
    emu.setClockOffset(601);
    await expectOAuthError(await exchangeCode(url, stale), 400, 'invalid_grant', DESCRIPTIONS.invalid_grant);
  });
});

describe('refresh_token grant', () => {
  it('issues a new, different pair with the same scope', async () => {
    const pair = await issuePair(url);
    const res = await refresh(url, pair.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const next = (await res.json()) as TokenBody;
    expect(Object.keys(next)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'refresh_token',
      'scope',
      'created_at',
    ]);
    expect(next.access_token).toMatch(TOKEN_FORMAT);
    expect(next.refresh_token).toMatch(TOKEN_FORMAT);
    expect(next.access_token).not.toBe(pair.access_token);
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    expect(next.scope).toBe(pair.scope);
    const stats = emu.stats();
    expect(stats.tokenRequests.refresh_token).toEqual({ ok: 1 });
    expect(stats.lastRefreshAt).not.toBeNull();
  });

  it('gives the new pair the full lifetime of the old one, on the emulator clock', async () => {
    const pair = await issuePair(url);
    emu.setClockOffset(5000); // the old access token has expired: refresh tokens never do
    const next = (await (await refresh(url, pair.refresh_token)).json()) as TokenBody;
    expect(next.expires_in).toBe(3600);
    expect(next.created_at).toBeGreaterThanOrEqual(pair.created_at + 5000);
    expect(Date.parse(emu.stats().lastRefreshAt ?? '')).toBeGreaterThanOrEqual(
      (pair.created_at + 5000) * 1000,
    );
  });

  it('may narrow the scope but never widen it', async () => {
    const pair = await issuePair(url, 'read credit_check:create');
    const narrow = (await (await refresh(url, pair.refresh_token, { scope: 'read' })).json()) as TokenBody;
    expect(narrow.scope).toBe('read');
    await expectOAuthError(
      await refresh(url, narrow.refresh_token, { scope: 'read customer:delete' }),
      400,
      'invalid_scope',
      DESCRIPTIONS.invalid_scope,
    );
  });

  it('checks in Doorkeeper order: blank, unknown, client, client match', async () => {
    const pair = await issuePair(url);
    await expectOAuthError(
      await refresh(url, '', { client_secret: 'wrong' }),
      400,
      'invalid_request',
      'Missing required parameter: refresh_token.',
    );
    // Unknown token wins over a wrong secret.
    await expectOAuthError(
      await refresh(url, 'unknown', { client_secret: 'wrong' }),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    await expectOAuthError(
      await refresh(url, pair.refresh_token, { client_secret: 'wrong' }),
      401,
      'invalid_client',
      DESCRIPTIONS.invalid_client,
    );
    // No credentials at all: invalid_grant, not invalid_client.
    await expectOAuthError(
      await postToken(url, { grant_type: 'refresh_token', refresh_token: pair.refresh_token }),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    // Another registered client may not use this client's refresh token.
    await expectOAuthError(
      await refresh(url, pair.refresh_token, { client_id: 'other-client', client_secret: 'other-secret' }),
      400,
      'invalid_grant',
      DESCRIPTIONS.invalid_grant,
    );
    expect((await refresh(url, pair.refresh_token)).status).toBe(200);
  });
});

describe('grant_type', () => {
  it('is required', async () => {
    await expectOAuthError(
      await postToken(url, { code: 'x' }),
      400,
      'invalid_request',
      'Missing required parameter: grant_type.',
    );
  });

  it('must be a supported one', async () => {
    for (const grant of ['password', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']) {
      await expectOAuthError(
        await postToken(url, { grant_type: grant, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
        400,
        'unsupported_grant_type',
        DESCRIPTIONS.unsupported_grant_type,
      );
    }
    expect(emu.stats().tokenRequests.other).toEqual({ unsupported_grant_type: 3 });
  });
});

describe('never-expiring tokens', () => {
  it('drops expires_in when accessTtl is 0', async () => {
    const eternal = await startEmulator({ port: 0, quiet: true, accessTtl: 0 });
    try {
      expect(eternal.options.accessTtl).toBeNull();
      const pair = await issuePair(eternal.url);
      expect(Object.keys(pair)).toEqual([
        'access_token',
        'token_type',
        'refresh_token',
        'scope',
        'created_at',
      ]);
      const next = (await (await refresh(eternal.url, pair.refresh_token)).json()) as TokenBody;
      expect('expires_in' in next).toBe(false);
      eternal.setClockOffset(10 * 365 * 86400);
      const info = await fetch(`${eternal.url}/oauth/token/info`, {
        headers: { Authorization: `Bearer ${next.access_token}` },
      });
      expect(info.status).toBe(200);
      expect(((await info.json()) as { expires_in: unknown }).expires_in).toBeNull();
    } finally {
      await eternal.close();
    }
  });
});

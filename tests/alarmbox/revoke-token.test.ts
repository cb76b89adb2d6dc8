// AlarmboxClient.revokeToken against the emulator over HTTP: RFC 7009 revocation as Doorkeeper serves it (either
// token kills the pair, 200 for unknown tokens, 403 for a client it cannot authenticate), with the token
// request's timeout and body cap.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmboxClient } from '../../src/alarmbox/client.ts';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { OOB_REDIRECT_URI } from '../../src/config/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { apiStatus, obtainCode } from '../support/authorize.ts';
import { expectReason } from '../support/rejections.ts';

let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
});

afterAll(async () => {
  await emulator?.close();
});

beforeEach(() => {
  emulator.reset();
});

function client(overrides: { clientSecret?: string; timeoutMs?: number } = {}): AlarmboxClient {
  return new AlarmboxClient({
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: overrides.clientSecret ?? emulator.options.clientSecret,
    redirectUri: OOB_REDIRECT_URI,
    timeoutMs: overrides.timeoutMs ?? 10_000,
  });
}

async function issuedPair(): Promise<{ access: string; refresh: string }> {
  const received = await client().getTokenByCode(await obtainCode(emulator));
  return { access: received.response.access_token, refresh: received.response.refresh_token ?? '' };
}

describe('AlarmboxClient.revokeToken', () => {
  it('the refresh token (with its hint) revokes the whole pair', async () => {
    const pair = await issuedPair();
    await client().revokeToken(pair.refresh, 'refresh_token');
    expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 1 });
    const refused = await expectReason(
      client().refreshToken(pair.refresh),
      'reauthorization_required',
      AlarmboxAPIError,
    );
    expect(refused.oauthError).toBe('invalid_grant');
    expect(await apiStatus(emulator, pair.access)).toBe(401);
  });

  it('the access token revokes the pair too; an unknown token is a 200 (RFC 7009 §2.2)', async () => {
    const pair = await issuedPair();
    await client().revokeToken(pair.access, 'access_token');
    const refused = await expectReason(
      client().refreshToken(pair.refresh),
      'reauthorization_required',
      AlarmboxAPIError,
    );
    expect(refused.oauthError).toBe('invalid_grant');
    await client().revokeToken('never-issued', 'refresh_token');
    expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 2 });
  });

  it('a client AlarmBox cannot authenticate: client_configuration, and the pair lives on', async () => {
    const pair = await issuedPair();
    const error = await expectReason(
      client({ clientSecret: 'wrong-secret' }).revokeToken(pair.refresh, 'refresh_token'),
      'client_configuration',
      AlarmboxAPIError,
    );
    expect(error).toMatchObject({
      statusCode: 403,
      oauthError: 'unauthorized_client',
    });
    expect(error.message).toContain('POST /oauth/revoke');
    expect(error.message).not.toContain('wrong-secret');
    expect(error.message).not.toContain(pair.refresh);
    expect((await client().refreshToken(pair.refresh)).response.refresh_token).toMatch(/.+/);
  });

  it('a 503 is temporary', async () => {
    emulator.setFaults({ revoke: { status: 503 } });
    const error = await expectReason(
      client().revokeToken('whatever', 'refresh_token'),
      'temporary',
      AlarmboxAPIError,
    );
    expect(error.statusCode).toBe(503);
  });

  it('a silent server ends at the timeout, an endless body at the size cap: temporary, in time', async () => {
    emulator.setFaults({ revoke: { delayMs: 5_000, times: 1 } });
    let started = performance.now();
    const slow = await expectReason(
      client({ timeoutMs: 300 }).revokeToken('whatever', 'refresh_token'),
      'temporary',
      AlarmboxAPIError,
    );
    expect(slow.message).toContain('タイムアウト');
    expect(performance.now() - started).toBeLessThan(3_000);

    emulator.setFaults({ revoke: { body: 'huge' } });
    started = performance.now();
    const huge = await expectReason(
      client().revokeToken('whatever', 'refresh_token'),
      'temporary',
      AlarmboxAPIError,
    );
    expect(huge.message).toContain('上限');
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

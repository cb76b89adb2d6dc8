// RunningEmulator.issueAuthorizationCode(): the consent page's code without the browser, with the same checks.
import { describe, expect, it } from 'vitest';
import { inProcess } from './helpers.ts';

const emulator = inProcess();

/** The token endpoint's answer to an authorization_code grant for `code`. */
async function exchange(code: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await emulator.request(`${emulator.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
      client_id: emulator.options.clientId,
      client_secret: emulator.options.clientSecret,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('issueAuthorizationCode', () => {
  it('issues a single-use code for the requested scope (default: all of the application)', async () => {
    const code = emulator.issueAuthorizationCode({ scope: 'read' });
    const first = await exchange(code);
    expect(first.status).toBe(200);
    expect(first.body.scope).toBe('read');
    expect((await exchange(code)).body.error).toBe('invalid_grant');
    expect((await exchange(emulator.issueAuthorizationCode())).body.scope).toBe(emulator.options.scopes);
  });

  it('refuses what the authorization request would refuse, naming it', () => {
    expect(() => emulator.issueAuthorizationCode({ scope: 'admin' })).toThrow(/invalid_scope/);
    expect(() => emulator.issueAuthorizationCode({ clientId: 'nobody' })).toThrow(/invalid_client/);
    expect(() => emulator.issueAuthorizationCode({ redirectUri: 'https://evil.example/' })).toThrow(
      /invalid_redirect_uri/,
    );
  });
});

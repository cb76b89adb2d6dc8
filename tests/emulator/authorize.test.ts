// GET/POST/DELETE /oauth/authorize and the OOB native page.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { ALL_SCOPES, CLIENT_ID, DESCRIPTIONS, exchangeCode, form, OOB, TOKEN_FORMAT } from './helpers.ts';

let emu: RunningEmulator;
let url: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true });
  url = emu.url;
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

function authorizeUrl(params: Record<string, string>): string {
  return `${url}/oauth/authorize?${new URLSearchParams(params)}`;
}

const valid = {
  client_id: CLIENT_ID,
  redirect_uri: OOB,
  response_type: 'code',
  scope: 'read credit_check:create',
};

async function expectErrorPage(params: Record<string, string>, description: string): Promise<void> {
  const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  const html = await res.text();
  expect(html).toContain('An error has occurred');
  expect(html).toContain(description.replace("'", '&#39;'));
  expect(html).not.toContain('承認');
}

describe('GET /oauth/authorize', () => {
  it('renders the consent page with both buttons carrying the request', async () => {
    const res = await fetch(authorizeUrl({ ...valid, state: '<xyz>' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<button type="submit">承認</button>');
    expect(html).toContain('<button type="submit">否認</button>');
    expect(html).toContain('<input type="hidden" name="_method" value="delete">');
    expect(html.match(/<form action="\/oauth\/authorize" method="post">/g)).toHaveLength(2);
    expect(html.match(/name="client_id" value="local-client-id"/g)).toHaveLength(2);
    expect(html.match(/name="redirect_uri" value="urn:ietf:wg:oauth:2.0:oob"/g)).toHaveLength(2);
    expect(html.match(/name="scope" value="read credit_check:create"/g)).toHaveLength(2);
    // The state is escaped, never injected.
    expect(html).toContain('name="state" value="&lt;xyz&gt;"');
    expect(html).not.toContain('<xyz>');
    // No code is issued by merely showing the page.
    expect(emu.stats().tokenRequests.authorization_code).toEqual({});
  });

  it('defaults a missing scope to the application scopes', async () => {
    const { scope: _omitted, ...noScope } = valid;
    const html = await (await fetch(authorizeUrl(noScope))).text();
    expect(html.match(new RegExp(`name="scope" value="${ALL_SCOPES}"`, 'g'))).toHaveLength(2);
  });

  it('renders errors as an HTML page with status 200, first failure first', async () => {
    await expectErrorPage({ ...valid, client_id: '' }, 'Missing required parameter: client_id.');
    // Unknown client wins over a bad redirect_uri, response_type and scope.
    await expectErrorPage(
      { client_id: 'nobody', redirect_uri: 'http://evil.example/cb', response_type: 'token', scope: 'admin' },
      DESCRIPTIONS.invalid_client,
    );
    await expectErrorPage(
      { ...valid, redirect_uri: 'http://evil.example/cb', response_type: 'token', scope: 'admin' },
      DESCRIPTIONS.invalid_redirect_uri,
    );
    await expectErrorPage({ ...valid, redirect_uri: '' }, DESCRIPTIONS.invalid_redirect_uri);
    await expectErrorPage(
      { ...valid, redirect_uri: 'http://localhost:8080/callback' },
      DESCRIPTIONS.invalid_redirect_uri,
    );
    await expectErrorPage({ ...valid, response_type: '' }, 'Missing required parameter: response_type.');
    await expectErrorPage(
      { ...valid, response_type: 'token', scope: 'admin' },
      DESCRIPTIONS.unsupported_response_type,
    );
    await expectErrorPage({ ...valid, scope: 'read admin' }, DESCRIPTIONS.invalid_scope);
  });

  it('accepts any port for the loopback redirect URI (RFC 8252 §7.3)', async () => {
    for (const port of ['1', '8080', '65535']) {
      const res = await fetch(authorizeUrl({ ...valid, redirect_uri: `http://127.0.0.1:${port}/callback` }));
      expect(await res.text()).toContain('承認');
    }
  });
});

describe('approve (POST /oauth/authorize)', () => {
  it('sends OOB to the native page, which shows the code (state not carried)', async () => {
    const res = await fetch(`${url}/oauth/authorize`, {
      method: 'POST',
      body: form({ ...valid, state: 'abc' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${url}/oauth/authorize/native`);
    expect([...location.searchParams.keys()]).toEqual(['code']);
    const code = location.searchParams.get('code') ?? '';
    expect(code).toMatch(TOKEN_FORMAT);
    const page = await fetch(location);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<code id="authorization_code">${code}</code>`);
    expect((await exchangeCode(url, code)).status).toBe(200);
  });

  it('redirects a registered URI with code and state', async () => {
    const redirectUri = 'http://127.0.0.1:9876/callback';
    const res = await fetch(`${url}/oauth/authorize`, {
      method: 'POST',
      body: form({ ...valid, redirect_uri: redirectUri, state: 'st&ate' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('code')).toMatch(TOKEN_FORMAT);
    expect(location.searchParams.get('state')).toBe('st&ate');
  });

  it('re-validates the request: unknown client is a 401 JSON, a bad scope goes back to the client', async () => {
    const bad = await fetch(`${url}/oauth/authorize`, {
      method: 'POST',
      body: form({ ...valid, client_id: 'nobody' }),
      redirect: 'manual',
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      error: 'invalid_client',
      error_description: DESCRIPTIONS.invalid_client,
    });
    const scope = await fetch(`${url}/oauth/authorize`, {
      method: 'POST',
      body: form({ ...valid, redirect_uri: 'http://127.0.0.1:9876/callback', scope: 'admin', state: 's1' }),
      redirect: 'manual',
    });
    expect(scope.status).toBe(302);
    const location = new URL(scope.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('state')).toBe('s1');
  });
});

describe('deny', () => {
  const denied = { error: 'access_denied', error_description: DESCRIPTIONS.access_denied };

  it('answers 400 JSON access_denied for OOB, through the form (_method=delete) and a real DELETE', async () => {
    const viaForm = await fetch(`${url}/oauth/authorize`, {
      method: 'POST',
      body: form({ ...valid, _method: 'delete' }),
      redirect: 'manual',
    });
    expect(viaForm.status).toBe(400);
    expect(viaForm.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await viaForm.json()).toEqual(denied);
    const viaDelete = await fetch(`${url}/oauth/authorize`, {
      method: 'DELETE',
      body: form(valid),
      redirect: 'manual',
    });
    expect(viaDelete.status).toBe(400);
    expect(await viaDelete.json()).toEqual(denied);
  });

  it('redirects other URIs with error, error_description and state', async () => {
    const res = await fetch(
      `${url}/oauth/authorize?${new URLSearchParams({ ...valid, redirect_uri: 'http://127.0.0.1:5555/callback', state: 'z' })}`,
      {
        method: 'DELETE',
        redirect: 'manual',
      },
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:5555/callback');
    expect(Object.fromEntries(location.searchParams)).toEqual({ ...denied, state: 'z' });
  });
});

describe('autoApprove', () => {
  it('answers a plain GET with the approval redirect', async () => {
    const auto = await startEmulator({ port: 0, quiet: true, autoApprove: true });
    try {
      const res = await fetch(`${auto.url}/oauth/authorize?${new URLSearchParams(valid)}`, {
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
      expect((await exchangeCode(auto.url, code)).status).toBe(200);
      // Errors are still the error page.
      const bad = await fetch(
        `${auto.url}/oauth/authorize?${new URLSearchParams({ ...valid, scope: 'admin' })}`,
        {
          redirect: 'manual',
        },
      );
      expect(bad.status).toBe(200);
      expect(await bad.text()).toContain('An error has occurred');
    } finally {
      await auto.close();
    }
  });
});

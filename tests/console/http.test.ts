// The console over plain HTTP: a real server on 127.0.0.1:0 with its embedded emulator, driven with fetch.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCode } from '../../src/apps/cli/commands/save-token.ts';
import { CSRF_ORIGIN_MESSAGE, CSRF_TOKEN_MESSAGE } from '../../src/apps/console/csrf.ts';
import type { RunningConsole } from '../../src/apps/console/index.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { type StoredPair, storedPair } from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { ConsoleBrowser, rawGet, startEmbeddedConsole, textOf } from '../support/console-browser.ts';
import { expectNoSecrets } from '../support/registered.ts';

let running: RunningConsole;
let emulator: RunningEmulator;
let browser: ConsoleBrowser;
const secrets = new Set<string>();

/** Adds the stored pair's plaintext tokens to the secrets no response may contain. */
async function collectTokens(): Promise<void> {
  const token = await running.alarmbox.store.getInstance();
  if (!token.isRegistered) return;
  secrets.add(token.getDecryptedAccessToken());
  secrets.add(token.getDecryptedRefreshToken());
}

/** What a refused POST must leave alone: the stored pair and the refresh history. */
async function snapshot(): Promise<StoredPair & { history: number }> {
  return {
    ...(await storedPair(running.alarmbox)),
    history: (await running.alarmbox.history.recent(1000)).length,
  };
}

/** Plays the browser at the emulator (auto-approve): follows the authorize redirect, returns where it leads. */
async function approveAt(authorizeUrl: string): Promise<URL> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (res.status !== 302 || location === null) throw new Error(`authorize answered ${res.status}`);
  return new URL(location, authorizeUrl);
}

/** The OOB way: the code the emulator's native page shows. */
async function oobCode(authorizeUrl: string): Promise<string> {
  const html = await (await fetch(await approveAt(authorizeUrl))).text();
  const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(html)?.[1];
  if (code === undefined) throw new Error('no code on the OOB page');
  secrets.add(code);
  return code;
}

beforeAll(async () => {
  ({ running, emulator, browser } = await startEmbeddedConsole(secrets));
});

afterAll(async () => {
  await running?.close();
});

describe('console over HTTP', () => {
  it('listens on 127.0.0.1 and serves the dashboard with its security headers', async () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await browser.get('/');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    // Every inline style or script carries this response's nonce.
    for (const tag of page.body.match(/<(?:script|style)\b[^>]*>/g) ?? [])
      expect(tag).toContain(`nonce="${nonce}"`);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict$/);
    const text = textOf(page.body);
    expect(text).toContain('未登録');
    expect(text).toContain('ALARMBOX_ENV=local');
    expect(text).toContain(emulator.url);
    expect(text).toContain('まだ更新していません');
  });

  it('answers only to its own host names (no DNS rebinding)', async () => {
    const evil = await rawGet(running.port, `rebind.example:${running.port}`);
    expect(evil.status).toBe(403);
    expect(evil.body).toContain(`http://127.0.0.1:${running.port}/ からアクセスしてください`);
    expect((await rawGet(running.port, `localhost:${running.port}`)).status).toBe(200);
  });

  it('connects through the loopback callback, checking the state it issued', async () => {
    await browser.get('/connect');
    const start = await browser.post('/connect/start', {});
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.origin).toBe(emulator.url);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${running.url}/callback`);
    const state = authorize.searchParams.get('state') ?? '';
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const callback = await approveAt(authorize.href);
    expect(callback.origin + callback.pathname).toBe(`${running.url}/callback`);
    expect(callback.searchParams.get('state')).toBe(state);
    secrets.add(callback.searchParams.get('code') ?? '');
    const hop = await browser.get(callback.pathname + callback.search);
    expect(hop.status).toBe(200);
    expect(hop.headers.get('referrer-policy')).toBe('no-referrer');
    const target = /url=([^"]+)"/.exec(hop.body)?.[1] ?? '';
    const dashboard = await browser.get(target.replace(/&#38;/g, '&'));
    await collectTokens();
    const text = textOf(dashboard.body);
    expect(text).toContain('AlarmBox と連携しました');
    expect(text).toContain('登録済み');
    expect(text).toMatch(/残り 23 時間 5\d 分/);

    // The same callback again: the state is spent, the code is not even tried.
    const before = emulator.stats().tokenRequests.authorization_code;
    const replay = await browser.get(callback.pathname + callback.search);
    expect(replay.status).toBe(400);
    expect(textOf(replay.body)).toContain('state が一致しないか');
    expect(emulator.stats().tokenRequests.authorization_code, 'code exchanges at AlarmBox').toEqual(before);
  });

  it('refuses a callback with a state it did not issue, without spending the code or storing anything', async () => {
    const before = await snapshot();
    const codeRequests = emulator.stats().tokenRequests.authorization_code;
    // A real, unused code issued for the console's callback, as an attacker would plant in a victim's browser.
    const planted = await approveAt(
      `${emulator.url}/oauth/authorize?${new URLSearchParams({
        client_id: emulator.options.clientId,
        redirect_uri: `${running.url}/callback`,
        response_type: 'code',
        scope: 'read',
        state: 'theirs',
      })}`,
    );
    const code = planted.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    secrets.add(code);
    for (const query of [`code=${code}&state=theirs`, `code=${code}`, `code=${code}&state=`]) {
      const res = await browser.get(`/callback?${query}`);
      expect(res.status).toBe(400);
      expect(textOf(res.body)).toContain('認可コードは使用していません');
    }
    expect(emulator.stats().tokenRequests.authorization_code, 'code exchanges at AlarmBox').toEqual(
      codeRequests,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('CSRF: refuses a POST without the token, with a wrong one, or without the cookie (403, nothing changes)', async () => {
    await browser.get('/');
    const before = await snapshot();
    const otherSession = new ConsoleBrowser(running);
    await otherSession.get('/');
    const attempts = [
      await browser.post('/refresh', {}, { token: null }),
      await browser.post('/refresh', {}, { token: 'A'.repeat(43) }),
      await browser.post('/refresh', {}, { token: otherSession.token ?? '' }),
      await browser.post('/refresh', {}, { cookie: null }),
      await browser.post('/api-trial', { corporation_number: '0000000000001' }, { token: null }),
      await browser.post('/connect/code', { code: 'anything' }, { token: 'wrong' }),
      await browser.post('/connect/start', {}, { token: null }),
      // The token must come from the form body, not a JSON request a script could send.
      await browser.post('/refresh', {}, { contentType: 'application/json' }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(textOf(res.body)).toContain(CSRF_TOKEN_MESSAGE);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('CSRF: refuses a POST from another origin or without Origin / Referer, even with a valid token', async () => {
    await browser.get('/');
    const before = await snapshot();
    const attempts = [
      await browser.post('/refresh', {}, { origin: 'http://evil.example' }),
      await browser.post('/refresh', {}, { origin: `http://127.0.0.1:${emulator.options.port}` }),
      await browser.post('/refresh', {}, { origin: 'null' }),
      await browser.post('/refresh', {}, { origin: null }),
      await browser.post('/refresh', {}, { origin: null, referer: 'http://evil.example/page' }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(403);
      expect(textOf(res.body)).toContain(CSRF_ORIGIN_MESSAGE);
    }
    expect(await snapshot()).toEqual(before);
    // A browser that sends only a same-origin Referer is still served.
    const ok = await browser.post('/refresh', {}, { origin: null, referer: `${running.url}/` });
    expect(ok.status).toBe(303);
    await browser.follow(ok.headers.get('location') ?? '/');
    await collectTokens();
  });

  it('a pasted code with stray characters or an unknown code: the messages of save-token, stored pair untouched', async () => {
    await browser.get('/connect');
    const before = await snapshot();
    const messageFor = async (code: string) => {
      const res = await browser.post('/connect/code', { code });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/connect\?notice=/);
      return textOf((await browser.get(res.headers.get('location') ?? '')).body);
    };
    for (const code of [' abc', '認可コード', '']) {
      let expected = '';
      try {
        validateCode(code);
      } catch (error) {
        expected = (error as Error).message;
      }
      const text = await messageFor(code);
      expect(text).toContain(`エラー: ${expected}`);
      expect(text).toContain('入力の誤り (usage、CLI の終了コード 2)');
    }

    const garbage = 'garbage-code-0123';
    const text = await messageFor(garbage);
    const cli = await runCli(['save-token', '--code', garbage], {
      DATABASE_URL: `sqlite:${running.sandboxDir}/alarmbox.db`,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('cli'),
      ALARMBOX_BASE_URL: emulator.url,
      ALARMBOX_CLIENT_ID: emulator.options.clientId,
      ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
    });
    expect(cli.code).toBe(4);
    const cliMessage = /^エラー: (.+)$/m.exec(cli.stderr)?.[1] ?? '(none)';
    expect(cliMessage).toContain('invalid_grant');
    expect(text).toContain(`エラー: ${cliMessage}`);
    expect(text).toContain('再認可が必要 (reauthorization_required、CLI の終了コード 4)');
    expect(await snapshot()).toEqual(before);
  });

  it('connects with a pasted OOB code', async () => {
    const page = await browser.get('/connect');
    const authorizeUrl = /href="([^"]+)" target="_blank"[^>]*id="authorize-link"/.exec(page.body)?.[1] ?? '';
    const code = await oobCode(authorizeUrl.replace(/&#38;/g, '&'));
    const before = await snapshot();
    const res = await browser.post('/connect/code', { code });
    expect(res.headers.get('location')).toMatch(/^\/\?notice=/);
    const text = textOf((await browser.get(res.headers.get('location') ?? '')).body);
    expect(text).toContain('AlarmBox と連携しました');
    await collectTokens();
    const after = await snapshot();
    expect(after.version).toBe(before.version + 1);
    expect(after.access).not.toBe(before.access);
  });

  it('今すぐ更新 refreshes and the timeline shows the manual refresh', async () => {
    await browser.get('/');
    const before = await snapshot();
    const res = await browser.post('/refresh', {});
    const text = textOf((await browser.get(res.headers.get('location') ?? '')).body);
    await collectTokens();
    expect(text).toContain('トークンを更新しました');
    expect(text).toMatch(/更新履歴 \(新しい順\) 成功 \(ok\) 手動/);
    const after = await snapshot();
    expect(after.version).toBe(before.version + 1);
    expect(after.history).toBe(before.history + 1);
  });

  it('API を試す: refuses a corporation number that is not a test number', async () => {
    await browser.get('/');
    const res = await browser.post('/api-trial', { corporation_number: '1234567890123' });
    const text = textOf((await browser.get(res.headers.get('location') ?? '')).body);
    expect(text).toContain('法人番号は 0000000000001 / 0000000000002 / 0000000000003 から選んでください');
    expect(text).toContain('入力の誤り (usage、CLI の終了コード 2)');
  });

  it('answers unknown pages and oversized forms in Japanese', async () => {
    const missing = await browser.get('/nope');
    expect(missing.status).toBe(404);
    expect(textOf(missing.body)).toContain('ページが見つかりません');
    const big = await browser.post('/connect/code', { code: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(textOf(big.body)).toContain('送信内容が大きすぎます');
  });

  it('a POST without Content-Length (a chunked body, or none at all) is refused with 411, nothing read or changed', async () => {
    const before = await snapshot();
    const url = new URL('/refresh', running.url);
    // Raw HTTP, as curl -X POST or a chunked client sends it: fetch would always add a length.
    const send = (head: string, body: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.end(
            `POST /refresh HTTP/1.1\r\nHost: ${url.host}\r\nOrigin: ${url.origin}\r\nConnection: close\r\n${head}\r\n${body}`,
          );
        });
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          answer += chunk;
        });
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    const chunked = await send(
      'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n',
      '7\r\n_csrf=x\r\n0\r\n\r\n',
    );
    const none = await send('', '');
    for (const answer of [chunked, none]) {
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 411 Length Required');
      expect(textOf(answer)).toContain('送信内容の長さが分かりません');
    }
    expect(await snapshot()).toEqual(before);
    expect((await browser.get('/')).status).toBe(200);
  });

  it('no response carried a token, a code or the client secret', async () => {
    await collectTokens();
    expect(secrets.size).toBeGreaterThanOrEqual(7);
    expect(browser.seen.length).toBeGreaterThan(20);
    expectNoSecrets(browser.seen, secrets);
  });
});

// Requests to AlarmBox through a real forward proxy on 127.0.0.1, with the emulator behind TLS from a CA the
// test makes. ALARMBOX_BASE_URL is https://alarmbox.test: a name only the test proxy resolves (to the
// emulator), since loopback is never proxied. The CLI children trust the CA through NODE_EXTRA_CA_CERTS.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAuthorizeUrl } from '../../src/alarmbox/authorize-url.ts';
import { DEFAULT_SCOPE, OOB_REDIRECT_URI } from '../../src/config/index.ts';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import type { FetchLike } from '../../src/http/fetch.ts';
import { ensureNode } from '../package/node-install.ts';
import { CLI, type CliResult, cliBaseEnv, runCli } from '../support/cli.ts';
import { ForwardProxy } from '../support/forward-proxy.ts';
import { createTestCa, type TestCa } from '../support/test-ca.ts';

const HOST = 'alarmbox.test';
const PROXY_PASSWORD = 'proxy-pa55-word';

describe('proxies and corporate TLS', () => {
  let ca: TestCa;
  let emulator: RunningEmulator;
  let proxy: ForwardProxy;
  let authProxy: ForwardProxy;
  let dir: string;
  let env: Record<string, string>;
  let trusting: Agent;
  const outputs: CliResult[] = [];

  /** undici's fetch trusting the test CA, to the emulator at 127.0.0.1 whatever host the URL names. */
  const directFetch: FetchLike = (input, init) => {
    const url = new URL(input);
    url.host = `127.0.0.1:${emulator.options.port}`;
    return undiciFetch(url, { ...(init as object), dispatcher: trusting }) as unknown as Promise<Response>;
  };

  /** Plays the person in the browser (auto-approve) and reads the OOB code. */
  const obtainCode = async (): Promise<string> => {
    const url = buildAuthorizeUrl({
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      redirectUri: OOB_REDIRECT_URI,
      scope: DEFAULT_SCOPE,
    });
    const res = await directFetch(url, { redirect: 'manual' });
    const target = new URL(res.headers.get('location') ?? '', emulator.url);
    const html = await (await directFetch(target)).text();
    const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(html)?.[1];
    if (code === undefined) throw new Error('no code on the OOB page');
    return code;
  };

  const cli = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
    const result = await runCli(args, { ...env, ...extra }, { cwd: dir });
    outputs.push(result);
    return result;
  };

  beforeAll(async () => {
    ca = await createTestCa();
    const leaf = await ca.issue([HOST, '127.0.0.1']);
    trusting = new Agent({ connect: { ca: ca.certPem } });
    emulator = await startEmulator({
      port: 0,
      quiet: true,
      autoApprove: true,
      tls: { cert: leaf.certPem, key: leaf.keyPem },
    });
    const upstream = { host: '127.0.0.1', port: emulator.options.port };
    proxy = await ForwardProxy.start({ routes: { [`${HOST}:443`]: upstream } });
    authProxy = await ForwardProxy.start({
      routes: { [`${HOST}:443`]: upstream },
      credentials: { user: 'taro', password: PROXY_PASSWORD },
    });
    dir = await mkdtemp(join(tmpdir(), 'alarmbox-proxy-'));
    const keys = generateKeySpec('proxy1');
    env = {
      DATABASE_URL: `sqlite:${join(dir, 'alarmbox.db')}`,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: keys,
      ALARMBOX_BASE_URL: `https://${HOST}`,
      ALARMBOX_CLIENT_ID: emulator.options.clientId,
      ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
      ALARMBOX_HTTP_TIMEOUT_MS: '10000',
      // A temporary failure is asserted once, not retried with backoff.
      ALARMBOX_JOB_RETRIES: '0',
      HTTPS_PROXY: proxy.url(),
      NODE_EXTRA_CA_CERTS: ca.certPath,
    };
    expect((await cli(['migrate'])).code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await authProxy?.close();
    await emulator?.close();
    await trusting?.close();
    ca?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    // No proxy password in anything the CLI printed.
    for (const r of outputs) expect(r.stdout + r.stderr).not.toContain(PROXY_PASSWORD);
  });

  beforeEach(() => {
    proxy.requested.length = 0;
    authProxy.requested.length = 0;
  });

  it('save-token, refresh-token and credit-check go through HTTPS_PROXY (CONNECT alarmbox.test:443)', async () => {
    const saved = await cli(['save-token', '--code', await obtainCode()]);
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    expect(proxy.requested).toEqual([`${HOST}:443`]);

    const refreshed = await cli(['refresh-token']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(proxy.requested).toEqual([`${HOST}:443`, `${HOST}:443`]);

    proxy.requested.length = 0;
    const check = await cli(['credit-check', '--corporation-number', '0000000000001', '--json']);
    expect(check.code, check.stderr).toBe(0);
    expect(proxy.requested.length).toBeGreaterThan(0);
    expect(new Set(proxy.requested)).toEqual(new Set([`${HOST}:443`]));
  });

  it('doctor names the proxy in use (host:port, never its password) and reaches the token endpoint through it', async () => {
    const r = await cli(['doctor'], { HTTPS_PROXY: authProxy.url(`taro:${PROXY_PASSWORD}`) });
    expect(r.stdout).toContain(
      `プロキシ: 127.0.0.1:${authProxy.port} (HTTPS_PROXY) を経由して ${HOST} に接続します`,
    );
    expect(r.stdout).not.toContain(PROXY_PASSWORD);
    expect(r.stdout).not.toContain('taro');
    expect(authProxy.requested).toContain(`${HOST}:443`);
    expect(authProxy.authorizations.at(-1)).toBe(
      `Basic ${Buffer.from(`taro:${PROXY_PASSWORD}`).toString('base64')}`,
    );
    expect(r.code, r.stdout).toBe(0);
  });

  it('lower-case https_proxy wins over HTTPS_PROXY', async () => {
    const r = await cli(['refresh-token'], { https_proxy: proxy.url(), HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requested).toEqual([`${HOST}:443`]);
  });

  it('NO_PROXY excluding the host: sent directly, so the name does not resolve, and doctor says why', async () => {
    const r = await cli(['refresh-token'], { NO_PROXY: `.example.com, ${HOST}` });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('接続エラー: AlarmBox API に接続できません (ENOTFOUND)');
    expect(proxy.requested).toEqual([]);
    const d = await cli(['doctor'], { no_proxy: HOST });
    expect(d.stdout).toContain(`プロキシ: 使いません (${HOST} は no_proxy で除外されています)`);
    expect(proxy.requested).toEqual([]);
  });

  it('a loopback base URL is never proxied, whatever NO_PROXY says', async () => {
    for (const base of [
      `https://127.0.0.1:${emulator.options.port}`,
      `https://localhost:${emulator.options.port}`,
    ]) {
      const r = await cli(['refresh-token'], { ALARMBOX_BASE_URL: base, NO_PROXY: 'other.example' });
      if (base.includes('localhost')) {
        // The certificate names 127.0.0.1, not localhost: a clear certificate error, and still not proxied.
        expect(r.stderr).toContain('証明書エラー');
      } else {
        expect(r.code, r.stderr).toBe(0);
      }
    }
    const d = await cli(['doctor'], { ALARMBOX_BASE_URL: `https://127.0.0.1:${emulator.options.port}` });
    expect(d.stdout).toContain('プロキシ: 使いません (127.0.0.1:');
    expect(proxy.requested).toEqual([]);
  });

  it('a proxy that wants credentials (407) is a Japanese configuration error naming it', async () => {
    const r = await cli(['refresh-token'], { HTTPS_PROXY: authProxy.url() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `プロキシ認証エラー: プロキシ 127.0.0.1:${authProxy.port} が認証を求めました (407`,
    );
    expect(r.stderr).toContain('HTTPS_PROXY にユーザー名とパスワードを含めてください');
    const wrong = await cli(['refresh-token'], { HTTPS_PROXY: authProxy.url('taro:wrong') });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).not.toContain('wrong');
    const right = await cli(['refresh-token'], { HTTPS_PROXY: authProxy.url(`taro:${PROXY_PASSWORD}`) });
    expect(right.code, right.stderr).toBe(0);
  });

  it('a proxy that is not listening is a temporary error naming the proxy', async () => {
    const r = await cli(['refresh-token'], { HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('プロキシ接続エラー: プロキシ 127.0.0.1:9 に接続できません (ECONNREFUSED)');
  });

  it('a malformed proxy URL is a configuration error (exit 2), never ignored', async () => {
    for (const value of ['proxy.example.co.jp:8080', 'http://', 'socks5://127.0.0.1:1080']) {
      const r = await cli(['refresh-token'], { HTTPS_PROXY: value });
      expect(r.code, value).toBe(2);
      expect(r.stderr).toContain('HTTPS_PROXY の値がプロキシの URL ではありません');
      const d = await cli(['doctor'], { https_proxy: value });
      expect(d.code).toBe(2);
      expect(d.stdout).toContain('https_proxy の値がプロキシの URL ではありません');
    }
    expect(proxy.requested).toEqual([]);
  });

  it('without NODE_EXTRA_CA_CERTS: a Japanese certificate error with the fix, not only a code', async () => {
    const { NODE_EXTRA_CA_CERTS: _, ...withoutCa } = env;
    const r = await runCli(['refresh-token'], withoutCa, { cwd: dir });
    outputs.push(r);
    expect(r.code).toBe(2);
    // A server that sends its leaf alone gives UNABLE_TO_VERIFY_LEAF_SIGNATURE; one that sends the chain up to
    // an untrusted root (a TLS-inspecting proxy) gives UNABLE_TO_GET_ISSUER_CERT_LOCALLY: both are named.
    expect(r.stderr).toMatch(
      /証明書エラー: AlarmBox \(alarmbox\.test\) の TLS 証明書を、信頼できる認証局までたどれません \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    expect(r.stderr).toContain('NODE_EXTRA_CA_CERTS');
    expect(r.stderr).toContain('docs/integration.md「プロキシと社内の CA」');
    // The same named error from doctor, and the request did go through the proxy.
    const d = await runCli(['doctor'], withoutCa, { cwd: dir });
    outputs.push(d);
    expect(d.stdout).toContain('証明書エラー');
    expect(proxy.requested).toContain(`${HOST}:443`);
  });

  it('on Node 22.14 (bundled undici 6, no NODE_USE_ENV_PROXY) too: refresh-token through the proxy', async () => {
    const bin = await ensureNode('22.14.0');
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        join(bin, 'node'),
        [CLI, 'refresh-token'],
        { env: { ...cliBaseEnv(), ...env }, cwd: dir, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
            stdout,
            stderr,
          }),
      );
    });
    outputs.push(r);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requested).toEqual([`${HOST}:443`]);
  }, 320_000);

  it('the library uses an app’s own fetch for every request, and then no env proxy', async () => {
    // One variable set and restored on the real process.env: replacing the object would cut Node's hooks on it
    // (a later `process.env.TZ = …` in the same worker would no longer change the time zone).
    const savedProxy = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = proxy.url();
    const calls: string[] = [];
    const own: FetchLike = (input, init) => {
      calls.push(new URL(input).pathname);
      return directFetch(input, init);
    };
    const alarmbox = createToolkit({
      env: 'dev',
      databaseUrl: `sqlite:${join(dir, 'library.db')}`,
      encryptionKeys: env.ALARMBOX_ENCRYPTION_KEYS,
      baseUrl: `https://${HOST}`,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
      fetch: own,
    });
    try {
      await migrateToLatest(alarmbox.database);
      const received = await alarmbox.client.getTokenByCode(await obtainCode());
      await alarmbox.tokens.saveInitialToken(alarmbox.tokens.initialTokensFrom(received));
      await alarmbox.tokens.refresh({ force: true });
      await alarmbox.api.creditChecks.create({ corporation_number: '0000000000001' });
      expect(calls).toContain('/oauth/token');
      expect(calls.some((p) => p.startsWith('/ps/'))).toBe(true);
      expect(proxy.requested).toEqual([]);
    } finally {
      await alarmbox.close();
      if (savedProxy === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = savedProxy;
    }
  });
});

// No secret in any error: for every failure shape of the token endpoint, the error the library throws —
// message, stack, cause chain, own properties (hidden ones too), JSON — holds no token, code or client secret.
// Also for secrets that look like nothing in particular, echoed back by AlarmBox (redacted by value), in the
// errors, the stored `last_error` and history, and everything the bundled CLI prints.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { saveTokenFromCode } from '../../src/alarmbox/code-exchange.ts';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { requestError } from '../../src/alarmbox/token-endpoint-errors.ts';
import { type RunningConsole, startConsole } from '../../src/apps/console/index.ts';
import { createAlarmboxApi, createToolkit, type Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type FaultSpec, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../support/alarmbox.ts';
import { obtainCode } from '../support/authorize.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { closedPort } from '../support/closed-port.ts';
import { ConsoleBrowser } from '../support/console-browser.ts';

/** Everything an error could show of `err`. */
function exposed(err: unknown): string {
  return `${inspect(err, { depth: Number.POSITIVE_INFINITY, showHidden: true })}\n${JSON.stringify(err)}\n${String(err)}`;
}

/** A token-shaped run (Doorkeeper's 43 characters, or longer): none may survive. */
const TOKEN_LIKE = /[A-Za-z0-9_-]{40,}/;

function expectClean(err: unknown, secrets: readonly string[]): void {
  expect(err).toBeInstanceOf(Error);
  const text = exposed(err);
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(TOKEN_LIKE);
}

const SHAPES: readonly [string, FaultSpec][] = [
  ['timeout', { delayMs: 1_500 }],
  ['reset before the answer', { drop: 'before' }],
  ['reset after the rotation', { drop: 'after-commit' }],
  ['reset mid-body after a 200', { drop: 'mid-body' }],
  ['401', { status: 401 }],
  ['429', { status: 429, retryAfter: 3 }],
  ['500 HTML', { status: 500 }],
  ['502 broken JSON', { status: 502, body: 'broken-json' }],
  ['503 empty', { status: 503, body: 'empty' }],
  ['503 huge', { status: 503, body: 'huge' }],
  ['200 HTML', { body: 'html' }],
  ['200 broken JSON (half of the real tokens)', { body: 'broken-json' }],
  ['200 empty', { body: 'empty' }],
  ['200 huge (the real tokens, then padding)', { body: 'huge' }],
  ['200 without any token', { response: { omit: ['access_token', 'refresh_token'] } }],
  ['200 with tokens of the wrong type', { response: { set: { access_token: 42, refresh_token: ['x'] } } }],
];

describe('no secret in any error (SQLite)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let secrets: string[];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-secrets-'));
    alarmbox = alarmboxFor(emulator, `sqlite:${join(dir, 'secrets.db')}`, generateKeySpec('s1'), {
      httpTimeoutMs: 800,
    });
    await migrateToLatest(alarmbox.database);
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    const pair = await registerToken(alarmbox, emulator);
    secrets = [pair.access, pair.refresh, emulator.options.clientSecret];
  });

  it.each(SHAPES)('%s: refresh() and getValidAccessToken() throw clean errors', async (_name, fault) => {
    emulator.setFaults({ token: fault });
    const forced = await alarmbox.tokens.refresh({ force: true }).catch((e: unknown) => e);
    expectClean(forced, secrets);
    await alarmbox.store.markExpired();
    const read = await alarmbox.tokens.getValidAccessToken().catch((e: unknown) => e);
    expectClean(read, secrets);
    emulator.setFaults({});
  });

  it.each(SHAPES)('%s: the code exchange throws a clean error', async (_name, fault) => {
    const code = await obtainCode(emulator);
    emulator.setFaults({ token: fault });
    const err = await alarmbox.client.getTokenByCode(code).catch((e: unknown) => e);
    emulator.setFaults({});
    expectClean(err, [...secrets, code]);
  });

  it('invalid_grant, invalid_client and connection refused: clean', async () => {
    const code = await obtainCode(emulator);
    await alarmbox.client.getTokenByCode(code);
    expectClean(await alarmbox.client.getTokenByCode(code).catch((e: unknown) => e), [...secrets, code]);
    const wrongSecret = 'wrong-secret-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const other = createToolkit({
      ...alarmbox.config,
      // config.database is the parsed target; the option of that name is an app's connection.
      database: undefined,
      env: 'dev',
      databaseUrl: 'sqlite::memory:',
      encryptionKeys: generateKeySpec('s2'),
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      clientSecret: wrongSecret,
    });
    const refused = await other.client.refreshToken(secrets[1] ?? '').catch((e: unknown) => e);
    expectClean(refused, [...secrets, wrongSecret]);
    await other.close();
    const down = createToolkit({
      env: 'dev',
      databaseUrl: 'sqlite::memory:',
      encryptionKeys: generateKeySpec('s3'),
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
    });
    expectClean(await down.client.refreshToken(secrets[1] ?? '').catch((e: unknown) => e), secrets);
    await down.close();
  });

  it('a foreign error whose cause holds the parsed tokens is reduced to a safe copy', async () => {
    // OAuth libraries keep the parsed body in `cause`; this is the shape that leaked the new pair (issue 11 §5).
    const access = `${'A'.repeat(20)}accessTOKENvalue1234567890`;
    const refresh = `${'R'.repeat(20)}refreshTOKENvalue123456789`;
    const body = { access_token: access, refresh_token: refresh, token_type: 'bearer', expires_in: 'x' };
    const raw = new TypeError('fetch failed', {
      cause: Object.assign(new Error(`unexpected body ${JSON.stringify(body)}`), { cause: { body } }),
    });
    expect(inspect(raw, { depth: Number.POSITIVE_INFINITY })).toContain(refresh);
    const err = requestError(raw, 1000);
    expectClean(err, [access, refresh]);
  });
});

// Issue 15 §6: secrets that do not look like tokens (a short code, a client secret with punctuation, tokens of
// 20 characters) echoed back by AlarmBox. Only knowing what was sent and received keeps them out.
const SHORT_CODE = 'ShortCode.With+Chars~1';
const SHORT_SECRET = 'cs.Short+Secret~9';
const SHORT_REFRESH = 'Short.Refresh+Tok~3';

describe('secrets known by value (SQLite, AlarmBox echoing the request)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, clientSecret: SHORT_SECRET });
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-secrets-by-value-'));
    alarmbox = alarmboxFor(emulator, `sqlite:${join(dir, 'secrets.db')}`, generateKeySpec('v1'), {
      httpTimeoutMs: 2_000,
    });
    await migrateToLatest(alarmbox.database);
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(() => emulator.reset());

  /** The kept texts of a failed refresh: row 1's `last_error` and the newest history row. */
  async function keptTexts(): Promise<string> {
    await alarmbox.history.flush();
    const row = await alarmbox.store.getInstance();
    const recent = await alarmbox.history.recent(1);
    return `${row.lastError ?? ''}\n${recent.map((r) => r.message ?? '').join('\n')}`;
  }

  /** Row 1 holds a refresh token of 19 characters that AlarmBox does not know: its refresh answers 400. */
  async function seedShortRefreshToken(): Promise<void> {
    await alarmbox.store.saveInitial({
      accessToken: 'Short.Access+Tok~4',
      refreshToken: SHORT_REFRESH,
      expiredAt: new Date(Date.now() - 1_000),
    });
  }

  it.each([
    ['400 invalid_grant (processed)', { echo: true }],
    ['400 with its own error code (injected)', { status: 400, echo: true }],
    ['500 (injected)', { status: 500, echo: true }],
    ['401 (injected)', { status: 401, echo: true }],
  ] as const)('a short code exchanged, echoed in a %s body: not in the error', async (_name, fault) => {
    emulator.setFaults({ token: fault });
    const err = await saveTokenFromCode(alarmbox, SHORT_CODE, alarmbox.config.redirectUri).catch(
      (e: unknown) => e,
    );
    emulator.setFaults({});
    expect(err).toBeInstanceOf(AlarmboxAPIError);
    // The echo did arrive (its values replaced), so the test shows what it claims.
    expect((err as AlarmboxAPIError).responseBody).toContain('received:');
    expectClean(err, [SHORT_CODE, SHORT_SECRET, encodeURIComponent(SHORT_CODE)]);
  });

  it.each([
    ['400 invalid_grant (processed)', { echo: true }],
    ['400 with its own error code (injected)', { status: 400, echo: true }],
    ['500 (injected)', { status: 500, echo: true }],
    ['401 (injected)', { status: 401, echo: true }],
  ] as const)(
    'a stored short refresh token and the client secret echoed in a %s body: not kept anywhere',
    async (_name, fault) => {
      await seedShortRefreshToken();
      emulator.setFaults({ token: fault });
      const forced = await alarmbox.tokens.refresh({ force: true }).catch((e: unknown) => e);
      const online = await alarmbox.tokens.getValidAccessToken().catch((e: unknown) => e);
      emulator.setFaults({});
      expect((forced as AlarmboxAPIError).responseBody).toContain('received:');
      for (const err of [forced, online]) expectClean(err, [SHORT_REFRESH, SHORT_SECRET]);
      const kept = await keptTexts();
      expect(kept).not.toBe('\n');
      for (const secret of [SHORT_REFRESH, SHORT_SECRET]) expect(kept).not.toContain(secret);
    },
  );

  it('short tokens received and used for API calls, echoed in 401, 404 and 500 answers: not in the errors', async () => {
    emulator.setFaults({ token: { tokenLength: 20, times: 1 } });
    const first = await registerToken(alarmbox, emulator);
    expect(first.access).toHaveLength(20);
    const api = createAlarmboxApi({ alarmbox, retry: { maxAttempts: 1 } });
    // 401 twice: the client refreshes once (a new pair of 20 characters) and gives up on the second 401,
    // whose challenge quotes the new access token.
    emulator.setFaults({ api: { status: 401, echo: true, times: 2 }, token: { tokenLength: 20 } });
    const unauthorized = await api.creditChecks.get('1').catch((e: unknown) => e);
    const second = await alarmbox.store.getInstance();
    const secondAccess = second.getDecryptedAccessToken();
    const secondRefresh = second.getDecryptedRefreshToken();
    expect(secondAccess).not.toBe(first.access);
    expect(unauthorized).toBeInstanceOf(AlarmboxAPIError);
    const all = [first.access, first.refresh, secondAccess, secondRefresh, SHORT_SECRET];
    expectClean(unauthorized, all);
    // A 404 from processing an unknown id, and an injected 500 to a GET, both quoting the token.
    emulator.setFaults({ api: { echo: true } });
    const missing = await api.creditChecks.get('999999').catch((e: unknown) => e);
    emulator.setFaults({ api: { status: 500, echo: true } });
    const failed = await api.creditChecks.get('1').catch((e: unknown) => e);
    emulator.setFaults({});
    for (const err of [missing, failed]) {
      expect(err).toBeInstanceOf(AlarmboxAPIError);
      expect((err as AlarmboxAPIError).responseBody).toContain('received:');
      expectClean(err, all);
    }
  });
});

describe('the bundled CLI prints and keeps no secret it knows (SQLite, AlarmBox echoing the request)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, clientSecret: SHORT_SECRET });
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-secrets-cli-'));
    const databaseUrl = `sqlite:${join(dir, 'cli.db')}`;
    const keys = generateKeySpec('c1');
    alarmbox = alarmboxFor(emulator, databaseUrl, keys);
    await migrateToLatest(alarmbox.database);
    env = emulatorEnv(emulator, databaseUrl, keys, { ALARMBOX_HTTP_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(() => emulator.reset());

  function expectOutputClean(r: CliResult, secrets: readonly string[]): void {
    const text = `${r.stdout}\n${r.stderr}`;
    for (const secret of secrets) expect(text).not.toContain(secret);
  }

  it('save-token with a short code echoed in 400 (processed and injected) and 500 bodies', async () => {
    const faults = [{ echo: true }, { status: 400, echo: true }, { status: 500, echo: true }] as const;
    for (const fault of faults) {
      emulator.setFaults({ token: fault });
      const r = await runCli(['save-token', `--code=${SHORT_CODE}`], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('エラー');
      expectOutputClean(r, [
        SHORT_CODE,
        encodeURIComponent(SHORT_CODE),
        'ShortCode.With%2BChars%7E1',
        SHORT_SECRET,
      ]);
    }
    emulator.setFaults({});
  });

  it('refresh-token (text and JSON log) and status --json with a short stored refresh token echoed', async () => {
    await alarmbox.store.saveInitial({
      accessToken: 'Short.Access+Tok~4',
      refreshToken: SHORT_REFRESH,
      expiredAt: new Date(Date.now() - 1_000),
    });
    const secrets = [SHORT_REFRESH, encodeURIComponent(SHORT_REFRESH), SHORT_SECRET];
    // A 400 invalid_grant (AlarmBox does not know the token), a 400 whose `error` quotes the request and a
    // 500, all quoting it in their bodies.
    emulator.setFaults({ token: { echo: true } });
    const text = await runCli(['refresh-token', '--retries=0'], env);
    expect(text.code).toBe(4);
    expectOutputClean(text, secrets);
    emulator.setFaults({ token: { status: 400, echo: true } });
    const odd = await runCli(['refresh-token', '--retries=0'], env);
    expect(odd.stderr).toContain('received:');
    expectOutputClean(odd, secrets);
    emulator.setFaults({ token: { status: 500, echo: true } });
    const json = await runCli(['refresh-token', '--retries=0', '--log-format=json'], env);
    expect(json.code).toBe(5);
    for (const line of json.stdout.trim().split('\n')) JSON.parse(line);
    expectOutputClean(json, secrets);
    emulator.setFaults({});
    const status = await runCli(['status', '--json', '--history=5'], env);
    expect(status.stdout).toContain('"temporary"');
    expect(status.stdout).toContain('received:');
    expectOutputClean(status, secrets);
  });

  it('access-token without --reveal and credit-check with short tokens echoed by the API', async () => {
    emulator.setFaults({ token: { tokenLength: 20, times: 1 } });
    const pair = await registerToken(alarmbox, emulator);
    expect(pair.access).toHaveLength(20);
    const shown = await runCli(['access-token'], env);
    expect(shown.code).toBe(0);
    // Not even the ends of a token this short: four plus four of its twenty characters is too much.
    expectOutputClean(shown, [pair.access, pair.access.slice(0, 4), pair.access.slice(-4)]);
    emulator.setFaults({ api: { echo: true } });
    const missing = await runCli(['credit-check', '--id=999999'], env);
    emulator.setFaults({});
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('404');
    expectOutputClean(missing, [pair.access, pair.refresh, SHORT_SECRET]);
  });
});

describe("the console's notices show no secret it knows (embedded emulator echoing the request)", () => {
  let running: RunningConsole;
  let emulator: RunningEmulator;
  let browser: ConsoleBrowser;

  beforeAll(async () => {
    running = await startConsole({ port: 0, emulator: { autoApprove: true } });
    if (running.emulator === undefined) throw new Error('no embedded emulator');
    emulator = running.emulator;
    browser = new ConsoleBrowser(running);
  });
  afterAll(async () => {
    await running?.close();
  });

  /** The page a POST's notice leads to. */
  async function noticeAfter(path: string, fields: Record<string, string>): Promise<string> {
    await browser.get(path === '/connect/code' ? '/connect' : '/');
    const res = await browser.post(path, fields);
    expect(res.status).toBe(303);
    return (await browser.get(res.headers.get('location') ?? '/')).body;
  }

  it('a short code, a short stored pair and the client secret echoed by AlarmBox', async () => {
    const secret = emulator.options.clientSecret;
    emulator.setFaults({ token: { status: 400, echo: true } });
    const exchanged = await noticeAfter('/connect/code', { code: SHORT_CODE });
    expect(exchanged).toContain('received:');

    const access = 'Short.Access+Tok~4';
    await running.alarmbox.store.saveInitial({
      accessToken: access,
      refreshToken: SHORT_REFRESH,
      expiredAt: new Date(Date.now() + 3_600_000),
    });
    const refreshed = await noticeAfter('/refresh', {});
    expect(refreshed).toContain('received:');
    emulator.setFaults({ api: { status: 500, echo: true } });
    const tried = await noticeAfter('/api-trial', { corporation_number: '0000000000001' });
    expect(tried).toContain('received:');
    emulator.setFaults({});
    await browser.get('/');

    const served = browser.seen.join('\n');
    for (const value of [SHORT_CODE, SHORT_REFRESH, access, secret, encodeURIComponent(SHORT_CODE)]) {
      expect(served).not.toContain(value);
    }
  });
});

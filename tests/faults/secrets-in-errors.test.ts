// No secret in any error: for every failure shape of the token endpoint, the error the library throws —
// message, stack, cause chain, own properties (hidden ones too), JSON — holds no token, code or client secret.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Alarmbox, createAlarmbox } from '../../src/alarmbox/create.ts';
import { toTokenEndpointError } from '../../src/alarmbox/token-endpoint-errors.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type FaultSpec, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, registerToken } from '../support/alarmbox.ts';
import { obtainCode } from '../support/authorize.ts';
import { closedPort } from '../support/closed-port.ts';

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
  let alarmbox: Alarmbox;
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
    const other = createAlarmbox({
      ...alarmbox.config,
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
    const down = createAlarmbox({
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

  it('an oauth4webapi error whose cause holds the parsed tokens is reduced to a safe copy', async () => {
    // oauth4webapi keeps the parsed body in `cause`; this is the shape that leaked the new pair (issue 11 §5).
    const access = `${'A'.repeat(20)}accessTOKENvalue1234567890`;
    const refresh = `${'R'.repeat(20)}refreshTOKENvalue123456789`;
    const body = JSON.stringify({
      access_token: access,
      refresh_token: refresh,
      token_type: 'bearer',
      expires_in: 'x',
    });
    const as = { issuer: 'http://127.0.0.1', token_endpoint: 'http://127.0.0.1/oauth/token' };
    const raw = await oauth
      .processRefreshTokenResponse(
        as,
        { client_id: 'c' },
        new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
      )
      .catch((e: unknown) => e);
    expect(inspect(raw, { depth: Number.POSITIVE_INFINITY })).toContain(refresh);
    const err = toTokenEndpointError(raw, { grant: 'refresh_token', timeoutMs: 1000, body });
    expectClean(err, [access, refresh]);
  });
});

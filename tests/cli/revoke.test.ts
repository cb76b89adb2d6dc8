// `alarmbox revoke` through the real CLI against the emulator over HTTP, on every database: AlarmBox revokes the
// pair (the old refresh token no longer refreshes, the old access token no longer reaches the API), row 1 is
// deleted; a revocation AlarmBox did not confirm keeps the row and exits 5; `--local-only` deletes it without
// AlarmBox and says that the tokens may still be valid there. No token or secret in any output.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { FaultSpec } from '../../src/emulator/index.ts';
import { type EmulatorWorld, storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { CLI, type CliResult, cliBaseEnv, runCli } from '../support/cli.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { expectNoSecrets } from '../support/registered.ts';
import { expectReason } from '../support/rejections.ts';

/** Doorkeeper tokens: 43 url-safe characters. None may appear in the output of revoke. */
const TOKEN_SHAPE = /[A-Za-z0-9_-]{43}/;

describeEachDatabase('alarmbox revoke', (fixture) => {
  let w: EmulatorWorld;
  useEmulatorWorld({ databaseUrl: () => fixture.url, keys: generateKeySpec('k1') }, (world) => {
    w = world;
  });

  /** Runs the CLI and checks that neither stream carries the stored pair or the client secret. */
  async function cli(args: readonly string[], pair: { access: string; refresh: string }): Promise<CliResult> {
    const r = await runCli(args, w.env);
    expectNoSecrets(
      [r.stdout, r.stderr],
      new Set([pair.access, pair.refresh, w.emulator.options.clientSecret]),
    );
    expect(r.stdout + r.stderr).not.toMatch(TOKEN_SHAPE);
    return r;
  }

  it('revokes the pair at AlarmBox and deletes row 1: the old tokens are refused, status says 未登録', async () => {
    const pair = await storedPair(w.alarmbox);
    expect(await apiStatus(w.emulator, pair.access), 'the stored access token works before').toBe(200);
    const r = await cli(['revoke', '--yes'], pair);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'AlarmBox でトークンを失効させ (POST /oauth/revoke)、保存済みのトークンを削除しました',
    );
    // Both tokens are sent (RFC 7009 §2.1 leaves the other one to the server's policy).
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 2 });
    const refused = await expectReason(
      w.alarmbox.client.refreshToken(pair.refresh),
      'reauthorization_required',
      AlarmboxAPIError,
    );
    expect(refused.oauthError).toBe('invalid_grant');
    expect(await apiStatus(w.emulator, pair.access), 'the old access token at the API').toBe(401);
    expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
    const status = await cli(['status', '--json'], pair);
    expect(status.code).toBe(3);
    const report = JSON.parse(status.stdout) as { registered: boolean; history: { outcome: string }[] };
    expect(report.registered).toBe(false);
    expect(report.history[0]?.outcome, 'the revocation in the refresh history').toBe('revoked');
  });

  for (const [name, fault] of [
    ['a 503', { status: 503 }],
    ['a dropped connection', { drop: 'before' }],
  ] as const satisfies readonly (readonly [string, FaultSpec])[]) {
    it(`AlarmBox answers the revocation with ${name}: exit 5, row 1 kept, the pair still works`, async () => {
      const before = await storedPair(w.alarmbox);
      const recorded = (await w.alarmbox.history.recent(1))[0]?.id ?? 0;
      w.emulator.setFaults({ revoke: fault });
      const r = await cli(['revoke', '--yes'], before);
      w.emulator.setFaults({});
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain('連携を解除できませんでした');
      expect(r.stderr).toContain('保存済みのトークンは削除せずに残しています');
      expect(r.stderr).toContain('--local-only');
      expect(await storedPair(w.alarmbox), 'row 1 after a failed revocation').toEqual(before);
      expect(await apiStatus(w.emulator, before.access), 'the kept access token at the API').toBe(200);
      const newest = (await w.alarmbox.history.recent(1))[0]?.id ?? 0;
      expect(newest, 'history rows written by a failed revocation').toBe(recorded);
    });
  }

  it('--local-only deletes row 1 without AlarmBox and says the tokens may still be valid there', async () => {
    const pair = await storedPair(w.alarmbox);
    // AlarmBox out of reach: --local-only does not even try.
    w.emulator.setFaults({ revoke: { drop: 'before' } });
    const r = await cli(['revoke', '--yes', '--local-only'], pair);
    w.emulator.setFaults({});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('AlarmBox には失効を依頼していません');
    expect(r.stdout).toContain('AlarmBox 側ではトークンがまだ有効な可能性があります');
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
    expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
    expect(await apiStatus(w.emulator, pair.access), 'the access token AlarmBox still honours').toBe(200);
    const [last] = await w.alarmbox.history.recent(1);
    expect(last?.outcome).toBe('revoked_locally');
  });
});

/** `revoke` on a terminal: `script` gives the CLI a pseudo-terminal and types `answer`. */
function runOnTerminal(answer: string, env: Readonly<Record<string, string>>): Promise<CliResult> {
  const command = [process.execPath, CLI, 'revoke'].map((part) => `'${part}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...cliBaseEnv(), ...env } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // Typed once the question is on the screen, as a person would.
      if (stdout.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr: '' }));
  });
}

describe('alarmbox revoke: confirmation, output and refusals', () => {
  let w: EmulatorWorld;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await database?.drop();
  });
  useEmulatorWorld({ databaseUrl: () => database.url, keys: generateKeySpec('k1') }, (world) => {
    w = world;
  });

  it('without --yes and without a terminal: exit 2 asking for --yes, nothing sent or deleted', async () => {
    const before = await storedPair(w.alarmbox);
    const r = await runCli(['revoke'], w.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes を付けてください');
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
    expect(await storedPair(w.alarmbox)).toEqual(before);
  });

  it.skipIf(!existsSync('/usr/bin/script'))(
    'on a terminal: asks in Japanese; n cancels (exit 2, nothing changed), y revokes',
    async () => {
      const before = await storedPair(w.alarmbox);
      const declined = await runOnTerminal('n', w.env);
      expect(declined.stdout).toContain('連携を解除しますか? [y/N]');
      expect(declined.stdout).toContain('連携の解除を中止しました。何も変更していません。');
      expect(declined.code).toBe(2);
      expect(await storedPair(w.alarmbox)).toEqual(before);
      expect(w.emulator.stats().revokeRequests, 'revocations after n').toEqual({});
      const accepted = await runOnTerminal('y', w.env);
      expect(accepted.code, accepted.stdout).toBe(0);
      expect(w.emulator.stats().revokeRequests, 'revocations after y').toEqual({ ok: 2 });
      expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
      expectNoSecrets([declined.stdout, accepted.stdout], new Set([before.access, before.refresh]));
    },
  );

  it('--json: the outcome without any token', async () => {
    const before = await storedPair(w.alarmbox);
    const r = await runCli(['revoke', '--yes', '--json'], w.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      registered: false,
      outcome: 'revoked',
      revokedAtAlarmbox: true,
      baseUrl: w.emulator.url,
    });
    expectNoSecrets([r.stdout, r.stderr], new Set([before.access, before.refresh]));
  });

  it('nothing registered: exit 3 with the not-registered message, nothing sent', async () => {
    expect((await runCli(['revoke', '--yes'], w.env)).code, 'the first revoke').toBe(0);
    const again = await runCli(['revoke', '--yes'], w.env);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('トークンが未設定です');
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 2 });
  });

  it('no client secret configured: exit 2 naming it, row 1 kept; --local-only needs none', async () => {
    const before = await storedPair(w.alarmbox);
    const env = { ...w.env, ALARMBOX_CLIENT_SECRET: '' };
    const r = await runCli(['revoke', '--yes'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ALARMBOX_CLIENT_SECRET が設定されていません');
    expect(r.stderr).toContain('保存済みのトークンは削除せずに残しています');
    expect(await storedPair(w.alarmbox)).toEqual(before);
    const local = await runCli(['revoke', '--yes', '--local-only'], env);
    expect(local.code, local.stderr).toBe(0);
    expect((await w.alarmbox.store.getInstance()).isRegistered).toBe(false);
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
  });

  it('AlarmBox refuses the client (wrong secret): exit 2 naming the credentials, row 1 kept', async () => {
    const before = await storedPair(w.alarmbox);
    const r = await runCli(['revoke', '--yes'], {
      ...w.env,
      ALARMBOX_CLIENT_SECRET: 'a-wrong-client-secret',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ALARMBOX_CLIENT_ID と ALARMBOX_CLIENT_SECRET を確認してください');
    expect(r.stderr).not.toContain('a-wrong-client-secret');
    expect(w.emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ unauthorized_client: 1 });
    expect(await storedPair(w.alarmbox)).toEqual(before);
  });
});

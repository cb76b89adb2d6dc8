// The guide's flow through the real CLI on every database, plus the database-specific failures.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { emulatorEnv } from '../support/alarmbox.ts';
import { obtainCode } from '../support/authorize.ts';
import { CLI, runCli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';

/** Doorkeeper tokens and codes: 43 url-safe characters. None may appear in ordinary output. */
const TOKEN_SHAPE = /[A-Za-z0-9_-]{43}/;

describeEachDatabase('alarmbox CLI', (fixture) => {
  let emulator: RunningEmulator;
  const keys = generateKeySpec('k1');
  const env = () => emulatorEnv(emulator, fixture.url, keys);

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('migrations not run: exit 2 telling to run migrate', async () => {
    const r = await runCli(['status'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('alarmbox migrate');
  });

  it('migrate → save-token → access-token → expire-token → automatic refresh → refresh-token', async () => {
    expect((await runCli(['migrate'], env())).code).toBe(0);
    expect((await runCli(['status'], env())).code).toBe(3);
    const saved = await runCli(['save-token', '--code', await obtainCode(emulator)], env());
    expect(saved.code).toBe(0);
    const first = await runCli(['access-token', '--reveal'], env());
    expect(first.code).toBe(0);
    expect((await runCli(['expire-token'], env())).code).toBe(0);
    const second = await runCli(['access-token', '--reveal'], env());
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.stdout).not.toBe(first.stdout);
    const batch = await runCli(['refresh-token'], env());
    expect(batch.code).toBe(0);
    const status = await runCli(['status', '--json'], env());
    expect(JSON.parse(status.stdout)).toMatchObject({ registered: true, lastRefreshOutcome: 'ok' });
    for (const r of [saved, batch, status, await runCli(['access-token'], env())]) {
      expect(r.stdout + r.stderr).not.toMatch(TOKEN_SHAPE);
    }
  });

  it('database unreachable: exit 5, no password in the message', async () => {
    if (fixture.kind === 'sqlite') {
      // SQLite has no server: a path that cannot be a file is its "unreachable" (a setup fault: exit 2).
      const r = await runCli(['status'], { ...env(), DATABASE_URL: `sqlite:${CLI}/none.db` });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('データベースファイルを開けません');
      return;
    }
    const url = new URL(fixture.url);
    url.port = '1';
    url.password = 'pa55-w0rd';
    const r = await runCli(['status'], { ...env(), DATABASE_URL: url.href });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('データベースに接続できません');
    expect(r.stderr).not.toContain('pa55-w0rd');
  });
});

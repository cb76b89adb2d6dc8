// The other commands that may send a token request, and applications' close(): a stop while AlarmBox holds the
// request (the emulator's delay fault) waits for the answer to be saved, and the lease is released.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, useEmulatorWorld } from '../support/alarmbox.ts';
import { apiStatus, obtainCode } from '../support/authorize.ts';
import { CLI } from '../support/cli.ts';
import { CliProcess } from '../support/cli-process.ts';
import { ConsoleBrowser } from '../support/console-browser.ts';
import { until } from '../support/until.ts';

const HTTP_TIMEOUT_MS = 8_000;
/** Long enough for a loaded machine to notice the request is held and signal before AlarmBox answers. */
const DELAY_MS = 3_000;

describe('stopping the other commands mid-refresh (SQLite)', { timeout: 90_000 }, () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let env: Record<string, string>;
  let databaseUrl: string;
  let child: CliProcess | undefined;
  const keys = generateKeySpec('c1');

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-stop-')), 'stop.db')}`,
      keys,
      alarmbox: { httpTimeoutMs: HTTP_TIMEOUT_MS },
      expired: true,
    },
    (world) => {
      ({ emulator, alarmbox, env, databaseUrl } = world);
    },
  );
  afterEach(() => child?.kill());

  /** The pair was rotated once, stored, works, and the lease is free. */
  async function expectSavedAndFree(versionBefore: number): Promise<void> {
    const after = await alarmbox.store.getInstance();
    expect(after.version).toBe(versionBefore + 1);
    expect(await apiStatus(emulator, after.getDecryptedAccessToken())).toBe(200);
    const started = Date.now();
    expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
    expect(Date.now() - started).toBeLessThan(HTTP_TIMEOUT_MS);
  }

  it.each([
    ['refresh-token', ['refresh-token', '--retries', '0']],
    ['credit-check', ['credit-check', '--id', '999999']],
  ])('%s: SIGTERM while AlarmBox holds the refresh', async (_name, args) => {
    const before = (await alarmbox.store.getInstance()).version;
    emulator.setFaults({ token: { delayMs: DELAY_MS, times: 1 } });
    child = new CliProcess(args, env);
    await until(() => emulator.stats().faultsInjected.token > 0);
    child.signal('SIGTERM');
    const result = await child.exited(HTTP_TIMEOUT_MS + 10_000);
    expect(result.signal).toBeNull();
    if (args[0] === 'credit-check') expect(result.code).toBe(143);
    expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
    // credit-check stopped before its API call.
    if (args[0] === 'credit-check') expect(emulator.stats().apiRequests).toEqual({});
    await expectSavedAndFree(before);
  });

  it('console: SIGTERM while AlarmBox holds the refresh of 今すぐ更新 waits for the save', async () => {
    const before = (await alarmbox.store.getInstance()).version;
    child = new CliProcess(['console', '--port', '0'], env);
    await until(() => child?.stdout.includes('Ctrl+C で停止します') === true);
    const url = /AlarmBox コンソールを起動しました: (http:\/\/127\.0\.0\.1:\d+)\//.exec(child.stdout)?.[1];
    const browser = new ConsoleBrowser({ url: url ?? '' });
    expect((await browser.get('/')).status).toBe(200);
    emulator.setFaults({ token: { delayMs: DELAY_MS, times: 1 } });
    // The button's POST; its answer comes only after the refresh, so it is not awaited here.
    const pressed = browser.post('/refresh', {}).catch((error: unknown) => error);
    await until(() => emulator.stats().faultsInjected.token > 0);
    child.signal('SIGTERM');
    const result = await child.exited(HTTP_TIMEOUT_MS + 10_000);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('AlarmBox に送信済みの要求の結果を保存してから終了します');
    await pressed;
    expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
    await expectSavedAndFree(before);
  });

  it('save-token --code - : the code comes from standard input; SIGTERM during the exchange waits for the save', async () => {
    await alarmbox.database.db.deleteFrom('hansha_alarmbox_tokens').execute();
    const code = await obtainCode(emulator);
    const exchanged = emulator.stats().tokenRequests.authorization_code.ok ?? 0;
    emulator.setFaults({ token: { delayMs: DELAY_MS, times: 1 } });
    const proc = spawn(process.execPath, [CLI, 'save-token', '--code', '-'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    proc.stdin.end(`${code}\n`);
    await until(() => emulator.stats().faultsInjected.token > 0);
    // Not on the command line: `ps` never sees the code.
    expect(proc.spawnargs.join(' ')).not.toContain(code);
    proc.kill('SIGTERM');
    const [exitCode] = await once(proc, 'close');
    expect(exitCode).toBe(143);
    expect(output).not.toContain(code);
    expect(emulator.stats().tokenRequests.authorization_code).toEqual({ ok: exchanged + 1 });
    const stored = await alarmbox.store.getInstance();
    expect(stored.isRegistered).toBe(true);
    expect(await apiStatus(emulator, stored.getDecryptedAccessToken())).toBe(200);
  });

  it('save-token without --code and without a terminal: exit 2 naming --code -', async () => {
    const proc = spawn(process.execPath, [CLI, 'save-token'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdin.end();
    const [exitCode] = await once(proc, 'close');
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--code -');
  });

  it('worker: SIGTERM past its grace while AlarmBox holds the refresh still saves the pair', async () => {
    const before = (await alarmbox.store.getInstance()).version;
    emulator.setFaults({ token: { delayMs: 2_500, times: 1 } });
    child = new CliProcess(
      ['worker', '--schedule', '* * * * * *', '--shutdown-grace', '200ms', '--skip-if-fresh', '1ms'],
      env,
    );
    await until(() => emulator.stats().faultsInjected.token > 0);
    child.signal('SIGTERM');
    const result = await child.exited(HTTP_TIMEOUT_MS + 10_000);
    expect(result.signal).toBeNull();
    expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
    await expectSavedAndFree(before);
  });

  it('close() waits for the refresh under way to be saved, and starts no new one', async () => {
    const app = alarmboxFor(emulator, databaseUrl, keys, { httpTimeoutMs: HTTP_TIMEOUT_MS });
    const before = (await alarmbox.store.getInstance()).version;
    emulator.setFaults({ token: { delayMs: DELAY_MS, times: 1 } });
    const reading = app.tokens.getValidAccessToken();
    await until(() => emulator.stats().faultsInjected.token > 0);
    await app.close();
    // The refresh finished (and was saved) before close() returned.
    const token = await reading;
    expect(await apiStatus(emulator, token)).toBe(200);
    expect((await alarmbox.store.getInstance()).version).toBe(before + 1);
    const refused = await app.tokens.refresh({ force: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(emulator.stats().tokenRequests.refresh_token).toEqual({ ok: 1 });
  });
});

describe('console --emulator', { timeout: 90_000 }, () => {
  it.each(['SIGHUP', 'SIGINT', 'SIGTERM'] as const)('%s removes its temporary files', async (signal) => {
    const child = new CliProcess(['console', '--emulator', '--port', '0'], {});
    try {
      await until(() => /一時データベースと一時キー: (\S+)/.test(child.stdout), 30_000);
      // Its handlers are installed before this line is printed.
      await until(() => child.stdout.includes('Ctrl+C で停止します'), 30_000);
      const dir = /一時データベースと一時キー: (\S+)/.exec(child.stdout)?.[1] ?? '';
      expect(existsSync(dir)).toBe(true);
      child.signal(signal);
      await child.exited(15_000);
      expect(existsSync(dir)).toBe(false);
    } finally {
      child.kill();
    }
  });
});

// `alarmbox console` as a person runs it: a real child process, stopped with SIGTERM.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { CliProcess, useChildProcesses } from '../support/cli-process.ts';
import { textOf } from '../support/console-browser.ts';

const running = useChildProcesses();

describe('alarmbox console', () => {
  it('--emulator needs no configuration, serves the console on 127.0.0.1 and stops cleanly on SIGTERM', async () => {
    const cli = new CliProcess(['console', '--emulator', '--port', '0'], {});
    running.push(cli);
    await expect.poll(() => cli.stdout, { timeout: 15_000, interval: 100 }).toMatch(/Ctrl\+C で停止します。/);
    const url = /AlarmBox コンソールを起動しました: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.stdout)?.[1];
    const dir = /一時データベースと一時キー: (\S+)/.exec(cli.stdout)?.[1] ?? '';
    expect(url).toBeDefined();
    expect(existsSync(dir)).toBe(true);
    const page = await fetch(url ?? '');
    expect(page.status).toBe(200);
    const text = textOf(await page.text());
    expect(text).toContain('未登録');
    expect(text).toContain('内蔵エミュレータ');

    cli.signal('SIGTERM');
    const result = await cli.exited();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SIGTERM を受け取りました。コンソールを停止します…');
    expect(result.stdout).toContain('停止しました。');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a port that is not a number, and a port in use, with exit code 2', async () => {
    const bad = await runCli(['console', '--port', 'abc'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port には 0〜65535 の整数を指定してください');

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const busy = await runCli(['console', '--emulator', '--port', String(port)], {});
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`127.0.0.1:${port} は既に使用されています`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

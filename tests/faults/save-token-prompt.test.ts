// `save-token` without --code in a terminal asks for the code with echo off: the code appears neither on the
// command line (ps, shell history) nor on the screen. A real pseudo-terminal through util-linux `script`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { emulatorEnv } from '../support/alarmbox.ts';
import { obtainCode } from '../support/authorize.ts';
import { CLI, runCli } from '../support/cli.ts';

describe.skipIf(!existsSync('/usr/bin/script'))('save-token hidden prompt', () => {
  it('reads the code from the terminal without echo and stores the pair', async () => {
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'alarmbox-prompt-'));
      const env = emulatorEnv(emulator, `sqlite:${join(dir, 'p.db')}`, generateKeySpec('p1'));
      expect((await runCli(['migrate'], env)).code).toBe(0);
      const code = await obtainCode(emulator);
      const proc = spawn('script', ['-qec', `${process.execPath} ${CLI} save-token`, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'dumb', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
      for (let i = 0; !screen.includes('入力は表示されません') && i < 1500; i++) await sleep(10);
      expect(screen).toContain('入力は表示されません');
      proc.stdin.write(`${code}\r`);
      for (let i = 0; !screen.includes('トークンを保存しました') && i < 1500; i++) await sleep(10);
      proc.stdin.end();
      await once(proc, 'close');
      expect(screen).toContain('トークンを保存しました');
      expect(screen).not.toContain(code);
      expect(proc.spawnargs.join(' ')).not.toContain(code);
      expect(emulator.stats().tokenRequests.authorization_code).toEqual({ ok: 1 });
    } finally {
      await emulator.close();
    }
  });
});

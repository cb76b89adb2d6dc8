// `alarmbox emulator` as a user runs it: a real child process, real signals.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEmulatorCliOptions } from '../../src/apps/cli/commands/emulator.ts';

const bin = fileURLToPath(new URL('../../bin/alarmbox.js', import.meta.url));

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

function run(args: readonly string[]): {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<Exit>;
} {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: 'pipe',
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exit = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(read: () => string, pattern: RegExp, exit: Promise<Exit>): Promise<RegExpExecArray> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (exited || Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('alarmbox emulator (CLI)', () => {
  it('prints the URL and client settings, serves, and exits 0 on SIGTERM', async () => {
    const p = run([
      'emulator',
      '--port',
      '0',
      '--auto-approve',
      '--access-ttl',
      '120',
      '--rotation',
      'immediate',
    ]);
    try {
      const [, baseUrl] = await waitFor(p.stdout, /^ALARMBOX_BASE_URL=(http:\/\/127\.0\.0\.1:\d+)$/m, p.exit);
      const out = p.stdout();
      expect(out).toContain(`AlarmBox エミュレータを起動しました: ${baseUrl}`);
      expect(out).toMatch(/^ALARMBOX_CLIENT_ID=local-client-id$/m);
      expect(out).toMatch(/^ALARMBOX_CLIENT_SECRET=local-client-secret$/m);
      expect(out).toContain('ローテーション immediate');
      expect(out).toContain('120 秒');
      const authorizeUrl = /^(http:\/\/\S+\/oauth\/authorize\?\S+)$/m.exec(out)?.[1] ?? '';
      expect(new URL(authorizeUrl).searchParams.get('redirect_uri')).toBe('urn:ietf:wg:oauth:2.0:oob');
      // The printed authorize URL works as printed (auto-approve: straight to the code).
      const res = await fetch(authorizeUrl, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const token = await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
          client_id: 'local-client-id',
          client_secret: 'local-client-secret',
        }),
      });
      expect(token.status).toBe(200);
      const body = (await token.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(120);
      await waitFor(p.stdout, /\[emulator\] POST \/oauth\/token 200/, p.exit);
      expect(p.stdout()).not.toContain(code);
      expect(p.stdout()).not.toContain(body.access_token);
      p.child.kill('SIGTERM');
      expect(await p.exit).toEqual({ code: 0, signal: null });
      expect(p.stdout()).toContain('停止しました。');
      expect(p.stderr()).toBe('');
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('refuses an invalid option with exit code 2 and a Japanese message naming it', async () => {
    const p = run(['emulator', '--port', '70000']);
    expect((await p.exit).code).toBe(2);
    expect(p.stderr()).toBe(
      'エラー: --port には 0〜65535 の整数を指定してください (例: --port 4010)。指定値: 70000\n',
    );
    expect(p.stdout()).toBe('');
  });

  it('validates every option value before starting', () => {
    const cases = [
      [{ port: 'abc' }, '--port'],
      [{ port: '-1' }, '--port'],
      [{ port: '65536' }, '--port'],
      [{ accessTtl: '-1' }, '--access-ttl'],
      [{ accessTtl: '1h' }, '--access-ttl'],
      [{ rotation: 'sometimes' }, '--rotation'],
      [{ scopes: ' ' }, '--scopes'],
      [{ host: '' }, '--host'],
      [{ clientId: '' }, '--client-id'],
      [{ clientSecret: ' ' }, '--client-secret'],
    ] as const;
    for (const [raw, option] of cases) {
      let error: unknown;
      try {
        parseEmulatorCliOptions(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ reason: 'usage' });
      expect((error as Error).message).toMatch(new RegExp(`^${option} に.*\\(例: ${option} `));
    }
    expect(
      parseEmulatorCliOptions({ port: '0', accessTtl: '0', rotation: 'immediate', autoApprove: true }),
    ).toMatchObject({
      port: 0,
      accessTtl: 0,
      rotation: 'immediate',
      autoApprove: true,
    });
  });

  it('explains a port already in use', async () => {
    const first = run(['emulator', '--port', '0', '--quiet']);
    try {
      const [, port] = await waitFor(
        first.stdout,
        /^ALARMBOX_BASE_URL=http:\/\/127\.0\.0\.1:(\d+)$/m,
        first.exit,
      );
      const second = run(['emulator', '--port', port ?? '', '--quiet']);
      expect((await second.exit).code).toBe(2);
      expect(second.stderr()).toContain('既に使用されています');
      first.child.kill('SIGINT');
      expect(await first.exit).toEqual({ code: 0, signal: null });
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});

describe('alarmbox emulator --tls-cert / --tls-key', () => {
  it('serves HTTPS with the given certificate, and wants both files', async () => {
    const { createTestCa } = await import('../support/test-ca.ts');
    const { Agent, fetch: undiciFetch } = await import('undici');
    const ca = await createTestCa();
    const agent = new Agent({ connect: { ca: ca.certPem } });
    try {
      const leaf = await ca.issue(['127.0.0.1']);
      expect(() => parseEmulatorCliOptions({ tlsCert: leaf.certPath })).toThrow(
        '--tls-cert と --tls-key は一緒に指定してください',
      );
      expect(() => parseEmulatorCliOptions({ tlsCert: '/nonexistent.pem', tlsKey: leaf.keyPath })).toThrow(
        '--tls-cert のファイル /nonexistent.pem を読めません (ENOENT)',
      );
      const p = run([
        'emulator',
        '--port',
        '0',
        '--quiet',
        '--tls-cert',
        leaf.certPath,
        '--tls-key',
        leaf.keyPath,
      ]);
      try {
        const [, baseUrl] = await waitFor(
          p.stdout,
          /^ALARMBOX_BASE_URL=(https:\/\/127\.0\.0\.1:\d+)$/m,
          p.exit,
        );
        const res = await undiciFetch(`${baseUrl}/__emulator/health`, { dispatcher: agent });
        expect(res.status).toBe(200);
        await res.body?.cancel();
      } finally {
        p.child.kill('SIGTERM');
        await p.exit;
      }
    } finally {
      await agent.close();
      ca.remove();
    }
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeySpec, openField, parseKeyRing } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from '../support/authorize.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { closedPort } from '../support/closed-port.ts';

/** Every value that must never be printed: codes, tokens, the client secret. */
const secrets = new Set<string>();
const transcript: CliResult[] = [];
const CLIENT_SECRET = 'cli-test-client-secret-value';

describe('alarmbox CLI (SQLite)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let env: Record<string, string>;
  let dbFile: string;

  const cli = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
    const r = await runCli(args, { ...env, ...extra }, { cwd: dir });
    transcript.push(r);
    return r;
  };
  /** Reads row 1 and, with the local key file, adds its plaintext tokens to the secrets to scan for. */
  const row = () => {
    const db = new DatabaseSync(dbFile, { readOnly: true });
    let r: Record<string, unknown> | undefined;
    try {
      r = db.prepare('select * from hansha_alarmbox_tokens where id = 1').get() as
        | Record<string, unknown>
        | undefined;
    } finally {
      db.close();
    }
    const keyFile = join(dir, '.alarmbox', 'encryption-keys');
    if (r !== undefined && existsSync(keyFile)) {
      const ring = parseKeyRing(readFileSync(keyFile, 'utf8'), 'key file');
      for (const column of ['access_token', 'refresh_token'] as const) {
        try {
          secrets.add(
            openField(ring, String(r[column]), { table: 'hansha_alarmbox_tokens', column, rowId: 1 }),
          );
        } catch {
          // a tampered row in the test that tampers with it
        }
      }
    }
    return r;
  };
  const code = async (redirectUri?: string) => {
    const c = await obtainCode(emulator, redirectUri);
    secrets.add(c);
    return c;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, clientSecret: CLIENT_SECRET });
    secrets.add(CLIENT_SECRET);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    emulator.setFaults({});
    dir = await mkdtemp(join(tmpdir(), 'alarmbox-cli-'));
    dbFile = join(dir, 'tokens.db');
    env = {
      DATABASE_URL: `sqlite:${dbFile}`,
      ALARMBOX_BASE_URL: emulator.url,
      ALARMBOX_CLIENT_ID: emulator.options.clientId,
      ALARMBOX_CLIENT_SECRET: CLIENT_SECRET,
      ALARMBOX_HTTP_TIMEOUT_MS: '1500',
      // refresh-token retries temporary failures by default; these tests expect the first failure's exit code.
      ALARMBOX_JOB_RETRIES: '0',
    };
  });

  it('the whole guide flow: migrate, authorize-url, save-token, status, access-token, expire-token, refresh-token', async () => {
    let r = await cli(['migrate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('マイグレーションを適用しました');
    r = await cli(['migrate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('テーブルは最新です');

    r = await cli(['status']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('未登録');

    r = await cli(['authorize-url']);
    expect(r.code).toBe(0);
    const url = new URL(r.stdout.trim());
    expect(url.pathname).toBe('/oauth/authorize');
    expect(url.searchParams.get('redirect_uri')).toBe('urn:ietf:wg:oauth:2.0:oob');
    expect(url.searchParams.get('scope')).toBe('read customer:delete customer:create credit_check:create');

    r = await cli(['save-token', `--code=${await code()}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('認可コードからトークンを取得中...');
    expect(r.stdout).toContain('トークンを保存しました');
    row();

    r = await cli(['status', '--json']);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as {
      registered: boolean;
      secondsRemaining: number;
      lastRefreshOutcome: string;
    };
    expect(status.registered).toBe(true);
    expect(status.secondsRemaining).toBeGreaterThan(86_000);

    r = await cli(['access-token']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/有効なアクセストークン: .{4}….{4} \(43 文字\)/);

    const revealed = await cli(['access-token', '--reveal']);
    expect(revealed.code).toBe(0);
    expect(revealed.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    const first = revealed.stdout.trim();
    transcript.pop(); // the one output allowed to hold a token
    secrets.add(first);

    r = await cli(['expire-token']);
    expect(r.code).toBe(0);
    r = await cli(['status']);
    expect(r.stdout).toContain('期限切れ');
    const refreshed = await runCli(['access-token', '--reveal'], env, { cwd: dir });
    expect(refreshed.code).toBe(0);
    const second = refreshed.stdout.trim();
    secrets.add(second);
    expect(second).not.toBe(first);
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes at AlarmBox').toBe(1);

    r = await cli(['refresh-token']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('トークンを更新中...');
    expect(r.stdout).toContain('トークンを更新しました');
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes at AlarmBox').toBe(2);

    row();
    r = await cli(['refresh-token', '--if-expiring']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('まだ有効');
    expect(emulator.stats().tokenRequests.refresh_token.ok ?? 0, 'refreshes at AlarmBox').toBe(2);

    const stored = row();
    for (const value of Object.values(stored ?? {})) {
      for (const s of secrets) expect(String(value)).not.toContain(s);
    }
  });

  describe('bad input: Japanese message, documented exit code, stored row untouched', () => {
    const registered = async () => {
      expect((await cli(['migrate'])).code).toBe(0);
      expect((await cli(['save-token', `--code=${await code()}`])).code).toBe(0);
      return row();
    };

    it.each([
      ['empty', '--code=', '空です'],
      ['blank', '--code=   ', '空です'],
      ['whitespace-padded', '--code= abcdefgh ', '空白または改行'],
      ['full-width', '--code=ｃｏｄｅ', '使えない文字'],
    ])('%s --code: exit 2', async (_n, arg, message) => {
      const before = await registered();
      const r = await cli(['save-token', arg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(row()).toEqual(before);
    });

    it('a code already used: exit 4, re-authorize', async () => {
      await cli(['migrate']);
      const c = await code();
      expect((await cli(['save-token', `--code=${c}`])).code).toBe(0);
      const before = row();
      const r = await cli(['save-token', `--code=${c}`]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('認可コードが無効です');
      expect(r.stderr).toContain('authorize-url');
      expect(row()).toEqual(before);
    });

    it('a code issued for another redirect URI: exit 4', async () => {
      const before = await registered();
      const c = await code('http://127.0.0.1:8976/callback');
      const r = await cli(['save-token', `--code=${c}`]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('別のリダイレクト URI');
      expect(row()).toEqual(before);
    });

    it('wrong client secret: exit 2 naming the variables', async () => {
      const before = await registered();
      const r = await cli(['refresh-token'], { ALARMBOX_CLIENT_SECRET: 'wrong-secret-value' });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('ALARMBOX_CLIENT_SECRET');
      expect(r.stderr).not.toContain('wrong-secret-value');
      expect(row()).toMatchObject({
        access_token: before?.access_token,
        refresh_token: before?.refresh_token,
      });
    });

    it('missing client id: exit 2', async () => {
      await cli(['migrate']);
      const r = await cli(['save-token', '--code=abcdefgh'], { ALARMBOX_CLIENT_ID: '' });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('ALARMBOX_CLIENT_ID が設定されていません');
      expect(row()).toBeUndefined();
    });

    it.each([
      ['oracle://x/y', 'DATABASE_URL の形式が正しくありません'],
      ['postgres://u:p@127.0.0.1:notaport/db', 'DATABASE_URL'],
    ])('malformed DATABASE_URL %s: exit 2', async (url, message) => {
      const r = await cli(['status'], { DATABASE_URL: url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    });

    it('database unreachable: exit 5 without the password', async () => {
      const r = await cli(['status'], { DATABASE_URL: 'postgres://user:pa55word@127.0.0.1:1/db' });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('データベースに接続できません');
      expect(r.stderr).not.toContain('pa55word');
    });

    it('migrations not run: exit 2, run migrate', async () => {
      const r = await cli(['status']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('alarmbox migrate');
    });

    it.each([
      [
        'missing in production',
        { ALARMBOX_ENV: 'production' },
        'ALARMBOX_ENCRYPTION_KEYS が設定されていません',
      ],
      [
        'too short',
        { ALARMBOX_ENCRYPTION_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` },
        '32 バイトが必要',
      ],
      ['not base64', { ALARMBOX_ENCRYPTION_KEYS: 'k1:!!!not-base64!!!' }, 'base64 ではありません'],
    ])('encryption key %s: exit 2', async (_n, extra, message) => {
      const before = await registered();
      const r = await cli(['access-token'], extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(row()).toEqual(before);
    });

    it('a row written with a key no longer in the ring: exit 2 naming the key', async () => {
      const before = await registered();
      const r = await cli(['access-token'], { ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('other') });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/"local-\d{8}-[0-9a-f]{8}"/);
      expect(row()).toEqual(before);
    });

    it('a tampered row: exit 2', async () => {
      await registered();
      const db = new DatabaseSync(dbFile);
      const stored = db.prepare('select access_token from hansha_alarmbox_tokens where id = 1').get() as {
        access_token: string;
      };
      const tampered = `${stored.access_token.slice(0, -2)}${stored.access_token.endsWith('A') ? 'BB' : 'AA'}`;
      db.prepare('update hansha_alarmbox_tokens set access_token = ? where id = 1').run(tampered);
      db.close();
      const before = row();
      const r = await cli(['access-token']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('復号できません');
      expect(row()).toEqual(before);
    });

    it('emulator down: exit 5', async () => {
      const before = await registered();
      const r = await cli(['refresh-token'], { ALARMBOX_BASE_URL: `http://127.0.0.1:${await closedPort()}` });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('接続エラー');
      expect(row()).toMatchObject({ access_token: before?.access_token, version: before?.version });
    });

    it.each([
      ['500', { status: 500 as const }, 'APIエラー: 500'],
      ['an HTML page', { status: 502 as const, body: 'html' as const }, 'APIエラー: 502'],
      ['broken JSON', { body: 'broken-json' as const }, 'JSONパースエラー'],
      ['nothing until the timeout', { delayMs: 4_000 }, 'タイムアウト'],
    ])('token endpoint answering %s: exit 5', async (_n, fault, message) => {
      const before = await registered();
      emulator.setFaults({ token: fault });
      const r = await cli(['refresh-token']);
      emulator.setFaults({});
      expect(r.code).toBe(5);
      expect(r.stderr).toContain(message);
      expect(row()).toMatchObject({ access_token: before?.access_token, version: before?.version });
    });

    it('a pair that cannot be stored after the code was spent: says the code is used up', async () => {
      await cli(['migrate']);
      // A code exchange answered without a refresh token: nothing worth storing, and the code is spent.
      emulator.setFaults({ token: { response: { omit: ['refresh_token'] } } });
      const r = await cli(['save-token', `--code=${await code()}`]);
      emulator.setFaults({});
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('保存できませんでした');
      expect(r.stderr).toContain('認可コードは使用済み');
      expect(row()).toBeUndefined();
    });

    it('refresh-token with nothing registered: exit 3', async () => {
      await cli(['migrate']);
      const r = await cli(['refresh-token']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('トークンが未設定です');
    });

    it('expire-token is refused in production', async () => {
      const before = await registered();
      const r = await cli(['expire-token'], {
        ALARMBOX_ENV: 'production',
        ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('p'),
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('production');
      expect(row()).toEqual(before);
    });

    it('.env is read, and variables already set win', async () => {
      await writeFile(join(dir, '.env'), `ALARMBOX_CLIENT_ID=from-dotenv\nDATABASE_URL=sqlite:${dbFile}\n`);
      await cli(['migrate']);
      const r = await runCli(
        ['authorize-url'],
        { DATABASE_URL: env.DATABASE_URL ?? '', ALARMBOX_BASE_URL: emulator.url },
        { cwd: dir },
      );
      expect(new URL(r.stdout.trim()).searchParams.get('client_id')).toBe('from-dotenv');
      expect(await readFile(join(dir, '.env'), 'utf8')).toContain('from-dotenv');
    });
  });

  it('no output of any command above holds a token, a code or the client secret', () => {
    expect(transcript.length).toBeGreaterThan(20);
    expect(secrets.size).toBeGreaterThan(5);
    for (const r of transcript) {
      for (const s of secrets) {
        expect(r.stdout).not.toContain(s);
        expect(r.stderr).not.toContain(s);
      }
    }
  });
});

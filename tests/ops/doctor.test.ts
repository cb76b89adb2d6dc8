// `alarmbox doctor` through the real CLI, on every database: ✓ / ✗ per check, a fix for each ✗, the exit code
// of the first failure, and no secret in the output.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/apps/doctor/doctor.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const CHECKS = 9;
/** Each check line, `✓ 設定: …` → ['✓', '設定']. */
const lines = (r: CliResult) =>
  r.stdout
    .split('\n')
    .filter((l) => /^[✓✗-] /.test(l))
    .map((l) => [l.slice(0, 1), l.slice(2, l.indexOf(':'))] as const);
const mark = (r: CliResult, title: string) => lines(r).find(([, t]) => t === title)?.[0];
const fixAfter = (r: CliResult, title: string) => {
  const all = r.stdout.split('\n');
  const at = all.findIndex((l) => l.startsWith(`✗ ${title}:`));
  return at < 0 ? undefined : all.slice(at + 1).find((l) => l.startsWith('    対処: '));
};

describeEachDatabase(
  'alarmbox doctor',
  (fixture) => {
    let emulator: RunningEmulator;
    let setup: Registered;
    const keys = generateKeySpec('d1');
    const outputs: string[] = [];
    const doctor = async (extra: Record<string, string> = {}, args: string[] = []) => {
      const r = await runCli(['doctor', ...args], { ...setup.env, ...extra });
      outputs.push(r.stdout, r.stderr);
      return r;
    };

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
      setup = await openRegistered(emulator, fixture.url, keys);
    });
    afterAll(async () => {
      expectNoSecrets(outputs, setup.secrets);
      await setup?.close();
      await emulator?.close();
    });

    it('tables missing: ✗ migrations with the fix, the token check skipped, exit 2', async () => {
      // openRegistered migrates: point the CLI at a database of its own that nobody migrated.
      const blank: TestDatabase = await createTestDatabase(fixture.kind);
      // On SQLite: a file that exists but was never migrated (doctor never creates a missing one).
      if (blank.target.dialect === 'sqlite') writeFileSync(blank.target.file, '');
      try {
        const r = await doctor({ DATABASE_URL: blank.url });
        expect(r.code).toBe(2);
        expect(lines(r)).toHaveLength(CHECKS);
        expect(mark(r, '設定')).toBe('✓');
        expect(mark(r, 'データベース接続')).toBe('✓');
        expect(mark(r, 'マイグレーション')).toBe('✗');
        expect(fixAfter(r, 'マイグレーション')).toContain('alarmbox migrate');
        expect(mark(r, '保存済みトークン')).toBe('-');
        expect(mark(r, 'トークンエンドポイント')).toBe('✓');
      } finally {
        await blank.drop();
      }
    });

    it('not registered: ✗ with the save-token fix, exit 3', async () => {
      const r = await doctor();
      expect(r.code).toBe(3);
      expect(mark(r, '保存済みトークン')).toBe('✗');
      expect(fixAfter(r, '保存済みトークン')).toContain('alarmbox save-token');
    });

    it('all well: every check ✓, exit 0; --json for monitoring', async () => {
      await setup.register();
      const r = await doctor();
      expect(r.code, r.stdout).toBe(0);
      expect(lines(r).map(([m]) => m)).toEqual(Array(CHECKS).fill('✓'));
      expect(r.stdout).toContain('すべての確認に成功しました');
      expect(r.stdout).toContain('"d1"');

      const json = await doctor({}, ['--json']);
      const report = JSON.parse(json.stdout) as DoctorReport;
      expect(report.ok).toBe(true);
      expect(report.checks.map((c) => c.id)).toEqual([
        'config',
        'credentials',
        'encryption-keys',
        'database',
        'migrations',
        'lease',
        'stored-token',
        'token-endpoint',
        'clock',
      ]);
    });

    it('a row under a key missing from the ring and a wrong client secret: two ✗ with their fixes, exit 2', async () => {
      const r = await doctor({
        ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('other'),
        ALARMBOX_CLIENT_SECRET: 'wrong-client-secret-for-doctor',
      });
      expect(r.code).toBe(2);
      expect(mark(r, '保存済みトークン')).toBe('✗');
      expect(fixAfter(r, '保存済みトークン')).toContain('d1');
      expect(mark(r, 'トークンエンドポイント')).toBe('✗');
      expect(fixAfter(r, 'トークンエンドポイント')).toContain('ALARMBOX_CLIENT_SECRET');
      expect(r.stdout).toContain('問題が 2 件あります');
      expect(r.stdout).not.toContain('wrong-client-secret-for-doctor');
    });

    it('during a key rotation (new key first, row still under the old one): ✓ with a note to run rekey', async () => {
      const r = await doctor({ ALARMBOX_ENCRYPTION_KEYS: `${generateKeySpec('d2')},${keys}` });
      expect(r.code).toBe(0);
      expect(mark(r, '保存済みトークン')).toBe('✓');
      expect(r.stdout).toContain('alarmbox rekey');
    });
  },
  { concurrentKinds: true },
);

describe('alarmbox doctor: what is not about the database', () => {
  let emulator: RunningEmulator;
  let setup: Registered;
  let skewed: Server;
  let skewedUrl: string;
  const database = createTestDatabase('sqlite');

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    setup = await openRegistered(emulator, (await database).url, generateKeySpec('d3'));
    await setup.register();
    // A token endpoint whose clock is ten minutes ahead (answers like Doorkeeper to the probe).
    skewed = createServer((_req, res) => {
      res.writeHead(400, {
        'content-type': 'application/json',
        date: new Date(Date.now() + 600_000).toUTCString(),
      });
      res.end('{"error":"invalid_grant"}');
    });
    await new Promise<void>((resolve) => skewed.listen(0, '127.0.0.1', resolve));
    skewedUrl = `http://127.0.0.1:${(skewed.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await setup?.close();
    await emulator?.close();
    await new Promise((resolve) => skewed?.close(resolve));
    await (await database).drop();
  });

  it('the clock ten minutes off AlarmBox: ✗ with the NTP fix, exit 2', async () => {
    const r = await runCli(['doctor'], { ...setup.env, ALARMBOX_BASE_URL: skewedUrl });
    expect(r.code).toBe(2);
    expect(mark(r, 'トークンエンドポイント')).toBe('✓');
    expect(mark(r, '時刻のずれ')).toBe('✗');
    expect(r.stdout).toMatch(/(599|600|601) 秒遅れています/);
    expect(fixAfter(r, '時刻のずれ')).toContain('NTP');
  });

  it('AlarmBox unreachable: ✗ token endpoint, exit 5', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there any more
    const r = await runCli(['doctor'], { ...setup.env, ALARMBOX_BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(mark(r, 'トークンエンドポイント')).toBe('✗');
    expect(r.stdout).toContain('ECONNREFUSED');
    expect(mark(r, '時刻のずれ')).toBe('-');
  });

  it('database unreachable: ✗ with the fix, later checks skipped, exit 5, no password', async () => {
    const r = await runCli(['doctor'], {
      ...setup.env,
      DATABASE_URL: 'postgres://user:pa55-w0rd-doctor@127.0.0.1:1/db',
    });
    expect(r.code).toBe(5);
    expect(mark(r, 'データベース接続')).toBe('✗');
    expect(fixAfter(r, 'データベース接続')).toContain('DATABASE_URL');
    expect(mark(r, 'マイグレーション')).toBe('-');
    expect(r.stdout + r.stderr).not.toContain('pa55-w0rd-doctor');
  });

  it('production without a key ring and without client credentials: ✗ each, exit 2', async () => {
    const r = await runCli(['doctor'], {
      DATABASE_URL: setup.env.DATABASE_URL ?? '',
      ALARMBOX_ENV: 'production',
      ALARMBOX_BASE_URL: emulator.url,
    });
    expect(r.code).toBe(2);
    expect(mark(r, 'クライアント情報')).toBe('✗');
    expect(mark(r, '暗号化キー')).toBe('✗');
    expect(fixAfter(r, '暗号化キー')).toContain('openssl rand -base64 32');
    expect(mark(r, '保存済みトークン')).toBe('-');
    expect(mark(r, 'トークンエンドポイント')).toBe('-');
  });

  it('a malformed setting: ✗ configuration, everything else skipped', async () => {
    const r = await runCli(['doctor'], { ...setup.env, ALARMBOX_ENV: 'staging' });
    expect(r.code).toBe(2);
    expect(lines(r).map(([m]) => m)).toEqual(['✗', ...Array(CHECKS - 1).fill('-')]);
    expect(r.stdout).toContain('ALARMBOX_ENV');
  });
});

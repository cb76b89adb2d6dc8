// A read-only command on a SQLite path that does not exist says so, names the fix, and never creates the
// file (nor its directory): a mistyped DATABASE_URL must not quietly become an empty database.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { createAlarmbox } from '../../src/index.ts';
import { runCli } from '../support/cli.ts';

describe('read-only commands on a SQLite file that does not exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-missing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (file: string) => ({
    DATABASE_URL: `sqlite:${file}`,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('m1'),
    ALARMBOX_CLIENT_ID: 'client-id-for-missing-file-test',
    ALARMBOX_CLIENT_SECRET: 'client-secret-for-missing-file-test',
    // Nothing listens here; doctor's token endpoint check fails on its own, which is not what this test is about.
    ALARMBOX_BASE_URL: 'http://127.0.0.1:9',
  });

  it.each([['status'], ['access-token'], ['refresh-token'], ['doctor'], ['rekey'], ['expire-token']])(
    '%s: exit 2, names migrate and DATABASE_URL, creates nothing',
    async (command) => {
      const file = join(dir, command, 'nested', 'alarmbox.db');
      const result = await runCli([command], env(file), { cwd: dir });
      expect(result.code).toBe(2);
      const output = result.stdout + result.stderr;
      expect(output).toContain('データベースファイルがありません');
      expect(output).toContain(file);
      expect(output).toContain('alarmbox migrate');
      expect(output).toContain('DATABASE_URL');
      expect(existsSync(file)).toBe(false);
      expect(existsSync(join(dir, command))).toBe(false);
    },
  );

  it('migrate still creates the file, and status then works', async () => {
    const file = join(dir, 'migrated', 'alarmbox.db');
    expect((await runCli(['migrate'], env(file), { cwd: dir })).code).toBe(0);
    expect(existsSync(file)).toBe(true);
    const status = await runCli(['status'], env(file), { cwd: dir });
    // 3: nothing registered yet, which is a state, not an error.
    expect(status.code).toBe(3);
    expect(status.stdout + status.stderr).not.toContain('データベースファイルがありません');
  });
});

describe('the library on a SQLite file that does not exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-missing-lib-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const open = (file: string) =>
    createAlarmbox({
      env: 'dev',
      databaseUrl: `sqlite:${file}`,
      encryptionKeys: generateKeySpec('m1'),
      clientId: 'client-id-for-missing-file-test',
      clientSecret: 'client-secret-for-missing-file-test',
      baseUrl: 'http://127.0.0.1:9',
      dataDir: join(dir, 'data-never-created'),
    });

  it.each([
    ['getValidAccessToken', (a: ReturnType<typeof open>) => a.tokens.getValidAccessToken()],
    ['refresh({ force: true })', (a: ReturnType<typeof open>) => a.tokens.refresh({ force: true })],
    ['api.request', (a: ReturnType<typeof open>) => a.api.request('GET', '/ps/v1/credit_checks')],
  ])('%s: a configuration error naming the file and migrate; nothing created', async (name, call) => {
    const folder = join(dir, name.replace(/\W+/g, '-'));
    const file = join(folder, 'nested', 'a.db');
    const alarmbox = open(file);
    try {
      const error = await call(alarmbox).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ reason: 'configuration' });
      expect((error as Error).message).toContain('データベースファイルがありません');
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain('alarmbox migrate');
    } finally {
      await alarmbox.close();
    }
    expect(existsSync(file)).toBe(false);
    expect(existsSync(folder)).toBe(false);
    expect(existsSync(join(dir, 'data-never-created'))).toBe(false);
  });

  it('migrate() creates the file (private) and its folder; a read then finds no token, not a missing file', async () => {
    const file = join(dir, 'migrated', 'nested', 'a.db');
    const alarmbox = open(file);
    try {
      expect((await alarmbox.migrate()).length).toBeGreaterThan(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await expect(alarmbox.tokens.getValidAccessToken()).rejects.toMatchObject({
        name: 'AlarmboxTokenNotFoundError',
      });
    } finally {
      await alarmbox.close();
    }
  });

  it('a read that failed on the missing file, then migrate() on the same instance, works', async () => {
    const file = join(dir, 'later', 'a.db');
    const alarmbox = open(file);
    try {
      await expect(alarmbox.tokens.getValidAccessToken()).rejects.toMatchObject({ reason: 'configuration' });
      expect(existsSync(file)).toBe(false);
      await alarmbox.migrate();
      await expect(alarmbox.tokens.getValidAccessToken()).rejects.toMatchObject({
        name: 'AlarmboxTokenNotFoundError',
      });
    } finally {
      await alarmbox.close();
    }
  });
});

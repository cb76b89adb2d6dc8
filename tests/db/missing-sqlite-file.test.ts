// A read-only command on a SQLite path that does not exist says so, names the fix, and never creates the
// file (nor its directory): a mistyped DATABASE_URL must not quietly become an empty database.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
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

  it.each([['status'], ['access-token'], ['doctor']])(
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

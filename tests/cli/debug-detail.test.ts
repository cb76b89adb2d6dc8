// An unexpected error is diagnosable: with ALARMBOX_DEBUG=1 the CLI and the job runner print the stack and the
// cause chain (scrubbed) to stderr, once, and do not suggest setting the variable that is set. The error is a
// real one: a page of the SQLite file overwritten (SQLITE_CORRUPT, which nothing maps).
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { debugDetail, debugHint } from '../../src/debug-detail.ts';
import { runCli } from '../support/cli.ts';

const HINT = 'ALARMBOX_DEBUG=1 を付けて再実行すると';

describe('ALARMBOX_DEBUG=1 on an unexpected error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-debug-'));
  const pristine = join(dir, 'pristine.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (file: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: `sqlite:${file}`,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('d1'),
    ALARMBOX_CLIENT_ID: 'client-id-for-debug-test',
    ALARMBOX_CLIENT_SECRET: 'client-secret-for-debug-test',
    ALARMBOX_BASE_URL: 'http://127.0.0.1:9',
    ...extra,
  });

  beforeAll(async () => {
    const migrated = await runCli(['migrate'], env(pristine), { cwd: dir });
    expect(migrated.code, migrated.stderr).toBe(0);
  });

  /** A copy of the migrated database with the b-tree page of `table` overwritten. */
  const corrupted = (name: string, table: string): string => {
    const file = join(dir, `${name}.db`);
    copyFileSync(pristine, file);
    const db = new DatabaseSync(file, { readOnly: true });
    const { rootpage } = db.prepare('select rootpage from sqlite_master where name = ?').get(table) as {
      rootpage: number;
    };
    const { page_size: pageSize } = db.prepare('pragma page_size').get() as { page_size: number };
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, (rootpage - 1) * pageSize);
    closeSync(fd);
    return file;
  };

  it('status (the CLI itself): without the variable, the hint and no stack', async () => {
    const r = await runCli(['status'], env(corrupted('status-plain', 'hansha_alarmbox_tokens')), {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('データベースで予期しないエラーが発生しました (sqlite ');
    expect(r.stderr).toContain('SQLITE_CORRUPT)');
    expect(r.stderr).toContain(HINT);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('status with ALARMBOX_DEBUG=1: the stack, no suggestion to set it', async () => {
    const file = corrupted('status-debug', 'hansha_alarmbox_tokens');
    const r = await runCli(['status'], env(file, { ALARMBOX_DEBUG: '1' }), { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('データベースで予期しないエラーが発生しました (sqlite ');
    expect(r.stderr).toContain('SQLITE_CORRUPT)');
    expect(r.stderr).toContain('Error: database disk image is malformed');
    expect(r.stderr).toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain(HINT);
  });

  it('refresh-token (the job runner) with ALARMBOX_DEBUG=1: the stack once, no suggestion to set it', async () => {
    const file = corrupted('refresh-debug', 'hansha_alarmbox_tokens');
    const r = await runCli(['refresh-token'], env(file, { ALARMBOX_DEBUG: '1' }), { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('データベースで予期しないエラーが発生しました (sqlite ');
    expect(r.stderr).toContain('SQLITE_CORRUPT)');
    expect(r.stderr.split('Error: database disk image is malformed').length - 1).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
    expect(r.stdout + r.stderr).not.toContain(HINT);
  });

  it('refresh-token --log-format json with ALARMBOX_DEBUG=1: stdout stays JSON lines, the stack on stderr', async () => {
    const file = corrupted('refresh-json', 'hansha_alarmbox_tokens');
    const r = await runCli(['refresh-token', '--log-format', 'json'], env(file, { ALARMBOX_DEBUG: '1' }), {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    for (const line of r.stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    expect(r.stdout).not.toContain(HINT);
    expect(r.stderr).toContain('Error: database disk image is malformed');
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('refresh-token without the variable: the hint and no stack', async () => {
    const file = corrupted('refresh-plain', 'hansha_alarmbox_tokens');
    const r = await runCli(['refresh-token'], env(file), { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(HINT);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('debugDetail', () => {
  it('follows the cause chain, scrubs token-shaped text, and ends on a cycle', () => {
    const token = 'Tok3nValueThatLooksLikeADoorkeeperToken_abcdefghij';
    const inner = new Error(`driver said access_token=${token}`);
    const outer = new Error('outer', { cause: inner });
    (inner as { cause?: unknown }).cause = outer;
    const text = debugDetail(outer);
    expect(text).toContain('Error: outer');
    expect(text).toContain('原因: Error: driver said access_token=[REDACTED]');
    expect(text).not.toContain(token);
    expect(text.split('Error: outer').length - 1).toBe(1);
  });

  it('a hint that suggests the variable only when it is not set', () => {
    expect(debugHint({})).toContain('ALARMBOX_DEBUG=1 を付けて再実行すると');
    expect(debugHint({ ALARMBOX_DEBUG: '1' })).not.toContain('付けて再実行');
  });
});

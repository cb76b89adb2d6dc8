// Every file the configuration reads (ALARMBOX_INFO's JSON file, the CLI's `.env`, the local key file) is a
// regular file within the cap, or the command ends at once with a Japanese configuration error (exit 2). Before,
// `ALARMBOX_INFO=/dev/zero` grew to gigabytes, a FIFO or `.env -> /dev/zero` hung, a `.env` directory was a
// TypeError (exit 1).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_MAX_BYTES, readConfigFile } from '../../src/config/bounded-file.ts';
import { ConfigError } from '../../src/config/index.ts';
import { CLI, type CliResult, cliBaseEnv } from '../support/cli.ts';

/** A hang or a runaway read is what is tested: kill it hard (a sync read ignores SIGTERM's handler). */
const KILL_AFTER_MS = 15_000;
/** "Within a second" on an idle machine; the margin is for process start-up on the shared 2-core machine. */
const LIMIT_MS = 4_000;

function runHard(args: readonly string[], env: Record<string, string>, cwd: string) {
  const started = process.hrtime.bigint();
  return new Promise<CliResult & { ms: number }>((resolve) => {
    execFile(
      process.execPath,
      // A runaway read dies of the heap limit instead of taking the machine's memory.
      ['--max-old-space-size=256', CLI, ...args],
      { env: { ...cliBaseEnv(), ...env }, cwd, timeout: KILL_AFTER_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      },
    );
  });
}

type Hostile = 'dev-zero' | 'fifo' | 'directory' | 'too-large' | 'symlink-to-dev-zero';
const HOSTILE: readonly Hostile[] = ['dev-zero', 'fifo', 'directory', 'too-large', 'symlink-to-dev-zero'];

/** Puts the hostile thing at `path` (or returns where it is, for /dev/zero). */
function place(kind: Hostile, path: string): string {
  switch (kind) {
    case 'dev-zero':
      return '/dev/zero';
    case 'symlink-to-dev-zero':
      symlinkSync('/dev/zero', path);
      return path;
    case 'fifo':
      // Nobody ever writes to it: opening it for reading would block forever without O_NONBLOCK.
      execFileSync('mkfifo', [path]);
      return path;
    case 'directory':
      mkdirSync(path);
      return path;
    case 'too-large':
      writeFileSync(path, `# ${'x'.repeat(CONFIG_FILE_MAX_BYTES)}\n`);
      return path;
  }
}

const EXPECTED_KIND: Record<Hostile, string> = {
  'dev-zero': 'キャラクタデバイス',
  'symlink-to-dev-zero': 'キャラクタデバイス',
  fifo: '名前付きパイプ (FIFO)',
  directory: 'ディレクトリ',
  'too-large': `上限 ${CONFIG_FILE_MAX_BYTES / 1024} KiB`,
};

describe('bounded reads of configuration files (CLI child processes)', () => {
  let root: string;
  let migratedUrl: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'alarmbox-bounded-'));
    migratedUrl = `sqlite:${join(root, 'migrated.db')}`;
    const migrated = await runHard(['migrate'], { DATABASE_URL: migratedUrl }, root);
    expect(migrated.code, migrated.stderr).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  let n = 0;
  const freshDir = () => {
    const dir = join(root, `case-${++n}`);
    mkdirSync(dir);
    return dir;
  };

  const expectRefused = (result: CliResult & { ms: number }, kind: Hostile, names: string) => {
    expect(result.code, result.stderr).toBe(2);
    expect(result.ms).toBeLessThan(LIMIT_MS);
    expect(result.stderr).toContain(names);
    expect(result.stderr).toContain(EXPECTED_KIND[kind]);
    expect(result.stderr).not.toContain('予期しないエラー');
  };

  it.each(HOSTILE)('ALARMBOX_INFO pointing at %s: exit 2, named, at once', async (kind) => {
    const dir = freshDir();
    const path = place(kind, join(dir, 'info.json'));
    const result = await runHard(['status'], { DATABASE_URL: migratedUrl, ALARMBOX_INFO: path }, dir);
    expectRefused(result, kind, `ALARMBOX_INFO のファイル ${path}`);
  });

  it.each(HOSTILE)('.env that is %s: exit 2, named, at once', async (kind) => {
    const dir = freshDir();
    if (kind === 'dev-zero') symlinkSync('/dev/zero', join(dir, '.env'));
    else place(kind, join(dir, '.env'));
    const result = await runHard(['status'], { DATABASE_URL: migratedUrl }, dir);
    expectRefused(result, kind, '設定ファイル .env');
  });

  it.each(HOSTILE)('local key file that is %s: exit 2, named, at once, database untouched', async (kind) => {
    const dir = freshDir();
    mkdirSync(join(dir, '.alarmbox'));
    const keyFile = join('.alarmbox', 'encryption-keys');
    if (kind === 'dev-zero') symlinkSync('/dev/zero', join(dir, keyFile));
    else place(kind, join(dir, keyFile));
    const before = readFileSync(migratedUrl.slice('sqlite:'.length));
    // rekey is the command that needs the key ring before anything else.
    const result = await runHard(['rekey'], { DATABASE_URL: migratedUrl, ALARMBOX_ENV: 'local' }, dir);
    expectRefused(result, kind, `ローカルの暗号鍵ファイル ${join(dir, keyFile)}`);
    expect(readFileSync(migratedUrl.slice('sqlite:'.length)).equals(before)).toBe(true);
  });

  it('a good .env still sets what the shell did not, and the shell wins', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, '.env'), `DATABASE_URL=${migratedUrl}\nALARMBOX_ENV="nonsense"\n`);
    const result = await runHard(['status'], { ALARMBOX_ENV: 'local' }, dir);
    // 3: no token registered, read from the database the .env named.
    expect(result.code, result.stderr).toBe(3);
  });
});

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-bounded-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = { variable: 'X', label: 'X のファイル', fix: '直してください。' };

  it('reads a regular file, through a symlink too, and says undefined for nothing there', () => {
    writeFileSync(join(dir, 'ok'), 'hello');
    symlinkSync(join(dir, 'ok'), join(dir, 'link'));
    expect(readConfigFile(join(dir, 'ok'), source)).toBe('hello');
    expect(readConfigFile(join(dir, 'link'), source)).toBe('hello');
    expect(readConfigFile(join(dir, 'missing'), source)).toBeUndefined();
  });

  it('a file of exactly the cap is read; one byte more is refused', () => {
    writeFileSync(join(dir, 'cap'), 'a'.repeat(CONFIG_FILE_MAX_BYTES));
    writeFileSync(join(dir, 'over'), 'a'.repeat(CONFIG_FILE_MAX_BYTES + 1));
    expect(readConfigFile(join(dir, 'cap'), source)?.length).toBe(CONFIG_FILE_MAX_BYTES);
    expect(() => readConfigFile(join(dir, 'over'), source)).toThrow(ConfigError);
  });

  it.each(['/dev/zero', '/dev/null', '/proc/self/status', dir])('%s is refused at once', (path) => {
    const started = Date.now();
    let error: unknown;
    try {
      readConfigFile(path, source);
    } catch (caught) {
      error = caught;
    }
    // /proc files claim size 0 and are regular: they are read, and within the cap that is harmless.
    if (path.startsWith('/proc/')) expect(error).toBeUndefined();
    else expect(error).toMatchObject({ reason: 'configuration', variable: 'X' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

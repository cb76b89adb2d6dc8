// The CLI at its edges: the version, a Node that is too old, commander's own errors in Japanese, a reader that
// closes the pipe early, and commands that load only what they use.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { BIN, CLI, runCli } from '../support/cli.ts';

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alarmbox-cli-edges-'));
  env = {
    DATABASE_URL: `sqlite:${join(dir, 'edges.db')}`,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('k1'),
    ALARMBOX_CLIENT_ID: 'edges-client',
    ALARMBOX_CLIENT_SECRET: 'edges-secret',
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bin with a preloaded module (`--import data:…`) and returns its exit code and output. */
function runWith(
  preload: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

describe('alarmbox --version', () => {
  it('prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], {});
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.trim()).toBe(version);
    }
  });
});

describe('a Node that is too old', () => {
  it('gets a Japanese message with the fix and exit 2, no stack', async () => {
    const r = await runWith(
      'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.19.0" } });',
      ['status'],
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Node.js 22.14 以上');
    expect(r.stderr).toContain('Node.js 20.19.0 で実行されました');
    expect(r.stderr).toContain('nvm install 24');
    expect(r.stderr).not.toMatch(/ERR_|\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('the first file parses on old Node: no syntax newer than ES2015 modules plus dynamic import', () => {
    const source = readFileSync(BIN, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    expect(source).not.toMatch(/^\s*import\s|\?\.|\?\?|^\s*await\s/m);
    // A real old Node, when the machine has one (Debian's /usr/bin/node is 20 here).
    const old = spawnSync('/usr/bin/node', [BIN, '--version'], { encoding: 'utf8' });
    const oldVersion = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], {
      encoding: 'utf8',
    }).stdout?.trim();
    if (old.error === undefined && oldVersion !== undefined && Number(oldVersion.split('.')[0]) < 22) {
      expect(old.status).toBe(2);
      expect(old.stderr).toContain(`Node.js ${oldVersion} で実行されました`);
    }
  });
});

describe("commander's own errors", () => {
  it.each([
    ['an unknown command', ['statsu'], ['statsu というコマンドはありません', 'もしかして: status']],
    [
      'a missing required option',
      ['deploy-manifest'],
      ['必須のオプション --target <target> が指定されていません'],
    ],
    ['an unknown option', ['status', '--bogus'], ['--bogus というオプションはありません']],
    ['a missing option value', ['status', '--history'], ['オプション --history <n> に値を指定してください']],
  ])('%s is explained in Japanese, exit 2', async (_label, args, expected) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    for (const text of expected) expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(/error:|Did you mean|unknown|required option/);
    expect(r.stderr).toContain('alarmbox --help');
  });
});

describe('a reader that closes the pipe early', () => {
  it('`alarmbox status | true` ends quietly (no EPIPE stack), with the status exit code', () => {
    // `true` exits without reading, so every write of status meets a closed pipe.
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" status | true`], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3); // no token registered: status' own answer, not a crash (1)
  });
});

describe('commands load lazily', () => {
  // Logs every package the process loads, then the test checks what a command did not need.
  const hook = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ load(url, context, next) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(url) ?? /\\/src\\/(?:apps\\/)?(cli\\/commands\\/[^/]+|[^/]+\\/)/.exec(url);
      if (m) seen.add(m[1]);
      return next(url, context);
    } });
    process.on('exit', () => process.stderr.write('LOADED ' + [...seen].join(' ') + '\\n'));`;
  const loaded = (stderr: string) => (/LOADED (.*)/.exec(stderr)?.[1] ?? '').split(' ').filter(Boolean);

  it('--version loads commander and no command', async () => {
    const r = await runWith(hook, ['--version']);
    expect(r.code).toBe(0);
    // config/: the bounded read of `.env` (src/config/bounded-file.ts), a few lines of node:fs. text/: what
    // AlarmboxError needs to keep its message and cause printable and secret-free (no package, no driver).
    expect(
      loaded(r.stderr).filter((name) => !name.startsWith('cli/') && name !== 'config/' && name !== 'text/'),
    ).toEqual(['commander']);
    expect(loaded(r.stderr).filter((name) => name.startsWith('cli/commands/'))).toEqual([]);
  });

  it('status on SQLite loads neither the web stack, the other drivers, nor the job scheduler', async () => {
    const r = await runWith(hook, ['status']);
    expect(r.code).toBe(3);
    const packages = loaded(r.stderr);
    expect(packages).toEqual(expect.arrayContaining(['commander', 'kysely']));
    for (const heavy of ['hono', '@hono/node-server', 'mysql2', 'pg', 'croner', 'yaml', 'better-sqlite3'])
      expect(packages).not.toContain(heavy);
    // Only its own command module, and nothing of the emulator, console, jobs or doctor.
    expect(packages.filter((name) => name.startsWith('cli/commands/'))).toEqual(['cli/commands/status.ts']);
    for (const app of ['emulator/', 'console/', 'jobs/', 'doctor/']) expect(packages).not.toContain(app);
  });
});

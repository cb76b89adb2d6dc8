// mysql2 and pg are optional peer dependencies: an application installs only the driver of its database.
// A missing driver is a Japanese message with the exact npm command and exit 2, and SQLite never needs
// either. Proven for real: the CLI runs from a temporary copy of the package whose node_modules links every
// installed package except the drivers, so Node's own resolution fails exactly as in an app without them.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DRIVERS = new Set(['mysql2', 'pg']);
const PASSWORD = 'Pw-driver-test-never-shown';

/** A copy of the package (what its bin runs) beside a node_modules without mysql2 and pg. */
function packageWithoutDrivers(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-nodrivers-'));
  for (const entry of ['package.json', 'bin', 'src']) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (DRIVERS.has(name)) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

/** Runs the copy's bin with only the given environment (no DATABASE_URL leaks in from the shell). */
function runCopy(
  dir: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TZ: 'Asia/Tokyo' };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(dir, 'bin', 'alarmbox.js'), ...args],
      { env: { ...base, ...env }, cwd: dir, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('database drivers are optional', () => {
  let dir: string;
  const cli = (url: string) => runCopy(dir, ['status'], { DATABASE_URL: url, ALARMBOX_ENV: 'dev' });
  beforeAll(() => {
    dir = packageWithoutDrivers();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['mysql2', `mysql://app:${PASSWORD}@127.0.0.1:3306/app`],
    ['mysql2', `mariadb://app:${PASSWORD}@127.0.0.1:3306/app`],
    ['pg', `postgres://app:${PASSWORD}@127.0.0.1:5432/app`],
  ])('without %s: exit 2 and the npm install command', async (driver, url) => {
    const result = await cli(url);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`データベースのドライバ ${driver} がインストールされていません`);
    expect(result.stderr).toContain(`npm install ${driver}`);
    expect(result.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(result.stderr + result.stdout).not.toContain(PASSWORD);
  });

  it('SQLite works without either driver', async () => {
    const file = join(dir, 'data', 'alarmbox.db');
    const env = { DATABASE_URL: `sqlite:${file}`, ALARMBOX_ENV: 'dev' };
    expect((await runCopy(dir, ['migrate'], env)).code).toBe(0);
    // 3: nothing registered yet.
    expect((await runCopy(dir, ['status'], env)).code).toBe(3);
  });
});

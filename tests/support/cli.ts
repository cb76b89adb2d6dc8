// Runs the real CLI as a child process, the way a user or a scheduler does.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The CLI as this test run bundled it from src/ (tests/support/global-setup.ts): what most tests run. */
export const CLI = inject('cliEntry');
/**
 * The `alarmbox` bin of the checkout: its Node version check, then src/ module by module. For the tests of
 * that first file and of what each command loads.
 */
export const BIN = fileURLToPath(new URL('../../bin/alarmbox.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Node's on-disk compile cache, shared by every child of the test run (CLI and fixtures) so that each does not
 * compile the same bundle again: start-up dominates tests that start a dozen processes on a two-core machine.
 */
export const TEST_COMPILE_CACHE = join(tmpdir(), 'alarmbox-test-node-compile-cache');

/** What a CLI child gets besides the test's own variables: no ALARMBOX_* or DATABASE_URL from the shell. */
export function cliBaseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TZ: 'Asia/Tokyo',
    NODE_COMPILE_CACHE: TEST_COMPILE_CACHE,
  };
}

/** Only what the test gives: no ALARMBOX_* or DATABASE_URL leaks in from the developer's shell. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  options: { readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<CliResult> {
  const base = cliBaseEnv();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...base, ...env }, cwd: options.cwd, timeout: options.timeoutMs ?? 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

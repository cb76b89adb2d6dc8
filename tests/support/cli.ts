// Runs the real CLI as a child process, the way a user or a scheduler does.
import { execFile } from 'node:child_process';
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

/** Only what the test gives: no ALARMBOX_* or DATABASE_URL leaks in from the developer's shell. */
export function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  options: { readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<CliResult> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TZ: 'Asia/Tokyo' };
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

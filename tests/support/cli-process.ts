// Runs the real CLI as a long-lived child process (the worker, a job we signal mid-run) and reads its
// structured log lines as they come.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach } from 'vitest';
import { CLI, type CliResult, cliBaseEnv, runCli } from './cli.ts';

/** One JSON log line of a job or the worker. */
export interface LogEvent {
  readonly severity: string;
  readonly message: string;
  readonly time: string;
  readonly event?: string;
  readonly [field: string]: unknown;
}

export interface CliProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcessOptions {
  /** What to run instead of this run's bundled CLI, e.g. an installed `node_modules/.bin/alarmbox`. */
  readonly command?: string;
  readonly cwd?: string;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exited: Promise<CliProcessResult>;
  readonly #waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    options: CliProcessOptions = {},
  ) {
    const base = cliBaseEnv();
    const [command, commandArgs] =
      options.command === undefined ? [process.execPath, [CLI, ...args]] : [options.command, [...args]];
    this.child = spawn(command, commandArgs, {
      env: { ...base, ...env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.#wake();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#exited = once(this.child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
    void this.#exited.then(() => this.#wake());
  }

  /** Every complete JSON line of stdout so far (other lines are ignored). */
  events(): LogEvent[] {
    return this.stdout
      .split('\n')
      .slice(0, -1)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogEvent];
        } catch {
          return [];
        }
      });
  }

  /** Waits until `predicate(events)` holds; fails after `timeoutMs` or when the process ends first. */
  async waitFor(predicate: (events: LogEvent[]) => boolean, timeoutMs = 15_000): Promise<LogEvent[]> {
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const test = () => {
        if (predicate(this.events())) return true;
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          reject(
            new Error(`exited before the condition held; stdout: ${this.stdout} stderr: ${this.stderr}`),
          );
          return true;
        }
        return false;
      };
      if (test()) {
        resolve();
        return;
      }
      this.#waiters.push({ test, resolve });
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `condition not met within ${timeoutMs} ms; stdout: ${this.stdout} stderr: ${this.stderr}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return this.events();
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves when the process has ended; SIGKILLs it after `timeoutMs` and rejects. */
  exited(timeoutMs = 15_000): Promise<CliProcessResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(
          new Error(`did not exit within ${timeoutMs} ms; stdout: ${this.stdout} stderr: ${this.stderr}`),
        );
      }, timeoutMs);
    });
    return Promise.race([this.#exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** For afterEach: make sure nothing is left running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  #wake(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (waiter.test()) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

/** Parses every JSON line of a finished run's stdout. */
export function logEvents(stdout: string): LogEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogEvent);
}

/**
 * The child processes a file's tests start: push each one, and after every test those still running are killed
 * (a failed test leaves none behind to hold a lease or a port).
 */
export function useChildProcesses(): CliProcess[] {
  const running: CliProcess[] = [];
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });
  return running;
}

/** One `refresh-token --log-format=json` run to its end: its output, its `end` event and how long it took. */
export async function runRefreshToken(
  env: Readonly<Record<string, string>>,
  args: readonly string[] = [],
): Promise<CliResult & { readonly end: LogEvent; readonly ms: number }> {
  const started = performance.now();
  const r = await runCli(['refresh-token', '--log-format=json', ...args], env);
  const end = logEvents(r.stdout).find((e) => e.event === 'end');
  if (end === undefined) throw new Error(`no end event: ${r.stdout} ${r.stderr}`);
  return { ...r, end, ms: performance.now() - started };
}

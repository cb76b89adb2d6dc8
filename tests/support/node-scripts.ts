// Runs the tests/fixtures scripts in real child processes, for tests that need separate processes:
// cross-process locks, concurrent migrations, a holder killed with SIGKILL. They run as this test run bundled
// them from the current sources (tests/support/global-setup.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { inject } from 'vitest';
import { TEST_COMPILE_CACHE } from './cli.ts';

/** The bundled script of `tests/fixtures/<name>` (`name` as in the source folder, `.ts` included). */
export function fixturePath(name: string): string {
  return join(inject('fixturesDir'), name.replace(/\.ts$/, '.js'));
}

export interface ScriptResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running fixture script: read its lines, write to its stdin, wait for its end. */
export class NodeScript {
  readonly child: ChildProcess;
  #stdout = '';
  #stderr = '';
  readonly #exited: Promise<ScriptResult>;
  readonly #lineWaiters: { prefix: string; resolve: (line: string) => void }[] = [];
  #lines: string[] = [];

  constructor(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [fixturePath(script), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { NODE_COMPILE_CACHE: TEST_COMPILE_CACHE, ...process.env, ...env },
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#onStdout(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.#exited = once(this.child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.#stdout,
      stderr: this.#stderr,
    }));
  }

  /** Resolves with the first stdout line starting with `prefix` (already printed or yet to come). */
  waitForLine(prefix: string, timeoutMs = 15_000): Promise<string> {
    const seen = this.#lines.find((line) => line.startsWith(prefix));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${prefix}" line within ${timeoutMs} ms; stderr: ${this.#stderr}`)),
        timeoutMs,
      );
      this.#exited.then((result) =>
        reject(
          new Error(`exited (${result.code ?? result.signal}) before "${prefix}"; stderr: ${result.stderr}`),
        ),
      );
      this.#lineWaiters.push({
        prefix,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  exited(timeoutMs = 30_000): Promise<ScriptResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`fixture did not exit within ${timeoutMs} ms; stderr: ${this.#stderr}`));
      }, timeoutMs);
    });
    return Promise.race([this.#exited, timeout]).finally(() => clearTimeout(timer));
  }

  #onStdout(chunk: string): void {
    this.#stdout += chunk;
    const lines = this.#stdout.split('\n').slice(0, -1);
    const fresh = lines.slice(this.#lines.length);
    this.#lines = lines;
    for (const line of fresh) {
      for (let i = this.#lineWaiters.length - 1; i >= 0; i--) {
        const waiter = this.#lineWaiters[i]!;
        if (line.startsWith(waiter.prefix)) {
          this.#lineWaiters.splice(i, 1);
          waiter.resolve(line);
        }
      }
    }
  }
}

/** Starts `count` copies of a script that print "ready" and then wait for "go" on stdin; releases them together. */
export async function startTogether(
  count: number,
  script: string,
  argsFor: (index: number) => readonly string[],
): Promise<NodeScript[]> {
  const scripts = Array.from({ length: count }, (_, index) => new NodeScript(script, argsFor(index)));
  await Promise.all(scripts.map((s) => s.waitForLine('ready')));
  for (const s of scripts) s.send('go');
  return scripts;
}

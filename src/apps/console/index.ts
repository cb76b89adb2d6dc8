// The local web console (`alarmbox console`): connect AlarmBox, watch the token's life, try a call, from a
// browser on this machine. Listens on 127.0.0.1 only.

import type { AlarmboxOptions } from '../../config/index.ts';
import { createToolkit, type Toolkit } from '../../create.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { listen } from '../../emulator/server.ts';
import { createConsoleApp } from './app.ts';
import { type EmbeddedOptions, openConsoleSandbox } from './embedded.ts';

const DEFAULT_CONSOLE_PORT = 8976;
/** Loopback only: the console can spend the refresh token and start purchases. */
const CONSOLE_HOST = '127.0.0.1';

export interface ConsoleOptions {
  /** Default {@link DEFAULT_CONSOLE_PORT}; 0 picks a free port. */
  readonly port?: number;
  /**
   * Run an embedded emulator with a temporary database and key, ignoring the environment's configuration
   * (so a `.env` pointing at the real AlarmBox is never touched).
   */
  readonly emulator?: boolean | EmbeddedOptions;
  /** Overrides of the environment's configuration, without `emulator` (tests, embedding). */
  readonly alarmbox?: AlarmboxOptions;
  /** One line per action (never a token, code or secret). Default: nothing. */
  readonly log?: (line: string) => void;
}

export interface RunningConsole {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly alarmbox: Toolkit;
  /** The embedded emulator, with `emulator`. */
  readonly emulator: RunningEmulator | undefined;
  /** Where the temporary database and key live, with `emulator`. */
  readonly sandboxDir: string | undefined;
  /** Stops listening, closes the database and, with `emulator`, stops it and deletes the temporary files. */
  close(): Promise<void>;
}

export async function startConsole(options: ConsoleOptions = {}): Promise<RunningConsole> {
  const sandbox =
    options.emulator === undefined || options.emulator === false
      ? undefined
      : await openConsoleSandbox(options.emulator === true ? {} : options.emulator);
  const alarmbox = sandbox?.alarmbox ?? createToolkit(options.alarmbox);
  const release = () => (sandbox === undefined ? alarmbox.close() : sandbox.close());
  let port = 0;
  try {
    const app = createConsoleApp({
      alarmbox,
      sandbox: sandbox === undefined ? undefined : { emulatorUrl: sandbox.emulator.url, dir: sandbox.dir },
      port: () => port,
      log: options.log ?? (() => {}),
    });
    const server = await listen(app, CONSOLE_HOST, options.port ?? DEFAULT_CONSOLE_PORT);
    port = server.port;
    let closed: Promise<void> | undefined;
    return {
      url: `http://${CONSOLE_HOST}:${port}`,
      port,
      alarmbox,
      emulator: sandbox?.emulator,
      sandboxDir: sandbox?.dir,
      close: () => {
        closed ??= server.close().finally(release);
        return closed;
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

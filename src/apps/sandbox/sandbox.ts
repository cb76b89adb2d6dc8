// A throwaway AlarmBox world: an embedded emulator, a temporary SQLite database and a generated key, all
// under one temporary directory. `demo` walks through the guide in it; `console --emulator` lets a person
// click through it. Nothing of the developer's own configuration (DATABASE_URL, real credentials) is used.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCOPE, OOB_REDIRECT_URI } from '../../config/index.ts';
import { createToolkit, type Toolkit } from '../../create.ts';
import { generateKeySpec } from '../../crypto/index.ts';
import type { EmulatorOptions, RunningEmulator } from '../../emulator/index.ts';

export interface Sandbox {
  readonly emulator: RunningEmulator;
  /** Wired to the emulator, the temporary database and key; tables are not migrated yet. */
  readonly alarmbox: Toolkit;
  /** The temporary directory; removed by {@link close}. */
  readonly dir: string;
  /** Closes the toolkit and the emulator and deletes the directory; safe to call twice. */
  close(): Promise<void>;
}

export interface SandboxOptions {
  /** Prefix of the temporary directory's name (shows up in `ls /tmp` while it runs). */
  readonly prefix?: string;
  /** Emulator options; `port: 0` and `quiet: true` unless given. */
  readonly emulator?: EmulatorOptions;
}

export async function openSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'alarmbox-sandbox-'));
  let emulator: RunningEmulator | undefined;
  try {
    // Loaded here, not at start-up: the commands that never use the emulator never pay for its modules.
    const { startEmulator } = await import('../../emulator/index.ts');
    emulator = await startEmulator({ port: 0, quiet: true, ...options.emulator });
    const running = emulator;
    const alarmbox = createToolkit({
      env: 'local',
      databaseUrl: `sqlite:${join(dir, 'alarmbox.db')}`,
      encryptionKeys: generateKeySpec('sandbox'),
      baseUrl: running.url,
      clientId: running.options.clientId,
      clientSecret: running.options.clientSecret,
      // Every value that could otherwise come from the environment is pinned, so a developer's `.env`
      // pointing at the real AlarmBox never mixes into the sandbox.
      redirectUri: OOB_REDIRECT_URI,
      scope: DEFAULT_SCOPE,
      dataDir: dir,
    });
    let closed: Promise<void> | undefined;
    const close = async () => {
      try {
        await alarmbox.close();
      } finally {
        try {
          await running.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    };
    return {
      emulator: running,
      alarmbox,
      dir,
      close: () => {
        closed ??= close();
        return closed;
      },
    };
  } catch (error) {
    await emulator?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

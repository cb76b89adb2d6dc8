// `console --emulator`: the sandbox of `demo` (embedded emulator, temporary SQLite, generated key), migrated
// and ready, so a person can click through the whole flow without any configuration.

import { migrateToLatest } from '../../db/migrate.ts';
import { openSandbox, type Sandbox } from '../sandbox/sandbox.ts';

export interface EmbeddedOptions {
  /**
   * Skip the emulator's consent page. Off by default: the point is to see what AlarmBox will show
   * (the consent page with 承認 / 否認).
   */
  readonly autoApprove?: boolean;
}

export async function openConsoleSandbox(options: EmbeddedOptions = {}): Promise<Sandbox> {
  const sandbox = await openSandbox({
    prefix: 'alarmbox-console-',
    emulator: { autoApprove: options.autoApprove ?? false },
  });
  try {
    await migrateToLatest(sandbox.alarmbox.database);
    return sandbox;
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

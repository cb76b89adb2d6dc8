import { type Alarmbox, createAlarmbox } from '../alarmbox/create.ts';
import { assertMigrated } from '../db/migrate.ts';

// main.ts reads `.env` before any command loads; re-exported for the commands and tests that import it here.
export { loadDotEnv } from './dotenv.ts';

/**
 * Opens the toolkit for one command and closes it afterwards, whatever happens.
 * Commands that touch the token table first check that `alarmbox migrate` has run.
 */
export async function withAlarmbox<T>(
  run: (alarmbox: Alarmbox) => Promise<T>,
  options: { readonly requireMigrated?: boolean } = {},
): Promise<T> {
  const alarmbox = createAlarmbox();
  try {
    await alarmbox.database.ping();
    if (options.requireMigrated ?? true) await assertMigrated(alarmbox.database);
    return await run(alarmbox);
  } finally {
    await alarmbox.close();
  }
}

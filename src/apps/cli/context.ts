import { createToolkit, type Toolkit } from '../../create.ts';
import { assertDatabaseExists } from '../../db/dialects/index.ts';
import { assertMigrated, createDatabaseIfMissing } from '../../db/migrate.ts';

/**
 * Opens the toolkit for one command and closes it afterwards, whatever happens.
 * Commands that touch the token table first check that `alarmbox migrate` has run; on SQLite they never
 * create the file (a path that does not exist is reported as such).
 */
export async function withAlarmbox<T>(
  run: (alarmbox: Toolkit) => Promise<T>,
  options: {
    readonly requireMigrated?: boolean;
    /** `migrate` only: create the SQLite file (and its folder) when missing. */
    readonly createDatabase?: boolean;
  } = {},
): Promise<T> {
  const alarmbox = createToolkit();
  try {
    const requireMigrated = options.requireMigrated ?? true;
    if (options.createDatabase === true) createDatabaseIfMissing(alarmbox.database);
    if (requireMigrated) assertDatabaseExists(alarmbox.database.target);
    await alarmbox.database.ping();
    if (requireMigrated) await assertMigrated(alarmbox.database);
    return await run(alarmbox);
  } finally {
    await alarmbox.close();
  }
}

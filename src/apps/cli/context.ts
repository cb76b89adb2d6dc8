import { createToolkit, type Toolkit } from '../../create.ts';
import { assertDatabaseExists } from '../../db/dialects/index.ts';
import { assertMigrated, createDatabaseIfMissing } from '../../db/migrate.ts';

/**
 * Opens the toolkit for one command and closes it afterwards, whatever happens.
 * Commands that touch the token table first check that `alarmbox migrate` has run; on SQLite they never
 * create the file (a path that does not exist is reported as such). `migrate` alone passes `forMigrate`: it
 * creates the SQLite file (and its folder) when missing, and checks only that the database answers.
 */
export async function withAlarmbox<T>(
  run: (alarmbox: Toolkit) => Promise<T>,
  options: { readonly forMigrate?: boolean } = {},
): Promise<T> {
  const alarmbox = createToolkit();
  try {
    const forMigrate = options.forMigrate === true;
    if (forMigrate) createDatabaseIfMissing(alarmbox.database);
    else assertDatabaseExists(alarmbox.database.target);
    await alarmbox.database.ping();
    if (!forMigrate) await assertMigrated(alarmbox.database);
    return await run(alarmbox);
  } finally {
    await alarmbox.close();
  }
}

// Kysely builds every write, lease and migration, and it is most of what a cold start loads: bundled, its 445 KB
// took about 11 ms to compile of the library's first `getValidAccessToken()`, which on SQLite reads row 1 without it
// (dialects/sqlite.ts). So it is imported on first need (a dynamic import, which bundlers split into a chunk), and
// the modules that build queries take it from here instead of importing `kysely` themselves. Types are imported
// from 'kysely' as usual: they cost nothing at run time.
import { AlarmboxError } from '../errors.ts';

type KyselyModule = typeof import('kysely');
type MigrationModule = typeof import('kysely/migration');

/** Kysely's values this package uses: the query builder and its migrator. */
export type KyselyRuntime = Pick<
  KyselyModule,
  'Kysely' | 'sql' | 'CompiledQuery' | 'SqliteDialect' | 'PostgresDialect' | 'MysqlDialect'
> &
  Pick<MigrationModule, 'Migrator'>;

let runtime: KyselyRuntime | undefined;
let loading: Promise<KyselyRuntime> | undefined;

/** Imports Kysely once; later calls return the same modules. */
export function loadKysely(): Promise<KyselyRuntime> {
  loading ??= Promise.all([import('kysely'), import('kysely/migration')]).then(([kysely, migration]) => {
    runtime = { ...kysely, Migrator: migration.Migrator };
    return runtime;
  });
  return loading;
}

/**
 * Kysely, once {@link loadKysely} has resolved: for code that runs only on a database handle already opened
 * (`DatabaseHandle.open()`), where an `await` would be noise.
 * @throws AlarmboxError ('unexpected') when called before: a bug of this package, never a user's setting
 */
export function kysely(): KyselyRuntime {
  if (runtime === undefined) {
    throw new AlarmboxError('internal: Kysely used before DatabaseHandle.open() loaded it', {
      reason: 'unexpected',
    });
  }
  return runtime;
}

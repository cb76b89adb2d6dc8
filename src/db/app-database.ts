// A database the application already has open: its pg Pool, its mysql2 pool or its Kysely instance, passed
// in the way Kysely's own dialects take one (the app hands over the driver object; nothing is imported by name).
import type { Kysely, KyselyPlugin, QueryResult, UnknownRow } from 'kysely';
import { AlarmboxError } from '../errors.ts';
import { type ConnectedServer, connectedServer, type OnConnected } from './connected-server.ts';
import { type DatabaseHandle, lazyHandle } from './connection.ts';
import type { AppMysqlPool } from './dialects/app-mysql-types.ts';
import { type AppPostgresPool, appMysqlPool, appPostgresPool } from './dialects/app-pools.ts';
import { adapterFor } from './dialects/index.ts';
import { exactNumber } from './dialects/postgres-pool.ts';
import type { KyselyRuntime } from './kysely-runtime.ts';
import type { AlarmboxSchema } from './schema.ts';
import type { DatabaseDialect, DatabaseTarget, ServerTarget } from './url.ts';

export type { AppMysqlConnection, AppMysqlPool } from './dialects/app-mysql-types.ts';
export type { AppPostgresClient, AppPostgresPool } from './dialects/app-pools.ts';

/**
 * A connection the application brings (`createAlarmbox({ database })`). The key names the database, so nothing
 * has to be guessed from the object's shape. It stays the app's: `close()` leaves it open.
 */
export type AlarmboxDatabase =
  /** A node-postgres `Pool`. */
  | { readonly postgres: AppPostgresPool }
  /** A mysql2 pool: `createPool()` of `mysql2`, or a `mysql2/promise` pool (its callback pool is used). */
  | { readonly mysql: AppMysqlPool | { readonly pool: AppMysqlPool } }
  /**
   * A Kysely instance and the database behind it. Its pool's settings are used as they are: on MySQL the pool
   * must have `timezone: 'Z'` (the toolkit stores UTC `datetime(3)`).
   */
  | { readonly kysely: AppKysely; readonly dialect: DatabaseDialect };

/**
 * A Kysely instance of any schema (`new Kysely<AppDb>(...)`): the toolkit queries its own tables through
 * `withPlugin`, which leaves the app's instance as it was.
 */
export interface AppKysely {
  /** Kysely's `withPlugin`: a copy of the instance with one more plugin. */
  withPlugin(plugin: KyselyPlugin): object;
}

/**
 * pg keeps a `connectionString` as given (host, port and database are read from it when connecting): read them
 * from it the same way, leaving user and password out.
 */
function postgresWhere(options: AppPostgresPool['options']): Parameters<typeof targetOf>[1] {
  const text = (options as { connectionString?: unknown } | undefined)?.connectionString;
  if (typeof text !== 'string') return options;
  try {
    const url = new URL(text);
    return {
      host: options?.host ?? (url.hostname.replace(/^\[|\]$/g, '') || undefined),
      port: options?.port ?? (url.port === '' ? undefined : Number(url.port)),
      database: options?.database ?? (decodeURIComponent(url.pathname.slice(1)) || undefined),
    };
  } catch {
    return options;
  }
}

/** Where the app's database connects to, from the pool's own options (never a password). */
function targetOf(
  dialect: 'postgres' | 'mysql',
  where: { host?: string | undefined; port?: number | undefined; database?: string | undefined } | undefined,
): ServerTarget {
  return {
    dialect,
    url: '',
    host: where?.host ?? 'localhost',
    port: where?.port ?? (dialect === 'postgres' ? 5432 : 3306),
    database: where?.database ?? '(プールの既定)',
    // Unknown: the app's pool decides. verify-ca makes connectedServer report a verified chain only when the
    // socket says so (`authorized`), and "not verified" otherwise.
    tls: { mode: 'verify-ca' },
    source: 'app',
  };
}

/**
 * Opens the toolkit on the app's connection. Queries get `queryTimeoutMs` each (pools; a Kysely instance
 * keeps its own settings); opening a connection is the pool's business (its own connect timeout).
 */
export function openAppDatabase(database: AlarmboxDatabase, queryTimeoutMs: number): DatabaseHandle {
  let connected: ConnectedServer | undefined;
  let create: (runtime: KyselyRuntime) => Kysely<AlarmboxSchema>;
  let target: DatabaseTarget;
  const report =
    (server: ServerTarget): OnConnected =>
    (driver, socket) => {
      connected = connectedServer(server, driver, socket);
    };
  if ('postgres' in database) {
    const server = targetOf('postgres', postgresWhere(database.postgres.options));
    target = server;
    create = ({ Kysely, PostgresDialect }) =>
      new Kysely<AlarmboxSchema>({
        dialect: new PostgresDialect({
          pool: appPostgresPool(database.postgres, queryTimeoutMs, report(server)),
        }),
      });
  } else if ('mysql' in database) {
    const pool = 'pool' in database.mysql ? database.mysql.pool : database.mysql;
    // mysql2 keeps the options it connects with in `config.connectionConfig` (its typings say PoolOptions).
    const server = targetOf(
      'mysql',
      (pool as { config?: { connectionConfig?: Parameters<typeof targetOf>[1] } }).config?.connectionConfig,
    );
    target = server;
    create = ({ Kysely, MysqlDialect }) =>
      new Kysely<AlarmboxSchema>({
        dialect: new MysqlDialect({
          pool: appMysqlPool(pool, queryTimeoutMs, report(server)),
        }),
      });
  } else if ('kysely' in database) {
    target =
      database.dialect === 'sqlite'
        ? { dialect: 'sqlite', file: '(アプリの Kysely)', source: 'app' }
        : // The instance does not show its pool's settings: say so rather than guess.
          targetOf(database.dialect, { host: '(アプリの Kysely)', database: '(不明)' });
    const app = database.kysely;
    create = () => app.withPlugin(new BigintColumnsAsNumbers()) as Kysely<AlarmboxSchema>;
  } else {
    throw new AlarmboxError(
      'createAlarmbox の database には { postgres: pg の Pool }、{ mysql: mysql2 のプール }、{ kysely: Kysely のインスタンス, dialect: "postgres" | "mysql" | "sqlite" } のいずれかを渡してください。',
      { reason: 'configuration' },
    );
  }
  return lazyHandle({
    adapter: adapterFor(target.dialect),
    target,
    // Unknown (the app's pool): reported as one.
    poolSize: 1,
    create,
    connectedServer: () => connected,
    // Never the app's pool or instance: the app opened it and closes it.
    close: async () => {},
  });
}

/** A bigint as its driver gave it: text of an integer, or a BigInt (Kysely's own migration lock id is text). */
function isInteger(value: unknown): boolean {
  return typeof value === 'bigint' || (typeof value === 'string' && /^-?\d+$/.test(value));
}

/** The toolkit's bigint columns and aliases (counters, epoch milliseconds). */
const BIGINT_COLUMNS = new Set(['version', 'expires_at_ms', 'acquired_at_ms', 'now_ms', 'id']);

/**
 * A Kysely instance returns bigint as its driver does (pg: text by default): the toolkit's own bigint columns
 * become exact numbers on this instance only (`withPlugin` leaves the app's instance as it was).
 */
class BigintColumnsAsNumbers implements KyselyPlugin {
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  async transformResult(args: { result: QueryResult<UnknownRow> }): Promise<QueryResult<UnknownRow>> {
    for (const row of args.result.rows) {
      for (const name of Object.keys(row)) {
        if (BIGINT_COLUMNS.has(name) && isInteger(row[name])) row[name] = exactNumber(row[name]);
      }
    }
    return args.result;
  }
}

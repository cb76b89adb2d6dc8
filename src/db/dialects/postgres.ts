import type { CustomTypesConfig, PoolConfig } from 'pg';
import { errorCode } from '../../error-code.ts';
import { AlarmboxError } from '../../errors.ts';
import { connectedServer } from '../connected-server.ts';
import { kysely } from '../kysely-runtime.ts';
import { REFRESH_HISTORY_TABLE } from '../schema.ts';
import { credentialsOf, type ServerTarget } from '../url.ts';
import {
  type ConnectionSettings,
  type DatabaseAdapter,
  type DriverErrorKind,
  insertLeaseOnConflictDoNothing,
  kindOfCode,
  runStatement,
} from './adapter.ts';
import { loadDriver } from './load-driver.ts';
import { postgresPoolWithTimeouts } from './postgres-pool.ts';
import { closeGraceMs, KEEPALIVE_INITIAL_DELAY_MS } from './timeouts.ts';
import { tlsOptions } from './tls-options.ts';

/** PostgreSQL's type oid of `bigint` / `int8`. */
const INT8_OID = 20;

// SQLSTATE codes.
const ERROR_CODES: Partial<Record<DriverErrorKind, readonly string[]>> = {
  // too_many_connections, admin_shutdown, crash_shutdown, cannot_connect_now
  unreachable: ['53300', '57P01', '57P02', '57P03'],
  // serialization_failure, deadlock_detected, lock_not_available, query_canceled (statement_timeout)
  busy: ['40001', '40P01', '55P03', '57014'],
  // invalid_authorization_specification (unknown role, pg_hba reject), invalid_password
  auth: ['28000', '28P01'],
  unknown_database: ['3D000'],
  permission: ['42501'],
  missing_schema: ['42P01', '42703'],
};

/** PostgreSQL through pg: `timestamptz(3)`, int8 read as exact JS numbers, a UTC session. */
export const postgresAdapter: DatabaseAdapter = {
  dialect: 'postgres',
  driverPackage: 'pg',

  poolSize: (requested) => requested,

  assertExists: () => {},

  createDialect(target, settings) {
    if (target.dialect !== 'postgres') throw new TypeError(`not a PostgreSQL target: ${target.dialect}`);
    return new (kysely().PostgresDialect)({
      pool: async () => {
        const { default: pg } = await loadDriver('pg');
        const pool = new pg.Pool(poolConfig(target, settings, pg.types));
        return postgresPoolWithTimeouts(
          pool,
          settings.queryTimeoutMs,
          closeGraceMs(settings),
          (driver, socket) => settings.onConnected?.(connectedServer(target, driver, socket)),
        );
      },
      // timestamptz values are instants either way; a UTC session keeps text casts and now() in UTC too.
      onCreateConnection: (connection) => runStatement(connection, "set time zone 'UTC'"),
    });
  },

  // clock_timestamp(), not now(): now() is frozen at the start of the transaction.
  nowMs: () => kysely().sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,

  // pg serializes a Date exactly, milliseconds included.
  timeValue: (date) => new Date(date.getTime()),

  insertLeaseIfAbsent: insertLeaseOnConflictDoNothing,

  // pg reports no insert id: ask for it.
  async insertHistory(db, row) {
    const inserted = await db
      .insertInto(REFRESH_HISTORY_TABLE)
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(inserted.id);
  },

  // Kysely's migrator holds pg_advisory_lock while it works.
  migrateExclusively: (db, run) => run(db),

  isDuplicateKey: (error) => errorCode(error) === '23505',
  // lock_not_available: NOWAIT and lock_timeout.
  isLockNotAvailable: (error) => errorCode(error) === '55P03',

  classifyError(code, message) {
    // pg_hba.conf has only `hostssl` lines for us: "no pg_hba.conf entry for host …, no encryption".
    if (code === '28000' && /no encryption/i.test(message)) return 'tls_required';
    const kind = kindOfCode(ERROR_CODES, code);
    if (kind !== undefined) return kind;
    // pg reports its own connect timeout and dropped sockets without a code.
    if (/timeout expired|connection timeout/i.test(message)) return 'timeout';
    if (/Connection terminated/i.test(message)) return 'unreachable';
    return undefined;
  },

  timestampType: 'timestamptz(3)',
  bigintType: 'bigint',
  addGeneratedId: (table) => table.addColumn('id', 'bigserial', (col) => col.notNull().primaryKey()),
  tableOptions: (table) => table,
  resizeTokenColumns: async (db, size) => {
    const type = size === 'wide' ? kysely().sql`text` : kysely().sql`varchar(512)`;
    await kysely().sql`ALTER TABLE hansha_alarmbox_tokens
      ALTER COLUMN access_token TYPE ${type},
      ALTER COLUMN refresh_token TYPE ${type},
      ALTER COLUMN scope TYPE ${type}`.execute(db);
  },
};

// No connectionString: node-postgres would read host, port, ssl… from its query string too, and let
// `?host=` override the URL's host (parseDatabaseUrl refuses every parameter it does not understand).
function poolConfig(
  target: ServerTarget,
  settings: ConnectionSettings,
  types: CustomTypesConfig,
): PoolConfig {
  const { user, password } = credentialsOf(target);
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    ...(user === '' ? {} : { user }),
    ...(password === '' ? {} : { password }),
    ssl: tlsOptions(target.host, target.tls),
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // Client side, so it also ends a wait on a server that went silent (statement_timeout would not).
    query_timeout: settings.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    types: int8AsNumber(types),
  };
}

/**
 * pg returns int8 as a string by default (it may exceed 2^53). Our bigints are counters and epoch
 * milliseconds, so this pool (only this one: the global pg.types stay untouched) parses them as numbers,
 * refusing values that would lose precision.
 */
function int8AsNumber(types: CustomTypesConfig): CustomTypesConfig {
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : types.getTypeParser(oid, format ?? 'text')) as CustomTypesConfig['getTypeParser'];
  return { getTypeParser };
}

function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new AlarmboxError(`bigint の値 ${value} は JavaScript の数値で正確に扱えません。`, {
      reason: 'unexpected',
    });
  }
  return parsed;
}

import type { PoolOptions } from 'mysql2';
import { errorCode } from '../../error-code.ts';
import { connectedServer } from '../connected-server.ts';
import { kysely } from '../kysely-runtime.ts';
import { LOCKS_TABLE, REFRESH_HISTORY_TABLE } from '../schema.ts';
import { credentialsOf, type ServerTarget } from '../url.ts';
import {
  type ConnectionSettings,
  type DatabaseAdapter,
  type DriverErrorKind,
  kindOfCode,
  runStatement,
} from './adapter.ts';
import { loadDriver } from './load-driver.ts';
import { mysqlPoolWithTimeouts } from './mysql-pool.ts';
import { closeGraceMs, KEEPALIVE_INITIAL_DELAY_MS } from './timeouts.ts';
import { tlsOptions } from './tls-options.ts';

const ERROR_CODES: Partial<Record<DriverErrorKind, readonly string[]>> = {
  unreachable: ['PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN'],
  timeout: ['PROTOCOL_SEQUENCE_TIMEOUT'],
  busy: ['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_NOWAIT'],
  auth: ['ER_ACCESS_DENIED_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR'],
  unknown_database: ['ER_BAD_DB_ERROR'],
  permission: ['ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_SPECIFIC_ACCESS_DENIED_ERROR'],
  missing_schema: ['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR'],
  // --require-secure-transport against a plaintext client.
  tls_required: ['ER_SECURE_TRANSPORT_REQUIRED'],
};

/** MySQL 8 and MariaDB through mysql2: `datetime(3)` in UTC, InnoDB, utf8mb4 with a binary collation. */
export const mysqlAdapter: DatabaseAdapter = {
  dialect: 'mysql',
  driverPackage: 'mysql2',

  poolSize: (requested) => requested,

  assertExists: () => {},

  createDialect(target, settings) {
    if (target.dialect !== 'mysql') throw new TypeError(`not a MySQL target: ${target.dialect}`);
    return new (kysely().MysqlDialect)({
      pool: async () => {
        const { createPool } = await loadDriver('mysql2');
        const pool = createPool(poolOptions(target, settings));
        return mysqlPoolWithTimeouts(
          pool,
          settings.queryTimeoutMs,
          closeGraceMs(settings),
          (driver, socket) => settings.onConnected?.(connectedServer(target, driver, socket)),
        );
      },
      // datetime(3) has no zone and mysql2 already reads/writes it as UTC ('Z'); a UTC session also makes
      // NOW() and friends agree with the stored values for anyone querying by hand.
      onCreateConnection: (connection) => runStatement(connection, "set time_zone = '+00:00'"),
    });
  },

  // UTC_TIMESTAMP does not depend on the session time zone (UNIX_TIMESTAMP(NOW()) would go through it,
  // ambiguous at DST changes), and TIMESTAMPDIFF … DIV yields an integer, not a DECIMAL string.
  nowMs: () =>
    kysely().sql<number>`(timestampdiff(microsecond, '1970-01-01 00:00:00', utc_timestamp(6)) div 1000)`,

  // mysql2 (timezone 'Z') serializes a Date exactly, milliseconds included.
  timeValue: (date) => new Date(date.getTime()),

  // Not INSERT IGNORE: that would also turn other problems (a too-long owner) into silent warnings.
  async insertLeaseIfAbsent(db, row) {
    try {
      await db.insertInto(LOCKS_TABLE).values(row).execute();
      return true;
    } catch (error) {
      if (mysqlAdapter.isDuplicateKey(error)) return false;
      throw error;
    }
  },

  async insertHistory(db, row) {
    const result = await db.insertInto(REFRESH_HISTORY_TABLE).values(row).executeTakeFirst();
    return Number(result.insertId ?? 0n);
  },

  // Kysely's migrator holds GET_LOCK while it works.
  migrateExclusively: (db, run) => run(db),

  isDuplicateKey: (error) => errorCode(error) === 'ER_DUP_ENTRY',
  // MariaDB's ER_LOCK_WAIT_TIMEOUT (NOWAIT and WAIT n alike), MySQL 8's ER_LOCK_NOWAIT.
  isLockNotAvailable: (error) => ['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_NOWAIT'].includes(errorCode(error) ?? ''),

  classifyError: (code) => kindOfCode(ERROR_CODES, code),

  // Not `timestamp`: MySQL converts that through the session time zone and may auto-update it.
  timestampType: 'datetime(3)',
  bigintType: 'bigint',
  addGeneratedId: (table) =>
    table.addColumn('id', 'bigint', (col) => col.notNull().primaryKey().autoIncrement()),
  // Pins what the server default might get wrong: InnoDB (transactions, row locks) and utf8mb4 with a binary
  // collation (Japanese `last_error` text; lock names and owners compared exactly).
  tableOptions: (table) =>
    table.modifyEnd(kysely().sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`),
  resizeTokenColumns: async (db, size) => {
    if (size === 'wide') {
      // mediumtext (16 MiB): text (64 KiB) would not hold the envelope of a 1 MiB token. A text column takes
      // a default only as an expression (MySQL 8.0.13+, MariaDB 10.2+).
      await kysely().sql`ALTER TABLE hansha_alarmbox_tokens
        MODIFY access_token mediumtext NOT NULL DEFAULT (''),
        MODIFY refresh_token mediumtext NOT NULL DEFAULT (''),
        MODIFY scope text NULL`.execute(db);
    } else {
      await kysely().sql`ALTER TABLE hansha_alarmbox_tokens
        MODIFY access_token varchar(512) NOT NULL DEFAULT '',
        MODIFY refresh_token varchar(512) NOT NULL DEFAULT '',
        MODIFY scope varchar(512) NULL`.execute(db);
    }
  },
};

function poolOptions(target: ServerTarget, settings: ConnectionSettings): PoolOptions {
  const { user, password } = credentialsOf(target);
  return {
    ...sslOptions(target),
    host: target.host,
    port: target.port,
    database: target.database,
    ...(user === '' ? {} : { user }),
    ...(password === '' ? {} : { password }),
    connectionLimit: settings.poolSize,
    connectTimeout: settings.connectTimeoutMs,
    enableKeepAlive: true,
    keepAliveInitialDelay: KEEPALIVE_INITIAL_DELAY_MS,
    timezone: 'Z',
    charset: 'utf8mb4',
    // bigint columns as JS numbers while they are exact (|n| < 2^53), as strings beyond: never silently wrong.
    supportBigNumbers: true,
    bigNumberStrings: false,
  };
}

// mysql2 builds the tls.connect options itself from `ssl` (its own checkServerIdentity, no custom one): its
// rejectUnauthorized and verifyIdentity carry the mode, the CA and client certificate go in as PEM text.
function sslOptions(target: ServerTarget): Pick<PoolOptions, 'ssl'> {
  const options = tlsOptions(target.host, target.tls);
  if (options === false) return {};
  const mode = target.tls.mode;
  return {
    ssl: {
      rejectUnauthorized: options.rejectUnauthorized !== false,
      verifyIdentity: mode === 'verify-full',
      ...(typeof options.ca === 'string' ? { ca: options.ca } : {}),
      ...(typeof options.cert === 'string' ? { cert: options.cert } : {}),
      ...(typeof options.key === 'string' ? { key: options.key } : {}),
    },
  };
}

import { type RawBuilder, sql } from 'kysely';
import type { DatabaseHandle } from './connection.ts';
import { toDatabaseError } from './driver-errors.ts';
import type { DatabaseDialect } from './url.ts';

/**
 * "Now" as epoch milliseconds on the DATABASE's clock, as an SQL expression. Leases compare against this
 * rather than the host clock so that hosts with skewed clocks agree on when a lease expires.
 */
export function dbNowMs(dialect: DatabaseDialect): RawBuilder<number> {
  switch (dialect) {
    case 'sqlite':
      // julianday('now') is exact to the millisecond inside SQLite, but as a double in days the product can
      // land a hair below the integer: round, do not truncate.
      return sql<number>`cast(round((julianday('now') - 2440587.5) * 86400000) as integer)`;
    case 'mysql':
      // UTC_TIMESTAMP does not depend on the session time zone (UNIX_TIMESTAMP(NOW()) would go through it,
      // ambiguous at DST changes), and TIMESTAMPDIFF … DIV yields an integer, not a DECIMAL string.
      return sql<number>`(timestampdiff(microsecond, '1970-01-01 00:00:00', utc_timestamp(6)) div 1000)`;
    case 'postgres':
      // clock_timestamp(), not now(): now() is frozen at the start of the transaction.
      return sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
  }
}

/** Reads the database's clock once. @throws DatabaseUnavailableError */
export async function readDbNowMs(handle: DatabaseHandle): Promise<number> {
  try {
    const result = await sql<{ now_ms: number }>`select ${dbNowMs(handle.dialect)} as now_ms`.execute(
      handle.db,
    );
    const value = result.rows[0]?.now_ms;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new TypeError(`database clock returned ${typeof value}`);
    }
    return value;
  } catch (error) {
    throw toDatabaseError(error, handle.target);
  }
}

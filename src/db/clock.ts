import { type RawBuilder, sql } from 'kysely';
import type { DatabaseHandle } from './connection.ts';
import { adapterFor } from './dialects/index.ts';
import { toDatabaseError } from './driver-errors.ts';
import type { DatabaseDialect } from './url.ts';

/**
 * "Now" as epoch milliseconds on the DATABASE's clock, as an SQL expression. Leases compare against this
 * rather than the host clock so that hosts with skewed clocks agree on when a lease expires.
 */
export function dbNowMs(dialect: DatabaseDialect): RawBuilder<number> {
  return adapterFor(dialect).nowMs();
}

/** Reads the database's clock once. @throws DatabaseUnavailableError */
export async function readDbNowMs(handle: DatabaseHandle): Promise<number> {
  try {
    const result = await sql<{ now_ms: number }>`select ${handle.adapter.nowMs()} as now_ms`.execute(
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

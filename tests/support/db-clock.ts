// The database's own clock, read once: what leases are measured against (src/lock/lease-sql.ts).
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../src/db/index.ts';

/** "Now" on the database's clock as integer epoch milliseconds. */
export async function readDbNowMs(handle: DatabaseHandle): Promise<number> {
  const db = await handle.open();
  const result = await sql<{ now_ms: number }>`select ${handle.adapter.nowMs()} as now_ms`.execute(db);
  const value = result.rows[0]?.now_ms;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`database clock returned ${typeof value}`);
  }
  return value;
}

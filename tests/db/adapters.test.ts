// The per-database adapters (src/db/dialects) on the real servers: the clock, insert-if-absent, and the
// duplicate-key and lock-wait (busy) detection that callers rely on instead of testing the dialect.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterFor, LOCKS_TABLE, migrateToLatest, TOKENS_TABLE, toDbTime } from '../../src/db/index.ts';
import { errorCode } from '../../src/error-code.ts';
import { describeEachDatabase } from '../support/databases.ts';

describe('adapterFor', () => {
  it('has one adapter per dialect, naming its driver', () => {
    expect(adapterFor('sqlite').driverPackage).toBe('node:sqlite');
    expect(adapterFor('mysql').driverPackage).toBe('mysql2');
    expect(adapterFor('postgres').driverPackage).toBe('pg');
    for (const dialect of ['sqlite', 'mysql', 'postgres'] as const) {
      expect(adapterFor(dialect).dialect).toBe(dialect);
    }
  });
});

describeEachDatabase('database adapter', (fixture) => {
  beforeAll(async () => {
    await migrateToLatest(fixture.handle);
  });

  it("reads the database's clock as integer epoch milliseconds", async () => {
    const { adapter, db } = fixture.handle;
    const result = await sql<{ now_ms: number }>`select ${adapter.nowMs()} as now_ms`.execute(db);
    const now = result.rows[0]?.now_ms;
    expect(Number.isSafeInteger(now)).toBe(true);
    expect(Math.abs((now ?? 0) - Date.now())).toBeLessThan(5_000);
  });

  it('inserts a lease only when its name is free', async () => {
    const { adapter, db } = fixture.handle;
    const row = { name: 'adapter-test', owner: 'a', acquired_at_ms: 1, expires_at_ms: 2 };
    expect(await adapter.insertLeaseIfAbsent(db, row)).toBe(true);
    expect(await adapter.insertLeaseIfAbsent(db, { ...row, owner: 'b' })).toBe(false);
    const stored = await db
      .selectFrom(LOCKS_TABLE)
      .select('owner')
      .where('name', '=', 'adapter-test')
      .execute();
    expect(stored).toEqual([{ owner: 'a' }]);
  });

  it('tells a duplicate key from other failures', async () => {
    const { adapter, db } = fixture.handle;
    const row = { id: 1, updated_at: toDbTime(adapter, new Date()) };
    await db.insertInto(TOKENS_TABLE).values(row).execute();
    let duplicate: unknown;
    try {
      await db.insertInto(TOKENS_TABLE).values(row).execute();
    } catch (error) {
      duplicate = error;
    }
    expect(duplicate).toBeDefined();
    expect(adapter.isDuplicateKey(duplicate)).toBe(true);

    let other: unknown;
    try {
      await sql`select * from no_such_table_for_adapter_test`.execute(db);
    } catch (error) {
      other = error;
    }
    expect(other).toBeDefined();
    expect(adapter.isDuplicateKey(other)).toBe(false);
  });

  it('classifies a lock wait that gave up as busy', async () => {
    const { adapter } = fixture.handle;
    if (fixture.kind === 'sqlite') {
      // SQLite has no row locks to wait for here: its busy error is what a writer that gave up sees.
      expect(adapter.classifyError('SQLITE_BUSY', 'database is locked')).toBe('busy');
      return;
    }
    const holder = fixture.open({ poolSize: 1 });
    const waiter = fixture.open({ poolSize: 1 });
    await holder.db.transaction().execute(async (trx) => {
      await sql`select * from ${sql.table(LOCKS_TABLE)} where name = 'adapter-test' for update`.execute(trx);
      let thrown: unknown;
      try {
        await waiter.db.transaction().execute(async (other) => {
          await sql`select * from ${sql.table(LOCKS_TABLE)} where name = 'adapter-test' for update nowait`.execute(
            other,
          );
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeDefined();
      expect(adapter.classifyError(errorCode(thrown), (thrown as Error).message)).toBe('busy');
      expect(adapter.isDuplicateKey(thrown)).toBe(false);
    });
  });
});

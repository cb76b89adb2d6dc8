import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DatabaseHandle,
  DatabaseTimeValueError,
  fromDbTime,
  migrateToLatest,
  toDbTime,
} from '../../src/db/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { readDbNowMs } from '../support/db-clock.ts';

const INSTANT = new Date('2026-11-25T08:50:00.123Z');

// Run this file as a host far from UTC would: a driver that used the host's zone anywhere would shift values.
const originalTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'Asia/Tokyo';
  expect(new Date(0).getTimezoneOffset()).toBe(-540);
});
afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});
const LATER = new Date('2027-03-31T23:59:59.999Z');

describe('fromDbTime / toDbTime', () => {
  it.each([
    ['2026-11-25T08:50:00.123Z', '2026-11-25T08:50:00.123Z'],
    ['2026-11-25 08:50:00.123', '2026-11-25T08:50:00.123Z'],
    ['2026-11-25 08:50:00', '2026-11-25T08:50:00.000Z'],
    ['2026-11-25 17:50:00.123+09:00', '2026-11-25T08:50:00.123Z'],
    ['2026-11-25 17:50:00.123456+09', '2026-11-25T08:50:00.123Z'],
  ])('reads text %j as %s (zone-less text is UTC)', (text, iso) => {
    expect(fromDbTime(text)?.toISOString()).toBe(iso);
  });

  it('reads a Date as a copy and null as null', () => {
    const read = fromDbTime(INSTANT);
    expect(read?.getTime()).toBe(INSTANT.getTime());
    expect(read).not.toBe(INSTANT);
    expect(fromDbTime(null)).toBeNull();
    expect(fromDbTime(undefined)).toBeNull();
  });

  it.each([['yesterday'], [''], ['2026-13-45T99:00:00Z'], [1795597042965], [new Date(Number.NaN)]])(
    'refuses %j',
    (value) => {
      expect(() => fromDbTime(value)).toThrow(DatabaseTimeValueError);
    },
  );

  it('writes ISO text for SQLite and a Date elsewhere; refuses an invalid Date', () => {
    expect(toDbTime('sqlite', INSTANT)).toBe('2026-11-25T08:50:00.123Z');
    expect(toDbTime('mysql', INSTANT)).toEqual(INSTANT);
    expect(toDbTime('postgres', INSTANT)).toEqual(INSTANT);
    expect(() => toDbTime('postgres', new Date(Number.NaN))).toThrow(DatabaseTimeValueError);
  });
});

/** The stored value as UTC text `YYYY-MM-DD HH:MM:SS.mmm`, read without going through the driver's Date parsing. */
async function storedUtcText(handle: DatabaseHandle, db = handle.db): Promise<string | undefined> {
  if (handle.dialect === 'sqlite') {
    const result = await sql<{
      t: string;
    }>`select expired_at as t from hansha_alarmbox_tokens where id = 1`.execute(db);
    return result.rows[0]?.t;
  }
  if (handle.dialect === 'mysql') {
    const result = await sql<{ t: string }>`
      select date_format(expired_at, '%Y-%m-%d %H:%i:%s.%f') as t from hansha_alarmbox_tokens where id = 1`.execute(
      db,
    );
    return result.rows[0]?.t.slice(0, 23);
  }
  const result = await sql<{ t: string }>`
    select to_char(expired_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as t
    from hansha_alarmbox_tokens where id = 1`.execute(db);
  return result.rows[0]?.t;
}

describeEachDatabase('times and bigints', (fixture) => {
  beforeAll(async () => {
    await migrateToLatest(fixture.handle);
    const { handle } = fixture;
    await handle.db
      .insertInto('hansha_alarmbox_tokens')
      .values({
        id: 1,
        expired_at: toDbTime(handle.dialect, INSTANT),
        updated_at: toDbTime(handle.dialect, INSTANT),
      })
      .execute();
  });

  it('round-trips a UTC instant with milliseconds', async () => {
    const row = await fixture.handle.db
      .selectFrom('hansha_alarmbox_tokens')
      .select(['expired_at', 'updated_at', 'last_refresh_at'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    expect(fromDbTime(row.expired_at)?.toISOString()).toBe(INSTANT.toISOString());
    expect(fromDbTime(row.updated_at)?.toISOString()).toBe(INSTANT.toISOString());
    expect(fromDbTime(row.last_refresh_at)).toBeNull();
  });

  it('stores the instant as UTC', async () => {
    const text = await storedUtcText(fixture.handle);
    expect(text).toBe(fixture.kind === 'sqlite' ? '2026-11-25T08:50:00.123Z' : '2026-11-25 08:50:00.123');
  });

  it('compares time columns correctly against a bound instant', async () => {
    const { handle } = fixture;
    const count = async (op: '<' | '>', at: Date) => {
      const rows = await handle.db
        .selectFrom('hansha_alarmbox_tokens')
        .select('id')
        .where('expired_at', op, toDbTime(handle.dialect, at))
        .execute();
      return rows.length;
    };
    expect(await count('<', new Date(INSTANT.getTime() + 1))).toBe(1);
    expect(await count('>', new Date(INSTANT.getTime() - 1))).toBe(1);
    expect(await count('<', INSTANT)).toBe(0);
  });

  it('a session in another time zone neither shifts what it reads nor what it writes', async () => {
    const { handle } = fixture;
    if (handle.dialect === 'sqlite') return; // no session time zone to change
    await handle.db.connection().execute(async (session) => {
      if (handle.dialect === 'mysql') await sql`set time_zone = '+09:00'`.execute(session);
      else await sql`set time zone 'Asia/Tokyo'`.execute(session);

      const read = await session
        .selectFrom('hansha_alarmbox_tokens')
        .select('expired_at')
        .executeTakeFirstOrThrow();
      expect(fromDbTime(read.expired_at)?.toISOString()).toBe(INSTANT.toISOString());

      await session
        .updateTable('hansha_alarmbox_tokens')
        .set({ expired_at: toDbTime(handle.dialect, LATER) })
        .where('id', '=', 1)
        .execute();
      const reread = await session
        .selectFrom('hansha_alarmbox_tokens')
        .select('expired_at')
        .executeTakeFirstOrThrow();
      expect(fromDbTime(reread.expired_at)?.toISOString()).toBe(LATER.toISOString());
      expect(await storedUtcText(handle, session)).toBe('2027-03-31 23:59:59.999');
      // Put the session back before the connection returns to the pool.
      if (handle.dialect === 'mysql') await sql`set time_zone = '+00:00'`.execute(session);
      else await sql`set time zone 'UTC'`.execute(session);
    });
    // Another connection (a plain UTC one) sees the same instant.
    const row = await handle.db
      .selectFrom('hansha_alarmbox_tokens')
      .select('expired_at')
      .executeTakeFirstOrThrow();
    expect(fromDbTime(row.expired_at)?.toISOString()).toBe(LATER.toISOString());
  });

  it('reads the bigint version as a JS number and increments it with compare-and-set', async () => {
    const { db } = fixture.handle;
    const big = 2 ** 40 + 7;
    await db.updateTable('hansha_alarmbox_tokens').set({ version: big }).where('id', '=', 1).execute();
    const before = await db.selectFrom('hansha_alarmbox_tokens').select('version').executeTakeFirstOrThrow();
    expect(typeof before.version).toBe('number');
    expect(before.version).toBe(big);

    const bump = (expected: number) =>
      db
        .updateTable('hansha_alarmbox_tokens')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', 1)
        .where('version', '=', expected)
        .executeTakeFirst();
    expect((await bump(big)).numUpdatedRows).toBe(1n);
    expect((await bump(big)).numUpdatedRows).toBe(0n); // stale version: no write
    const after = await db.selectFrom('hansha_alarmbox_tokens').select('version').executeTakeFirstOrThrow();
    expect(after.version).toBe(big + 1);
  });

  it('reads bigint lock columns and the database clock as JS numbers', async () => {
    const { handle } = fixture;
    const now = await readDbNowMs(handle);
    expect(Number.isSafeInteger(now)).toBe(true);
    // The test servers run on this machine: their clock is ours, give or take scheduling.
    expect(Math.abs(now - Date.now())).toBeLessThan(2_000);
    await handle.db
      .insertInto('alarmbox_locks')
      .values({ name: 'n', owner: 'o', acquired_at_ms: now, expires_at_ms: now + 1_500 })
      .execute();
    const row = await handle.db.selectFrom('alarmbox_locks').selectAll().executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'n', owner: 'o', acquired_at_ms: now, expires_at_ms: now + 1_500 });
    const count = await handle.db
      .selectFrom('alarmbox_locks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
  });
});

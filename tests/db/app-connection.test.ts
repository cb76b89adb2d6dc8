// Item 3 of issue 16: an app passes its own pg Pool, mysql2 pool or Kysely instance. The toolkit runs on it
// (migrate, exchangeCode, getValidAccessToken, refresh) and close() leaves it open: the app's pool still answers.
import { Kysely, PostgresDialect } from 'kysely';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Alarmbox, createAlarmbox } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { AlarmboxDatabase } from '../../src/db/app-database.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from '../support/authorize.ts';
import { createTestDatabase, describeWithServer, type TestDatabase } from '../support/databases.ts';

const KEYS = generateKeySpec('app1');
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
});
afterAll(async () => {
  await emulator.close();
});

const dbName = (db: TestDatabase) => (db.target as { database: string }).database;

function withDatabase(database: AlarmboxDatabase): Alarmbox {
  return createAlarmbox({
    env: 'dev',
    database,
    encryptionKeys: KEYS,
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
  });
}

/** The whole life of a token on the app's connection, then close() and the app's own query. */
async function exercise(
  database: AlarmboxDatabase,
  name: string,
  appQuery: () => Promise<unknown>,
): Promise<void> {
  const alarmbox = withDatabase(database);
  expect(await alarmbox.migrate()).not.toHaveLength(0);
  // Not registered yet: the message says which database was looked in and that the app passed it.
  const missing = await alarmbox.tokens.getValidAccessToken().catch((e: unknown) => e);
  expect(missing).toMatchObject({ reason: 'not_registered' });
  expect((missing as Error).message).toContain(`/${name} (設定元: アプリが渡した接続`);
  expect((missing as Error).message).not.toContain('password');
  const saved = await alarmbox.exchangeCode(await obtainCode(emulator));
  expect(saved.isRegistered).toBe(true);
  const first = await alarmbox.tokens.getValidAccessToken();
  await alarmbox.tokens.refresh({ force: true });
  const refreshed = await alarmbox.tokens.getValidAccessToken();
  expect(refreshed).not.toBe(first);
  const history = await alarmbox.tokens.getValidAccessToken();
  expect(history).toBe(refreshed);
  await alarmbox.close();
  await expect(appQuery()).resolves.toBeDefined();
  // A second instance on the same pool reads what the first one stored (int8 version, UTC times).
  const again = withDatabase(database);
  expect(await again.tokens.getValidAccessToken()).toBe(refreshed);
  await again.close();
  await expect(appQuery()).resolves.toBeDefined();
}

describeWithServer('postgres', 'an app-provided PostgreSQL connection', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    await db.drop();
  });

  it('a pg Pool: migrate, exchangeCode, getValidAccessToken, refresh; close() leaves the pool open', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    try {
      await exercise({ postgres: pool }, dbName(db), () => pool.query('select 1 as one'));
      expect(pool.ending).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it('a Kysely instance on a pg Pool: the same, and the instance still queries after close()', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    // The app's own schema: the toolkit's tables are not in it.
    const kysely = new Kysely<{ orders: { id: number } }>({ dialect: new PostgresDialect({ pool }) });
    try {
      await exercise({ kysely, dialect: 'postgres' }, '(不明)', () =>
        kysely.selectNoFrom((eb) => eb.lit(1).as('one')).execute(),
      );
    } finally {
      await kysely.destroy();
    }
  });
});

describeWithServer('mysql', 'an app-provided MariaDB connection', () => {
  let db: TestDatabase;
  let other: TestDatabase;
  let zoned: TestDatabase;
  beforeAll(async () => {
    [db, other, zoned] = (await Promise.all([1, 2, 3].map(() => createTestDatabase('mysql')))) as [
      TestDatabase,
      TestDatabase,
      TestDatabase,
    ];
  });
  afterAll(async () => {
    await Promise.all([db, other, zoned].map((d) => d.drop()));
  });

  it('a mysql2 pool (timezone local, the default): the same, and close() leaves it open', async () => {
    const pool = mysql.createPool({ uri: db.url, connectionLimit: 3 });
    try {
      await exercise({ mysql: pool }, dbName(db), () => pool.promise().query('select 1 as one'));
    } finally {
      await pool.promise().end();
    }
  });

  it('times are stored as UTC whatever the pool timezone', async () => {
    // An app's pool in Japan time: mysql2 would write and read datetime values in +09:00.
    const pool = mysql.createPool({ uri: zoned.url, connectionLimit: 2, timezone: '+09:00' });
    try {
      const alarmbox = withDatabase({ mysql: pool });
      await alarmbox.migrate();
      const before = Date.now();
      await alarmbox.exchangeCode(await obtainCode(emulator));
      await alarmbox.close();
      const [rows] = await pool
        .promise()
        .query('select cast(expired_at as char) as at from hansha_alarmbox_tokens where id = 1');
      const stored = (rows as { at: string }[])[0]?.at;
      // The emulator's tokens live 86400 s: read as UTC, the stored expiry is a day from now (not 9 hours off).
      const expiresAt = Date.parse(`${(stored ?? '').replace(' ', 'T')}Z`);
      expect(Math.abs(expiresAt - (before + 86_400_000))).toBeLessThan(60_000);
    } finally {
      await pool.promise().end();
    }
  });

  it('a mysql2/promise pool: its callback pool is used, and it stays open', async () => {
    const pool = mysqlPromise.createPool({ uri: other.url, connectionLimit: 3 });
    try {
      await exercise({ mysql: pool }, dbName(other), () => pool.query('select 1 as one'));
    } finally {
      await pool.end();
    }
  });
});

describe('database option', () => {
  it('is refused together with databaseUrl', () => {
    expect(() =>
      createAlarmbox({ databaseUrl: 'sqlite::memory:', database: { postgres: new pg.Pool() } }),
    ).toThrow(/どちらか一方/);
  });
});

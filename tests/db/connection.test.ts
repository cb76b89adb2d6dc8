import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { withSqliteCode } from '../../src/db/dialects/node-sqlite.ts';
import {
  createDatabaseIfMissing,
  type DatabaseHandle,
  DatabaseUnavailableError,
  MigrationsPendingError,
  openDatabase,
  parseDatabaseUrl,
  toDatabaseError,
} from '../../src/db/index.ts';
import { adminUrl, describeEachDatabase, describeWithServer } from '../support/databases.ts';
import { expectReasonOf } from '../support/rejections.ts';

const PASSWORD = 'Pw-9f3kQ-never-shown';

/** Opens `url`, runs `ping()`, and returns what it threw. */
async function pingError(url: string): Promise<DatabaseUnavailableError> {
  const handle = openDatabase(parseDatabaseUrl(url));
  try {
    await handle.ping();
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    return error as DatabaseUnavailableError;
  } finally {
    await handle.close();
  }
  throw new Error(`ping to ${url} unexpectedly succeeded`);
}

function withUrl(base: string, change: (url: URL) => void): string {
  const url = new URL(base);
  change(url);
  return url.toString();
}

describe('unreachable servers', () => {
  it.each([
    ['mysql', `mysql://app:${PASSWORD}@127.0.0.1:1/app`, 'mysql 127.0.0.1:1/app'],
    ['postgres', `postgres://app:${PASSWORD}@127.0.0.1:1/app`, 'postgres 127.0.0.1:1/app'],
  ])(
    '%s: a closed port is a temporary DatabaseUnavailableError without the password',
    async (_, url, label) => {
      const error = await pingError(url);
      expect(error.reason).toBe('temporary');
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.message).toBe(
        `データベースに接続できません (${label}: ECONNREFUSED)。DATABASE_URL とデータベースの起動状態を確認してください。`,
      );
      expect(error.message).not.toContain(PASSWORD);
    },
  );

  it.each([
    ['mysql', `mysql://app:${PASSWORD}@no-such-host.invalid:3306/app`],
    ['postgres', `postgres://app:${PASSWORD}@no-such-host.invalid:5432/app`],
  ])('%s: an unknown host is temporary', async (_, url) => {
    const error = await pingError(url);
    expect(error.reason).toBe('temporary');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(error.code);
    expect(error.message).toContain('no-such-host.invalid');
    expect(error.message).not.toContain(PASSWORD);
  });
});

describeWithServer('mysql', 'misconfigured mysql', () => {
  it('a wrong password is a configuration error that does not echo it', async () => {
    const url = withUrl(adminUrl('mysql'), (u) => {
      u.password = PASSWORD;
    });
    const error = await pingError(url);
    expect(error.reason).toBe('configuration');
    expect(error.code).toBe('ER_ACCESS_DENIED_ERROR');
    expect(error.message).toContain('認証に失敗しました');
    expect(error.message).toContain('ユーザー名とパスワードを確認');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('an unknown database is a configuration error', async () => {
    const error = await pingError(
      withUrl(adminUrl('mysql'), (u) => {
        u.pathname = '/alarmbox_no_such_database';
      }),
    );
    expect(error.reason).toBe('configuration');
    expect(error.code).toBe('ER_BAD_DB_ERROR');
    expect(error.message).toContain('データベースが存在しません');
    expect(error.message).toContain('/alarmbox_no_such_database');
  });
});

describeWithServer('postgres', 'misconfigured postgres', () => {
  it('an unknown role is a configuration error', async () => {
    const url = withUrl(adminUrl('postgres'), (u) => {
      u.username = 'no_such_role_alarmbox';
      u.password = PASSWORD;
    });
    const error = await pingError(url);
    expect(error.reason).toBe('configuration');
    expect(['28000', '28P01']).toContain(error.code);
    expect(error.message).not.toContain(PASSWORD);
  });

  it('an unknown database is a configuration error', async () => {
    const error = await pingError(
      withUrl(adminUrl('postgres'), (u) => {
        u.pathname = '/alarmbox_no_such_database';
      }),
    );
    expect(error.reason).toBe('configuration');
    expect(error.code).toBe('3D000');
    expect(error.message).toContain('データベースが存在しません');
    expect(error.message).toContain('/alarmbox_no_such_database');
  });
});

describe('sqlite file handling', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-conn-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrating creates a private parent directory and a private WAL database', async () => {
    const file = join(dir, 'nested', 'deeper', 'alarmbox.db');
    const handle = openDatabase(parseDatabaseUrl(`sqlite:${file}`));
    try {
      // Opening never creates the file (tests/db/missing-sqlite-file.test.ts); migrating does.
      createDatabaseIfMissing(handle);
      await handle.ping();
      expect(statSync(join(dir, 'nested', 'deeper')).mode & 0o777).toBe(0o700);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const pragmas = await sql<{ mode: string; busy: number; sync: number }>`
        select (select journal_mode from pragma_journal_mode) as mode,
               (select timeout from pragma_busy_timeout) as busy,
               (select synchronous from pragma_synchronous) as sync`.execute(handle.db);
      expect(pragmas.rows[0]).toEqual({ mode: 'wal', busy: 5000, sync: 1 });
    } finally {
      await handle.close();
    }
  });

  it('an unusable path is a configuration error naming the file, opening or migrating', async () => {
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, 'x');
    const url = `sqlite:${join(blocker, 'alarmbox.db')}`;
    const error = await pingError(url);
    expect(error.reason).toBe('configuration');
    expect(error.code).toBe('SQLITE_CANTOPEN');
    expect(error.message).toContain(join(blocker, 'alarmbox.db'));
    expect(error.message).toContain('DATABASE_URL のパス');
    const handle = openDatabase(parseDatabaseUrl(url));
    try {
      let created: unknown;
      try {
        createDatabaseIfMissing(handle);
      } catch (caught) {
        created = caught;
      }
      expect(created).toBeInstanceOf(DatabaseUnavailableError);
      expect(['ENOTDIR', 'EEXIST']).toContain((created as DatabaseUnavailableError).code);
      expect((created as Error).message).toContain('DATABASE_URL のパス');
    } finally {
      await handle.close();
    }
  });

  it('a locked database (SQLITE_BUSY) maps to temporary', async () => {
    const file = join(dir, 'busy.db');
    const holder = new DatabaseSync(file);
    const impatient = new DatabaseSync(file, { timeout: 0 });
    try {
      holder.exec('create table t (x integer); begin immediate; insert into t values (1);');
      let thrown: unknown;
      try {
        impatient.exec('insert into t values (2)');
      } catch (error) {
        thrown = error;
      }
      // As the adapter reports it: node:sqlite's ERR_SQLITE_ERROR with errcode 5, named SQLITE_BUSY.
      const mapped = toDatabaseError(withSqliteCode(thrown), parseDatabaseUrl(`sqlite:${file}`));
      expect(expectReasonOf(mapped, 'temporary', DatabaseUnavailableError).code).toBe('SQLITE_BUSY');
    } finally {
      holder.close();
      impatient.close();
    }
  });

  it('close() can be called twice', async () => {
    writeFileSync(join(dir, 'twice.db'), '');
    const handle = openDatabase(parseDatabaseUrl(`sqlite:${join(dir, 'twice.db')}`));
    await handle.ping();
    await handle.close();
    await expect(handle.close()).resolves.toBeUndefined();
  });
});

describe('toDatabaseError', () => {
  const target = parseDatabaseUrl(`postgres://app:${PASSWORD}@127.0.0.1:5432/app`);

  it('wraps errors it cannot name as unexpected, naming the database and the code, never the message', () => {
    const original = Object.assign(new TypeError(`boom ${PASSWORD}`), {
      code: 'XX999',
      reason: 'tls says so',
    });
    const mapped = toDatabaseError(original, target);
    expectReasonOf(mapped, 'unexpected');
    expect(mapped.message).toContain('XX999');
    expect(mapped.message).not.toContain(PASSWORD);
  });

  it('names the code of an AggregateError (Node tries ::1 and 127.0.0.1)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const mapped = toDatabaseError(new AggregateError([refused, refused]), target);
    expectReasonOf(mapped, 'temporary', DatabaseUnavailableError);
    expect(mapped.message).not.toContain(PASSWORD);
  });
});

describeEachDatabase('connection', (fixture) => {
  it('pings', async () => {
    await expect(fixture.handle.ping()).resolves.toBeUndefined();
  });

  it('a query on a table that does not exist yet maps to MigrationsPendingError', async () => {
    let thrown: unknown;
    try {
      await fixture.handle.db.selectFrom('hansha_alarmbox_tokens').selectAll().execute();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeDefined();
    const mapped = toDatabaseError(thrown, fixture.target);
    expectReasonOf(mapped, 'configuration', MigrationsPendingError);
    expect(mapped.message).toContain('hansha_alarmbox_tokens');
    expect(mapped.message).toContain('先に alarmbox migrate を実行してください');
  });

  it('runs sessions in UTC', async () => {
    const handle: DatabaseHandle = fixture.handle;
    if (handle.dialect === 'mysql') {
      const result = await sql<{ tz: string }>`select @@session.time_zone as tz`.execute(handle.db);
      expect(result.rows[0]?.tz).toBe('+00:00');
    } else if (handle.dialect === 'postgres') {
      const result = await sql<{ tz: string }>`select current_setting('TimeZone') as tz`.execute(handle.db);
      expect(result.rows[0]?.tz).toBe('UTC');
    } else {
      // SQLite has no session zone; its clock functions are UTC by definition.
      const result = await sql<{ now: string }>`select datetime('now') as now`.execute(handle.db);
      expect(Date.parse(`${result.rows[0]?.now.replace(' ', 'T')}Z`)).toBeCloseTo(Date.now(), -4);
    }
  });

  it('the pg int8 parser is set on our pool only, not globally', () => {
    expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42');
  });
});

// The node:sqlite adapter under Kysely (src/db/dialects/node-sqlite.ts): SQLite's names for node:sqlite's
// numeric error codes, `mode=rw` opens that create nothing, and the text rule for `reader` that Node 22.14 and
// 22.15 (no `StatementSync#columns()`) rely on, checked against `columns()` for every statement the package runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { returnsRows, withSqliteCode } from '../../src/db/dialects/node-sqlite.ts';
import { sqliteCodeName } from '../../src/db/dialects/sqlite-result-codes.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { errorCode } from '../../src/error-code.ts';

const dir = mkdtempSync(join(tmpdir(), 'alarmbox-node-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('SQLite error names', () => {
  it('names primary and extended codes as sqlite3.h does', () => {
    expect(sqliteCodeName(5)).toBe('SQLITE_BUSY');
    expect(sqliteCodeName(13)).toBe('SQLITE_FULL');
    expect(sqliteCodeName(1555)).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(sqliteCodeName(2067)).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(sqliteCodeName(10 | (19 << 8))).toBe('SQLITE_IOERR_SHMSIZE');
    expect(sqliteCodeName(5 | (3 << 8))).toBe('SQLITE_BUSY_TIMEOUT');
    // An extended code newer than the table still names its primary code.
    expect(sqliteCodeName(5 | (99 << 8))).toBe('SQLITE_BUSY');
    expect(sqliteCodeName(255)).toBeUndefined();
  });

  it("gives node:sqlite's errors those names as their code (busy, primary key, full disk)", () => {
    const file = join(dir, 'codes.db');
    const holder = new DatabaseSync(file);
    const impatient = new DatabaseSync(file, { timeout: 0 });
    try {
      holder.exec('create table t (id integer primary key); insert into t values (1)');
      const duplicate = thrown(() => holder.exec('insert into t values (1)'));
      expect((duplicate as { code: string }).code).toBe('ERR_SQLITE_ERROR');
      expect(errorCode(withSqliteCode(duplicate))).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
      holder.exec('begin immediate');
      expect(errorCode(withSqliteCode(thrown(() => impatient.exec('insert into t values (2)'))))).toBe(
        'SQLITE_BUSY',
      );
      holder.exec('rollback');
      const full = new DatabaseSync(':memory:');
      full.exec('pragma max_page_count = 2; create table big (x text)');
      const error = thrown(() => full.exec(`insert into big values ('${'x'.repeat(20_000)}')`));
      expect(errorCode(withSqliteCode(error))).toBe('SQLITE_FULL');
      full.close();
    } finally {
      holder.close();
      impatient.close();
    }
    // Anything else passes as it is.
    const foreign = Object.assign(new Error('x'), { code: 'EACCES' });
    expect(withSqliteCode(foreign)).toBe(foreign);
    expect(withSqliteCode('text')).toBe('text');
  });
});

describe('reader', () => {
  it("the text rule agrees with columns() for every statement a token's life runs", async () => {
    const seen = new Map<string, boolean>();
    const prepare = DatabaseSync.prototype.prepare;
    DatabaseSync.prototype.prepare = function (this: DatabaseSync, sql: string) {
      const statement = prepare.call(this, sql);
      seen.set(sql, statement.columns().length > 0);
      return statement;
    };
    const alarmbox = createToolkit({
      env: 'local',
      databaseUrl: `sqlite:${join(dir, 'reader.db')}`,
      encryptionKeys: generateKeySpec('k1'),
      clientId: 'x',
      clientSecret: 'y',
    });
    try {
      await migrateToLatest(alarmbox.database);
      await alarmbox.tokens.saveInitialToken({
        accessToken: 'CU8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        refreshToken: 'rT8wbymHIiKUYy6tsY8dbCbzsZNdEucx70d2ZpBLz3Q',
        expiresIn: 86_400,
      });
      await alarmbox.tokens.getValidAccessToken();
    } finally {
      DatabaseSync.prototype.prepare = prepare;
      await alarmbox.close();
    }
    expect(seen.size).toBeGreaterThan(10);
    const disagreeing = [...seen].filter(([sql, reader]) => returnsRows(sql) !== reader);
    expect(disagreeing).toEqual([]);
  });
});

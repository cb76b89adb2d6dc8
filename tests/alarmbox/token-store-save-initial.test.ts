// AlarmboxTokenStore.saveInitial: the pair of a just-spent authorization code is stored, or the caller hears
// exactly why not. Only a duplicate key (another process inserted row 1 first) is answered by updating the row;
// any other refusal of the INSERT, and an update that then finds no row, is an error, never a quiet success.
// Triggers installed by the tests make the database refuse for real.
import { inspect } from 'node:util';
import { sql } from 'kysely';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { AlarmboxTokenStore, TokenSaveError } from '../../src/alarmbox/token-store.ts';
import { generateKeySpec, parseKeyRing } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/index.ts';
import { TOKENS_TABLE } from '../../src/db/schema.ts';
import { type DatabaseKind, describeEachDatabase } from '../support/databases.ts';

const PAIR = {
  accessToken: 'initial-access-token-never-shown',
  refreshToken: 'initial-refresh-token-never-shown',
  expiredAt: new Date(Date.now() + 7_200_000),
  scope: 'read',
};

/** Statements that make every INSERT into the token table fail the given way, one dialect each. */
function refusal(kind: DatabaseKind, how: 'refuse' | 'duplicate-elsewhere'): string[] {
  if (how === 'refuse') {
    switch (kind) {
      case 'sqlite':
        return [
          `create trigger test_refuse before insert on ${TOKENS_TABLE} begin select raise(abort, 'refused by test'); end`,
        ];
      case 'mysql':
        return [
          `create trigger test_refuse before insert on ${TOKENS_TABLE} for each row signal sqlstate '45000' set message_text = 'refused by test'`,
        ];
      case 'postgres':
        return [
          `create function test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by test'; end $$`,
          `create trigger test_refuse before insert on ${TOKENS_TABLE} for each row execute function test_refuse()`,
        ];
    }
  }
  // A duplicate key, but in another table: the fallback UPDATE then finds no row 1 to write.
  const side = ['create table test_side (id integer primary key)', 'insert into test_side (id) values (1)'];
  switch (kind) {
    case 'sqlite':
      return [
        ...side,
        `create trigger test_refuse before insert on ${TOKENS_TABLE} begin insert into test_side (id) values (1); end`,
      ];
    case 'mysql':
      return [
        ...side,
        `create trigger test_refuse before insert on ${TOKENS_TABLE} for each row insert into test_side (id) values (1)`,
      ];
    case 'postgres':
      return [
        ...side,
        `create function test_refuse() returns trigger language plpgsql as $$ begin insert into test_side (id) values (1); return new; end $$`,
        `create trigger test_refuse before insert on ${TOKENS_TABLE} for each row execute function test_refuse()`,
      ];
  }
}

function cleanup(kind: DatabaseKind): string[] {
  return kind === 'postgres'
    ? [
        `drop trigger if exists test_refuse on ${TOKENS_TABLE}`,
        'drop function if exists test_refuse()',
        'drop table if exists test_side',
      ]
    : ['drop trigger if exists test_refuse', 'drop table if exists test_side'];
}

describeEachDatabase('AlarmboxTokenStore.saveInitial', (fixture) => {
  const ring = parseKeyRing(generateKeySpec('si1'), 'TEST');
  let store: AlarmboxTokenStore;
  const run = async (statements: string[]) => {
    for (const statement of statements) await sql.raw(statement).execute(fixture.handle.db);
  };
  const rows = () => fixture.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute();
  const failure = async (promise: Promise<unknown>): Promise<TokenSaveError> => {
    const error = await promise.then(
      () => {
        throw new Error('expected saveInitial to fail');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenSaveError);
    const dump = `${inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })} ${JSON.stringify(error)}`;
    expect(dump).not.toContain(PAIR.accessToken);
    expect(dump).not.toContain(PAIR.refreshToken);
    return error as TokenSaveError;
  };

  beforeAll(async () => {
    await migrateToLatest(fixture.handle);
    store = new AlarmboxTokenStore(fixture.handle, () => ring);
  });
  beforeEach(async () => {
    await fixture.handle.db.deleteFrom(TOKENS_TABLE).execute();
  });
  afterEach(async () => {
    await run(cleanup(fixture.kind));
  });

  it('stores into an empty table, then over the row, each time a new version', async () => {
    const first = await store.saveInitial(PAIR);
    expect(first.isRegistered).toBe(true);
    expect(first.version).toBe(1);
    const second = await store.saveInitial({ ...PAIR, accessToken: 'second-access-token-never-shown' });
    expect(second.version).toBe(2);
    expect(second.getDecryptedAccessToken()).toBe('second-access-token-never-shown');
    expect(await rows()).toHaveLength(1);
  });

  it('an INSERT the database refuses for another reason than a duplicate key is an error that says so', async () => {
    await run(refusal(fixture.kind, 'refuse'));
    const error = await failure(store.saveInitial(PAIR));
    expect(error.reason).toBe('unexpected');
    expect(error.message).toMatch(/^トークンを保存できませんでした: /);
    expect(error.message).toContain(`テーブル ${TOKENS_TABLE}`);
    expect(error.message).toContain('拒否しました');
    expect(error.message).toContain(error.code);
    expect(error.code).toBe(
      { sqlite: 'SQLITE_CONSTRAINT_TRIGGER', mysql: 'ER_SIGNAL_EXCEPTION', postgres: 'P0001' }[fixture.kind],
    );
    // Nothing stored, and nothing claims otherwise.
    expect(await rows()).toEqual([]);
    expect((await store.getInstance()).isRegistered).toBe(false);
  });

  it('a duplicate key after which there is no row to update is an error too, never a save of nothing', async () => {
    await run(refusal(fixture.kind, 'duplicate-elsewhere'));
    const error = await failure(store.saveInitial(PAIR));
    expect(error.code).toBe('ROW_VANISHED');
    expect(error.message).toMatch(/^トークンを保存できませんでした: /);
    expect(error.message).toContain('書き込み先がありませんでした');
    expect(await rows()).toEqual([]);
  });

  it('a row that exists is updated without any INSERT (the refusing trigger never fires)', async () => {
    await store.saveInitial(PAIR);
    await run(refusal(fixture.kind, 'refuse'));
    const saved = await store.saveInitial({ ...PAIR, refreshToken: 'newer-refresh-token-never-shown' });
    expect(saved.version).toBe(2);
    expect(saved.getDecryptedRefreshToken()).toBe('newer-refresh-token-never-shown');
  });
});

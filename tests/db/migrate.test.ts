import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  assertMigrated,
  type DatabaseHandle,
  describeDatabase,
  MigrationsPendingError,
  migrateToLatest,
  migrationNames,
  openDatabase,
} from '../../src/db/index.ts';
import { createTestDatabase, type DatabaseKind, describeEachDatabase } from '../support/databases.ts';
import { startTogether } from '../support/node-scripts.ts';

const ALL = [
  '0001-create-alarmbox-tokens',
  '0002-create-alarmbox-locks',
  '0003-create-alarmbox-refresh-history',
  '0004-widen-token-columns',
];

/** Runs `body` on a database of its own, dropped afterwards. */
async function withFreshDatabase(
  kind: DatabaseKind,
  body: (handle: DatabaseHandle, url: string) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase(kind);
  const handle = openDatabase(database.target);
  try {
    await body(handle, database.url);
  } finally {
    await handle.close();
    await database.drop();
  }
}

async function pendingError(handle: DatabaseHandle): Promise<MigrationsPendingError> {
  try {
    await assertMigrated(handle);
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationsPendingError);
    return error as MigrationsPendingError;
  }
  throw new Error('assertMigrated did not throw');
}

interface ColumnFacts {
  readonly type: string;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
}

/** Column facts from Kysely's introspection, type names lower-cased. */
async function columnsOf(handle: DatabaseHandle, table: string): Promise<Record<string, ColumnFacts>> {
  const tables = await handle.db.introspection.getTables();
  const found = tables.find((t) => t.name === table);
  if (found === undefined) throw new Error(`table ${table} not found`);
  return Object.fromEntries(
    found.columns.map((c) => [
      c.name,
      { type: c.dataType.toLowerCase(), nullable: c.isNullable, hasDefault: c.hasDefaultValue },
    ]),
  );
}

/** `varchar(512)`, `datetime(3)`…: full declared types from the catalog (not available through introspection). */
async function declaredTypes(handle: DatabaseHandle, table: string): Promise<Record<string, string>> {
  if (handle.dialect === 'sqlite') {
    const result = await sql<{
      name: string;
      type: string;
    }>`select name, type from pragma_table_info(${table})`.execute(handle.db);
    return Object.fromEntries(result.rows.map((r) => [r.name, r.type.toLowerCase()]));
  }
  if (handle.dialect === 'mysql') {
    const result = await sql<{ name: string; type: string }>`
      select column_name as name, column_type as type from information_schema.columns
      where table_schema = database() and table_name = ${table}`.execute(handle.db);
    // MariaDB and MySQL < 8.0.19 show integer display widths (int(11), bigint(20)); MySQL 8 does not.
    return Object.fromEntries(
      result.rows.map((r) => [r.name, r.type.toLowerCase().replace(/^(int|bigint)\(\d+\)$/, '$1')]),
    );
  }
  const result = await sql<{ name: string; type: string }>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
    from pg_attribute a where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped`.execute(
    handle.db,
  );
  return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
}

const EXPECTED_TYPES: Record<
  DatabaseKind,
  { tokens: Record<string, string>; locks: Record<string, string> }
> = {
  sqlite: {
    tokens: {
      id: 'integer',
      access_token: 'varchar(512)',
      refresh_token: 'varchar(512)',
      expired_at: 'text',
      updated_at: 'text',
      version: 'integer',
      scope: 'varchar(512)',
      last_refresh_at: 'text',
      last_refresh_outcome: 'varchar(64)',
      last_error: 'varchar(1024)',
    },
    locks: {
      name: 'varchar(191)',
      owner: 'varchar(191)',
      expires_at_ms: 'integer',
      acquired_at_ms: 'integer',
    },
  },
  mysql: {
    tokens: {
      id: 'int',
      access_token: 'mediumtext',
      refresh_token: 'mediumtext',
      expired_at: 'datetime(3)',
      updated_at: 'datetime(3)',
      version: 'bigint',
      scope: 'text',
      last_refresh_at: 'datetime(3)',
      last_refresh_outcome: 'varchar(64)',
      last_error: 'varchar(1024)',
    },
    locks: {
      name: 'varchar(191)',
      owner: 'varchar(191)',
      expires_at_ms: 'bigint',
      acquired_at_ms: 'bigint',
    },
  },
  postgres: {
    tokens: {
      id: 'integer',
      access_token: 'text',
      refresh_token: 'text',
      expired_at: 'timestamp(3) with time zone',
      updated_at: 'timestamp(3) with time zone',
      version: 'bigint',
      scope: 'text',
      last_refresh_at: 'timestamp(3) with time zone',
      last_refresh_outcome: 'character varying(64)',
      last_error: 'character varying(1024)',
    },
    locks: {
      name: 'character varying(191)',
      owner: 'character varying(191)',
      expires_at_ms: 'bigint',
      acquired_at_ms: 'bigint',
    },
  },
};

describe('migrationNames', () => {
  it('lists the migrations in order', () => {
    expect(migrationNames('sqlite')).toEqual(ALL);
  });
});

describeEachDatabase(
  'migrations',
  (fixture) => {
    it('assertMigrated throws MigrationsPendingError on a fresh database', async () => {
      const error = await pendingError(fixture.handle);
      expect(error.reason).toBe('configuration');
      expect(error.message).toBe(
        `データベースのテーブルがまだ作成されていません (${describeDatabase(fixture.target)}: 未適用のマイグレーション: ${ALL.join(', ')})。先に alarmbox migrate を実行してください (アプリからは alarmbox.migrate())。別のデータベースを使うつもりなら設定元を確認してください (.env を読むのは CLI だけです: README「環境変数」)。`,
      );
    });

    it('creates both tables, and a second run applies nothing', async () => {
      expect(await migrateToLatest(fixture.handle)).toEqual({ applied: ALL });
      expect(await migrateToLatest(fixture.handle)).toEqual({ applied: [] });
      await expect(assertMigrated(fixture.handle)).resolves.toBeUndefined();
      const tables = (await fixture.handle.db.introspection.getTables()).map((t) => t.name).sort();
      expect(tables).toEqual(['alarmbox_locks', 'alarmbox_refresh_history', 'hansha_alarmbox_tokens']);
    });

    it('gives the tokens table the guide columns plus version and refresh status', async () => {
      const columns = await columnsOf(fixture.handle, 'hansha_alarmbox_tokens');
      expect(Object.keys(columns).sort()).toEqual(Object.keys(EXPECTED_TYPES[fixture.kind].tokens).sort());
      expect(await declaredTypes(fixture.handle, 'hansha_alarmbox_tokens')).toEqual(
        EXPECTED_TYPES[fixture.kind].tokens,
      );
      const nullable = Object.entries(columns)
        .filter(([, c]) => c.nullable)
        .map(([name]) => name)
        .sort();
      expect(nullable).toEqual([
        'expired_at',
        'last_error',
        'last_refresh_at',
        'last_refresh_outcome',
        'scope',
      ]);
      expect(columns.access_token?.hasDefault).toBe(true);
      expect(columns.refresh_token?.hasDefault).toBe(true);
      expect(columns.version?.hasDefault).toBe(true);
      expect(columns.updated_at?.hasDefault).toBe(false);

      // The defaults are what the guide's get_or_create writes: empty tokens, no expiry, version 0.
      await fixture.handle.db
        .insertInto('hansha_alarmbox_tokens')
        .values({
          id: 1,
          updated_at: fixture.handle.dialect === 'sqlite' ? '2026-01-01T00:00:00.000Z' : new Date(),
        })
        .execute();
      const row = await fixture.handle.db
        .selectFrom('hansha_alarmbox_tokens')
        .selectAll()
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ id: 1, access_token: '', refresh_token: '', expired_at: null, version: 0 });
      // id is the primary key: a second row 1 is refused.
      await expect(
        fixture.handle.db
          .insertInto('hansha_alarmbox_tokens')
          .values({
            id: 1,
            updated_at: fixture.handle.dialect === 'sqlite' ? '2026-01-01T00:00:00.000Z' : new Date(),
          })
          .execute(),
      ).rejects.toThrow();
    });

    it('gives the locks table a primary key on name and no nullable column', async () => {
      const columns = await columnsOf(fixture.handle, 'alarmbox_locks');
      expect(await declaredTypes(fixture.handle, 'alarmbox_locks')).toEqual(
        EXPECTED_TYPES[fixture.kind].locks,
      );
      expect(Object.values(columns).every((c) => !c.nullable)).toBe(true);
      const row = { name: 'pk-check', owner: 'a', expires_at_ms: 1, acquired_at_ms: 0 };
      await fixture.handle.db.insertInto('alarmbox_locks').values(row).execute();
      await expect(fixture.handle.db.insertInto('alarmbox_locks').values(row).execute()).rejects.toThrow();
      await fixture.handle.db.deleteFrom('alarmbox_locks').execute();
    });

    it('stores Japanese text (utf8mb4 on MySQL) unchanged', async () => {
      const message = 'トークンの更新に失敗しました 🔑 (invalid_grant)';
      await fixture.handle.db
        .updateTable('hansha_alarmbox_tokens')
        .set({ last_error: message })
        .where('id', '=', 1)
        .execute();
      const row = await fixture.handle.db
        .selectFrom('hansha_alarmbox_tokens')
        .select('last_error')
        .executeTakeFirstOrThrow();
      expect(row.last_error).toBe(message);
      if (fixture.kind === 'mysql') {
        const result = await sql<{ collation: string; engine: string }>`
        select table_collation as collation, engine from information_schema.tables
        where table_schema = database() and table_name = 'hansha_alarmbox_tokens'`.execute(fixture.handle.db);
        expect(result.rows[0]).toEqual({ collation: 'utf8mb4_bin', engine: 'InnoDB' });
      }
    });

    it('assertMigrated notices a table dropped by hand', async () => {
      await fixture.handle.db.schema.dropTable('alarmbox_locks').execute();
      const error = await pendingError(fixture.handle);
      expect(error.message).toContain('テーブル alarmbox_locks がありません');
    });

    it('concurrent migrate from several processes applies each migration exactly once', async () => {
      await withFreshDatabase(fixture.kind, async (handle, url) => {
        const workers = await startTogether(3, 'migrate-worker.ts', () => [url]);
        const results = await Promise.all(workers.map((w) => w.exited()));
        for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
        const applied = results.flatMap(
          (r) => JSON.parse(/^applied (.*)$/m.exec(r.stdout)?.[1] ?? 'null') as string[],
        );
        expect(applied.sort()).toEqual(ALL);
        await expect(assertMigrated(handle)).resolves.toBeUndefined();
        const history = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
          handle.db,
        );
        expect(history.rows.map((r) => r.name)).toEqual(ALL);
      });
    });
  },
  { concurrentKinds: true },
);

// A released migration must keep sending the DDL it was released with, on every database: the schema of an
// existing install and that of a new one must not drift apart. Compiled without a server (Kysely's
// DummyDriver) and compared with tests/fixtures/migrations-ddl/<dialect>.sql, written when each migration
// was released; a new migration adds its statements there.
import { readFileSync } from 'node:fs';
import {
  DummyDriver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKysely } from '../../src/db/kysely-runtime.ts';
import { migrations } from '../../src/db/migrations/index.ts';

const COMPILERS = {
  sqlite: [SqliteAdapter, SqliteQueryCompiler, SqliteIntrospector],
  mysql: [MysqlAdapter, MysqlQueryCompiler, MysqlIntrospector],
  postgres: [PostgresAdapter, PostgresQueryCompiler, PostgresIntrospector],
} as const;

describe('released migrations', () => {
  beforeAll(async () => {
    await loadKysely();
  });

  for (const [dialect, [Adapter, Compiler, Introspector]] of Object.entries(COMPILERS)) {
    it(`send the DDL they were released with on ${dialect}`, async () => {
      const sent: string[] = [];
      const db = new Kysely<unknown>({
        dialect: {
          createAdapter: () => new Adapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (kysely) => new Introspector(kysely),
          createQueryCompiler: () => new Compiler(),
        },
        log: (event) => {
          sent.push(event.query.sql);
        },
      });
      for (const [name, migration] of Object.entries(migrations(dialect as keyof typeof COMPILERS))) {
        sent.push(`-- ${name} up`);
        await migration.up(db);
        sent.push(`-- ${name} down`);
        await migration.down?.(db);
      }
      const released = readFileSync(
        new URL(`../fixtures/migrations-ddl/${dialect}.sql`, import.meta.url),
        'utf8',
      );
      expect(`${sent.join('\n')}\n`).toBe(released);
    });
  }
});

// The databases a bench case runs on: a SQLite file in a temporary directory, or a database of its own on the
// machine's MariaDB / PostgreSQL servers (the same servers as the test suite, tests/support/databases.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

export type BenchDatabaseKind = 'sqlite' | 'mysql' | 'postgres';

const MYSQL_ADMIN = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const POSTGRES_ADMIN = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs `body` with the DATABASE_URL of a new, empty database of `kind`, and drops it afterwards. */
export async function withBenchDatabase<T>(
  kind: BenchDatabaseKind,
  body: (url: string) => Promise<T>,
): Promise<T> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-bench-'));
    try {
      return await body(`sqlite:${join(dir, 'bench.db')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const name = `alarmbox_bench_${process.pid}`;
  const url = new URL(kind === 'mysql' ? MYSQL_ADMIN : POSTGRES_ADMIN);
  const admin = url.href;
  url.pathname = `/${name}`;
  if (kind === 'mysql') {
    const conn = await mysql.createConnection(admin);
    await conn.query(`create database ${name}`);
    try {
      return await body(url.href);
    } finally {
      await conn.query(`drop database ${name}`);
      await conn.end();
    }
  }
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  try {
    return await body(url.href);
  } finally {
    // FORCE: the case's child processes may still be closing their connections.
    await client.query(`drop database ${name} with (force)`);
    await client.end();
  }
}

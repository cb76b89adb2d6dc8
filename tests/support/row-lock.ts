// Holds a write lock on row 1 from a separate connection, so that a refresher's save blocks after AlarmBox
// has answered: the moment a crash or a lost database hurts most.
import { DatabaseSync } from 'node:sqlite';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/db/index.ts';

export interface RowLock {
  /** Kills every other connection to the database (a database "lost" mid-refresh). SQLite: nothing to kill. */
  killOthers(): Promise<void>;
  release(): Promise<void>;
}

export async function lockRowOne(target: DatabaseTarget): Promise<RowLock> {
  if (target.dialect === 'sqlite') {
    const db = new DatabaseSync(target.file, { timeout: 5_000 });
    // SQLite locks the whole file for writing: the refresher's UPDATE waits for its busy timeout.
    db.exec('BEGIN IMMEDIATE');
    return {
      killOthers: async () => {},
      release: async () => {
        db.exec('ROLLBACK');
        db.close();
      },
    };
  }
  if (target.dialect === 'mysql') {
    const conn = await mysql.createConnection(target.url);
    await conn.query('BEGIN');
    await conn.query('SELECT id FROM hansha_alarmbox_tokens WHERE id = 1 FOR UPDATE');
    return {
      killOthers: async () => {
        const [rows] = await conn.query(
          'SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()',
        );
        for (const { id } of rows as { id: number }[])
          await conn.query(`KILL ${Number(id)}`).catch(() => undefined);
      },
      release: async () => {
        await conn.query('ROLLBACK');
        await conn.end();
      },
    };
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT id FROM hansha_alarmbox_tokens WHERE id = 1 FOR UPDATE');
  return {
    killOthers: async () => {
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    },
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

// Issue 16 item 3: in `next dev` five edits took PostgreSQL connections from 1 to 5. The globalThis singleton
// of docs/integration.md「next dev とホットリロード」 keeps one instance, so one connection, across re-evaluations.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { openDatabase } from '../../src/db/index.ts';
import { createTestDatabase, describeWithServer, type TestDatabase } from '../support/databases.ts';
import { NodeScript } from '../support/node-scripts.ts';

describeWithServer('postgres', 'one instance per process across hot reloads', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Connections to the test's own database, from any process (the test's counting query excluded). */
  async function connections(): Promise<number> {
    const handle = openDatabase(db.target);
    try {
      const result = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = ${(db.target as { database: string }).database} and pid <> pg_backend_pid()`.execute(
        handle.db,
      );
      return result.rows[0]?.n ?? -1;
    } finally {
      await handle.close();
    }
  }

  async function afterFiveEdits(mode: 'singleton' | 'bare'): Promise<{ instances: string; open: number }> {
    const script = new NodeScript('hot-reload.ts', [mode, '5'], {
      DATABASE_URL: db.url,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('k1'),
    });
    try {
      const ready = await script.waitForLine('ready ');
      const [, instances = '', outcomes = ''] = ready.split(' ');
      // No tables: each read reached the database and was told so (configuration), which is all this needs.
      expect(outcomes.split(',')).toEqual(Array(5).fill('configuration'));
      return { instances, open: await connections() };
    } finally {
      script.send('exit');
      await script.exited();
    }
  }

  it('the documented globalThis singleton: 5 fresh imports, 1 instance, 1 connection', async () => {
    expect(await afterFiveEdits('singleton')).toEqual({ instances: '1', open: 1 });
  });

  it('without it (the control): 5 instances, 5 connections', async () => {
    expect(await afterFiveEdits('bare')).toEqual({ instances: '5', open: 5 });
  });
});

// Every query on MySQL/MariaDB and PostgreSQL has a time limit, and a pool gets over a server that went
// silent or reset its connections: a TCP fault proxy (tests/support/fault-proxy.ts) stands between the
// pool and the real server.
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DatabaseHandle,
  DatabaseUnavailableError,
  type OpenDatabaseOptions,
  openDatabase,
  parseDatabaseUrl,
} from '../../src/db/index.ts';
import { adminUrl, describeWithServer } from '../support/databases.ts';
import { FaultProxy } from '../support/fault-proxy.ts';

const QUERY_TIMEOUT_MS = 800;
const CONNECT_TIMEOUT_MS = 800;
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 2_500;

async function failure(promise: Promise<unknown>): Promise<{ error: DatabaseUnavailableError; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    return { error: error as DatabaseUnavailableError, ms: performance.now() - started };
  }
  throw new Error('expected the query to fail');
}

/** Retries `attempt` until it succeeds, for at most `withinMs`. */
async function eventually(attempt: () => Promise<void>, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

for (const kind of ['mysql', 'postgres'] as const) {
  describeWithServer(kind, `query and connect timeouts through a fault proxy [${kind}]`, () => {
    let proxy: FaultProxy;
    const handles: DatabaseHandle[] = [];
    const open = (options: OpenDatabaseOptions = {}) => {
      const target = parseDatabaseUrl(proxy.rewrite(adminUrl(kind)));
      const handle = openDatabase(target, {
        queryTimeoutMs: QUERY_TIMEOUT_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        ...options,
      });
      handles.push(handle);
      return handle;
    };

    beforeAll(async () => {
      const target = parseDatabaseUrl(adminUrl(kind));
      if (target.dialect === 'sqlite') throw new Error('a server URL is expected');
      proxy = await FaultProxy.start({ host: target.host, port: target.port });
    });
    afterEach(async () => {
      proxy.setMode('pass');
      await Promise.all(handles.splice(0).map((handle) => handle.close()));
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('a server that goes silent mid-session fails the query as temporary within the query timeout, and the pool recovers', async () => {
      const handle = open({ poolSize: 1 });
      await handle.ping();
      const acceptedBefore = proxy.accepted;

      proxy.setMode('silence');
      const { error, ms } = await failure(handle.ping());
      expect(error.reason).toBe('temporary');
      expect(error.code).toBe('QUERY_TIMEOUT');
      expect(error.message).toContain('時間内に応答しませんでした');
      expect(ms).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + SLACK_MS);

      // Right after a timeout the pool does not wait out another one: the next query fails at once.
      const again = await failure(handle.ping());
      expect(again.error.reason).toBe('temporary');
      expect(again.error.message).toContain('時間内に応答しませんでした');
      // Well under one query timeout (what waiting it out would take), with room for a loaded machine.
      expect(again.ms).toBeLessThan(QUERY_TIMEOUT_MS / 2);

      // The server answers again: after the cool-down (one query timeout) the same pool works, on a new
      // connection (the timed-out one was discarded, so nothing queues behind the answer that never came).
      proxy.setMode('pass');
      await eventually(() => handle.ping(), QUERY_TIMEOUT_MS + SLACK_MS);
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    });

    it('a server that is silent from the start fails within the connect timeout', async () => {
      proxy.setMode('silence');
      const handle = open();
      const { error, ms } = await failure(handle.ping());
      expect(error.reason).toBe('temporary');
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + SLACK_MS);
      proxy.setMode('pass');
      await eventually(() => handle.ping(), QUERY_TIMEOUT_MS + SLACK_MS);
    });

    it('closing a pool whose server went silent does not hang', async () => {
      const handle = open({ poolSize: 2 });
      await Promise.all([handle.ping(), handle.ping()]);
      proxy.setMode('silence');
      const started = performance.now();
      await handle.close();
      expect(performance.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + SLACK_MS);
    });

    it('connections reset by the network fail as temporary, and the pool reconnects', async () => {
      const handle = open({ poolSize: 1 });
      await handle.ping();
      proxy.setMode('cut');
      const { error } = await failure(handle.ping());
      expect(error.reason).toBe('temporary');
      proxy.setMode('pass');
      // The pool may still hold the reset connection: its failure discards it.
      await eventually(() => handle.ping(), SLACK_MS);
      await handle.ping();
    });

    it('a slow network is not a timeout', async () => {
      const handle = open({ queryTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
      await handle.ping();
      proxy.setMode('slow', 150);
      const started = performance.now();
      const result = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
      expect(Number(result.rows[0]?.one)).toBe(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    });
  });
}

describe('query timeout defaults', () => {
  it('pools without options still have a timeout (no query waits forever)', async () => {
    const { DEFAULT_DB_QUERY_TIMEOUT_MS, DEFAULT_DB_CONNECT_TIMEOUT_MS } = await import(
      '../../src/db/index.ts'
    );
    expect(DEFAULT_DB_QUERY_TIMEOUT_MS).toBeGreaterThan(0);
    expect(DEFAULT_DB_CONNECT_TIMEOUT_MS).toBeGreaterThan(0);
  });
});

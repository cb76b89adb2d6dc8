// A database that goes silent (no reset, just silence) ends a command with exit 5 and a Japanese message,
// and the worker carries on by itself when the database answers again. Real CLI processes, the real
// MariaDB / PostgreSQL behind a TCP fault proxy, the emulator as AlarmBox.
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { runCli } from '../support/cli.ts';
import { CliProcess, type LogEvent } from '../support/cli-process.ts';
import { createTestDatabase, describeWithServer, type TestDatabase } from '../support/databases.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';
import { until } from '../support/until.ts';

/** Short limits so the suite stays quick; the defaults are covered by the `status` case. */
const SHORT_TIMEOUTS = { ALARMBOX_DB_QUERY_TIMEOUT_MS: '1500', ALARMBOX_DB_CONNECT_TIMEOUT_MS: '1000' };
const ISSUE_LIMIT_MS = 45_000;
const ends = (events: LogEvent[]) => events.filter((e) => e.event === 'end');

for (const kind of ['mysql', 'postgres'] as const) {
  describeWithServer(kind, `a silent database [${kind}]`, () => {
    let emulator: RunningEmulator;
    let database: TestDatabase;
    let proxy: FaultProxy;
    let setup: Registered;
    let env: Record<string, string>;
    const children: CliProcess[] = [];
    const outputs: string[] = [];

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
      database = await createTestDatabase(kind);
      const target = database.target;
      if (target.dialect === 'sqlite') throw new Error('a server database is expected');
      proxy = await FaultProxy.start({ host: target.host, port: target.port });
    });
    afterAll(async () => {
      await proxy?.close();
      await database?.drop();
      await emulator?.close();
    });
    beforeEach(async () => {
      emulator.reset();
      proxy.setMode('pass');
      // The test's own connection goes straight to the server; the CLI's goes through the proxy.
      setup = await openRegistered(emulator, database.url, generateKeySpec('s1'));
      await setup.register();
      // A run cut off by silence could not hand its job lease back: each test starts without leftovers.
      await setup.alarmbox.database.db.deleteFrom(LOCKS_TABLE).execute();
      env = { ...setup.env, DATABASE_URL: proxy.rewrite(database.url) };
    });
    afterEach(async () => {
      for (const child of children.splice(0)) child.kill();
      proxy.setMode('pass');
      await setup.collect();
      expectNoSecrets(outputs.splice(0), setup.secrets);
      await setup.close();
    });

    it(
      'status with the default timeouts: exit 5 and a Japanese message well within 45 s',
      async () => {
        proxy.setMode('silence');
        const started = performance.now();
        const result = await runCli(['status'], env, { timeoutMs: ISSUE_LIMIT_MS + 5_000 });
        const ms = performance.now() - started;
        outputs.push(result.stdout, result.stderr);
        expect(result.code).toBe(5);
        expect(result.stderr).toContain('データベースが時間内に応答しませんでした');
        expect(ms).toBeLessThan(ISSUE_LIMIT_MS);
      },
      ISSUE_LIMIT_MS + 10_000,
    );

    it(
      'refresh-token: the database goes silent while AlarmBox answers, the run ends with exit 5',
      async () => {
        await setup.age(3_600_000);
        // AlarmBox holds the refresh for a moment; the database goes silent meanwhile, so the save meets silence.
        emulator.setFaults({ token: { delayMs: 1_500, times: 1 } });
        const started = performance.now();
        const child = new CliProcess(['refresh-token', '--retries', '0', '--log-format', 'json'], {
          ...env,
          ...SHORT_TIMEOUTS,
        });
        children.push(child);
        await until(() => emulator.stats().faultsInjected.token >= 1, 15_000, 20);
        proxy.setMode('silence');
        const result = await child.exited(ISSUE_LIMIT_MS);
        const ms = performance.now() - started;
        outputs.push(result.stdout, result.stderr);
        expect(emulator.stats().faultsInjected.token).toBe(1);
        expect(result.code).toBe(5);
        expect(result.stdout).toContain('データベースが時間内に応答しませんでした');
        expect(ms).toBeLessThan(ISSUE_LIMIT_MS);
      },
      ISSUE_LIMIT_MS + 10_000,
    );

    it('the worker fails its runs while the database is silent and recovers by itself', async () => {
      await setup.age(3_600_000);
      const worker = new CliProcess(
        ['worker', '--schedule', '*/2 * * * * *', '--timezone', 'UTC', '--retries', '0'],
        { ...env, ...SHORT_TIMEOUTS },
      );
      children.push(worker);
      // A good run first, then silence between two runs (so no refresh is cut off halfway).
      await worker.waitFor((e) => ends(e).some((end) => end.outcome === 'ok'), 20_000);
      proxy.setMode('silence');
      const okBefore = ends(worker.events()).filter((e) => e.outcome === 'ok').length;
      await worker.waitFor((e) => ends(e).some((end) => end.outcome === 'temporary'), 25_000);
      proxy.setMode('pass');
      await worker.waitFor((e) => ends(e).filter((end) => end.outcome === 'ok').length > okBefore, 25_000);
      worker.signal('SIGTERM');
      const result = await worker.exited(20_000);
      outputs.push(result.stdout, result.stderr);
      expect(result.code).toBe(0);
      const failed = ends(worker.events()).find((e) => e.outcome === 'temporary');
      expect(failed?.message).toMatch(/データベース/);
    }, 90_000);
  });
}

// `alarmbox worker` as real processes on a seconds-level schedule against the emulator: refreshes on time,
// survives a failed run, two workers make one refresh per tick, SIGTERM mid-refresh leaves a consistent row
// and no lease behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJobLogger } from '../../src/apps/jobs/logger.ts';
import { refreshTokenJob } from '../../src/apps/jobs/refresh-token-job.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { apiStatus } from '../support/authorize.ts';
import { CliProcess, type LogEvent } from '../support/cli-process.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const EVERY_2S = '*/2 * * * * *';
const ends = (events: LogEvent[]) => events.filter((e) => e.event === 'end');
/** The tick a job event belongs to, in ms since the epoch. */
const tickOf = (e: LogEvent) => Date.parse(String(e.scheduledAt));
const workerArgs = (extra: string[] = []) => [
  'worker',
  '--schedule',
  EVERY_2S,
  '--timezone',
  'UTC',
  '--retries',
  '0',
  ...extra,
];

describe('alarmbox worker (SQLite)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let setup: Registered;
  const workers: CliProcess[] = [];
  const start = (extra: string[] = []) => {
    const w = new CliProcess(workerArgs(extra), setup.env);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  const fresh = async () => {
    emulator.reset();
    dir = await mkdtemp(join(tmpdir(), 'alarmbox-worker-'));
    setup = await openRegistered(emulator, `sqlite:${join(dir, 'tokens.db')}`, generateKeySpec('w1'), {
      ALARMBOX_HTTP_TIMEOUT_MS: '4000',
    });
    await setup.register();
    await setup.age(3_600_000);
  };
  afterEach(async () => {
    for (const w of workers.splice(0)) w.kill();
    await setup?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refreshes on time, survives a failed run, and logs its reason without a secret', async () => {
    await fresh();
    emulator.setFaults({ token: { status: 500, times: 1 } });
    const worker = start();
    const events = await worker.waitFor((e) => ends(e).length >= 3, 20_000);
    worker.signal('SIGTERM');
    const result = await worker.exited();
    expect(result.code).toBe(0);
    await setup.collect();

    const [failed, ...succeeded] = ends(events);
    expect(failed).toMatchObject({
      severity: 'ERROR',
      outcome: 'temporary',
      reason: 'temporary',
      action: 'retry_later',
      exitCode: 5,
    });
    expect(failed?.message).toContain('APIエラー: 500');
    expect(succeeded.slice(0, 2).map((e) => e.outcome)).toEqual(['ok', 'ok']);
    // On time: every run starts within a second of its tick, and the ticks are 2 s apart.
    const starts = events.filter((e) => e.event === 'start');
    for (const s of starts) {
      const lateMs = Date.parse(s.time) - tickOf(s);
      expect(lateMs).toBeGreaterThanOrEqual(-50);
      expect(lateMs).toBeLessThan(1_000);
    }
    const ticks = starts.map(tickOf);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBe(2_000);
    expect(emulator.stats().tokenRequests.refresh_token.ok, 'refreshes at AlarmBox').toBe(
      ends(events).length - 1,
    );
    expect(worker.events().at(-1)).toMatchObject({ event: 'worker_stop', result: 'idle' });
    expectNoSecrets([result.stdout, result.stderr], setup.secrets);

    const history = await setup.alarmbox.history.recent(10);
    expect(history.map((h) => [h.trigger, h.outcome]).slice(-3)).toEqual([
      ['batch', 'ok'],
      ['batch', 'ok'],
      ['batch', 'temporary'],
    ]);
  });

  it('SIGTERM during a refresh: the run finishes, the row is consistent and no lease is left', async () => {
    await fresh();
    const before = await setup.alarmbox.store.getInstance();
    emulator.setFaults({ token: { delayMs: 1_500, times: 1 } });
    const worker = start();
    await worker.waitFor((e) => e.some((x) => x.event === 'start'));
    await new Promise((resolve) => setTimeout(resolve, 400)); // inside the token request now
    worker.signal('SIGTERM');
    const result = await worker.exited(10_000);
    expect(result.code).toBe(0);
    const events = worker.events();
    expect(ends(events)).toHaveLength(1);
    expect(ends(events)[0]).toMatchObject({ outcome: 'ok', code: 'refreshed' });
    expect(events.at(-1)).toMatchObject({ event: 'worker_stop', result: 'finished' });

    const after = await setup.alarmbox.store.getInstance();
    expect(after.version).toBe(before.version + 1);
    expect(await apiStatus(emulator, after.getDecryptedAccessToken())).toBe(200);
    expect(await setup.alarmbox.database.db.selectFrom(LOCKS_TABLE).selectAll().execute()).toEqual([]);
    await setup.collect();
    expectNoSecrets([result.stdout, result.stderr], setup.secrets);
  });

  it('SIGTERM with a run that outlives the grace period: abandons the job, yet saves the pair AlarmBox issued and frees both leases', async () => {
    await fresh();
    const before = await setup.alarmbox.store.getInstance();
    emulator.setFaults({ token: { delayMs: 3_000, times: 1 } });
    const worker = start(['--shutdown-grace', '300ms']);
    await worker.waitFor((e) => e.some((x) => x.event === 'start'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    worker.signal('SIGTERM');
    const result = await worker.exited(10_000);
    expect(result.code, result.stdout).toBe(5);
    expect(worker.events().some((e) => e.event === 'worker_abandoned')).toBe(true);
    // The token request was already at AlarmBox: its answer is saved before the process ends.
    const after = await setup.alarmbox.store.getInstance();
    expect(after.version).toBe(before.version + 1);
    expect(after.getDecryptedRefreshToken()).not.toBe(before.getDecryptedRefreshToken());
    expect(emulator.stats().tokenRequests.refresh_token, 'refreshes at AlarmBox').toEqual({ ok: 1 });
    const leases = await setup.alarmbox.database.db.selectFrom(LOCKS_TABLE).select('name').execute();
    expect(leases.map((l) => l.name)).toEqual([]);
  });

  it('refuses a malformed schedule or time zone with exit 2', async () => {
    await fresh();
    const bad = new CliProcess(['worker', '--schedule', 'every noon'], setup.env);
    const r1 = await bad.exited();
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--schedule');
    const zone = new CliProcess(['worker', '--timezone', 'Mars/Olympus'], setup.env);
    const r2 = await zone.exited();
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('Asia/Tokyo');
  });
});

describe('the refresh job, for a tick of the worker', () => {
  it("counts a refresh saved since the tick's scheduled time as this tick's, however late the run looks", async () => {
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-tick-'));
    const setup = await openRegistered(emulator, `sqlite:${join(dir, 'tokens.db')}`, generateKeySpec('t1'));
    try {
      await setup.register();
      const job = refreshTokenJob();
      const tick = new Date(Date.now() - 5_000);
      // Another worker's run for the same tick refreshed, then this run got to look past the fresh window.
      await setup.alarmbox.tokens.refresh({ force: true });
      await sleep(20);
      const context = {
        alarmbox: setup.alarmbox,
        logger: createJobLogger('json', () => {}),
        signal: new AbortController().signal,
        freshWindowMs: 10,
      };
      const requests = () => emulator.stats().tokenRequests.refresh_token.ok ?? 0;
      const before = requests();
      expect(await job.run({ ...context, scheduledAt: tick })).toMatchObject({
        outcome: 'skipped',
        code: 'fresh',
      });
      expect(requests(), 'a fresh tick sends no token request').toBe(before);
      // A run without a tick (a scheduler's job) goes by the window alone: past it, it refreshes.
      expect(await job.run(context)).toMatchObject({ outcome: 'ok', code: 'refreshed' });
      // The next tick is not done yet.
      await sleep(20);
      expect(await job.run({ ...context, scheduledAt: new Date() })).toMatchObject({
        outcome: 'ok',
        code: 'refreshed',
      });
      expect(requests()).toBe(before + 2);
    } finally {
      await setup.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeEachDatabase(
  'two workers at once',
  (fixture) => {
    let emulator: RunningEmulator;
    let setup: Registered;
    const workers: CliProcess[] = [];

    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
      setup = await openRegistered(emulator, fixture.url, generateKeySpec('w2'));
      await setup.register();
      await setup.age(3_600_000);
    });
    afterAll(async () => {
      for (const w of workers) w.kill();
      await setup?.close();
      await emulator?.close();
    });

    it('produce one refresh per tick', async () => {
      workers.push(new CliProcess(workerArgs(), setup.env), new CliProcess(workerArgs(), setup.env));
      await Promise.all(workers.map((w) => w.waitFor((e) => e.some((x) => x.event === 'worker_start'))));
      const firstTick = Math.max(
        ...workers.map((w) => Date.parse((w.events()[0]?.nextRuns as string[] | undefined)?.[0] ?? '')),
      );
      const ticksOf = (w: CliProcess) =>
        new Set(
          ends(w.events())
            .map(tickOf)
            .filter((tick) => tick >= firstTick),
        );
      // Three ticks both workers ran. On a loaded machine a run may outlast the 2 s interval, and that
      // worker then skips the next tick (tick_skipped, no run): only ticks both ran are compared.
      const common = () => {
        const [a, b] = workers.map(ticksOf);
        return [...(a ?? [])].filter((tick) => b?.has(tick) === true);
      };
      await workers[0]!.waitFor(() => common().length >= 3, 30_000);
      // Taken before the stop: a tick under way when SIGTERM arrives ends `temporary`, as it should.
      const compared = common();
      for (const w of workers) w.signal('SIGTERM');
      const results = await Promise.all(workers.map((w) => w.exited()));
      for (const r of results) expect(r.code, r.stderr).toBe(0);

      const all = workers.flatMap((w) => ends(w.events()));
      // Per tick ran by both: at most one refresh, and the other run skipped, never failed. Both may skip when
      // the previous tick's refresh ended less than the fresh window (1 s) ago: on a loaded machine it does.
      for (const tick of compared) {
        const runs = all.filter((e) => tickOf(e) === tick);
        expect(runs, JSON.stringify(runs)).toHaveLength(2);
        expect(runs.filter((e) => e.outcome === 'ok').length, JSON.stringify(runs)).toBeLessThanOrEqual(1);
        for (const skipped of runs.filter((e) => e.outcome !== 'ok')) {
          expect(skipped.outcome, JSON.stringify(runs)).toBe('skipped');
          expect(['overlap', 'fresh']).toContain(skipped.code);
        }
      }
      // Never two refreshes for one tick, whichever worker ran it; and the workers did refresh.
      for (const tick of new Set(all.map(tickOf))) {
        const refreshed = all.filter((e) => tickOf(e) === tick && e.outcome === 'ok');
        expect(refreshed.length).toBeLessThanOrEqual(1);
      }
      expect(all.some((e) => e.outcome === 'ok')).toBe(true);
      const oks = all.filter((e) => e.outcome === 'ok').length;
      expect(emulator.stats().tokenRequests.refresh_token, 'refreshes at AlarmBox').toEqual({ ok: oks });
      await setup.collect();
      expectNoSecrets(
        results.flatMap((r) => [r.stdout, r.stderr]),
        setup.secrets,
      );
    });
  },
  { concurrentKinds: true },
);

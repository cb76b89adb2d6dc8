// `alarmbox refresh-token` as the scheduled job: exit codes 0 / 2 / 3 / 4 / 5, bounded retries with backoff
// inside the time budget, the overlap guard (wait, then exit 5), per-tick idempotency, structured logs without secrets, and the
// refresh history that `status` shows. Real CLI processes against the emulator and a SQLite file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/alarmbox/token-service.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { LOCKS_TABLE } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { LockManager } from '../../src/lock/index.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { CliProcess, type LogEvent, logEvents } from '../support/cli-process.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';

const CLIENT_SECRET = 'job-test-client-secret-value';
const outputs: string[] = [];
const allSecrets = new Set<string>([CLIENT_SECRET]);

describe('refresh-token as a job (SQLite)', () => {
  let emulator: RunningEmulator;
  let dir: string;
  let setup: Registered;

  const cli = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
    const r = await runCli(['refresh-token', ...args], { ...setup.env, ...extra });
    outputs.push(r.stdout, r.stderr);
    await setup.collect();
    return r;
  };
  const json = async (args: string[], extra: Record<string, string> = {}) => {
    const r = await cli(['--log-format', 'json', ...args], extra);
    const events = logEvents(r.stdout);
    for (const e of events) {
      expect(typeof e.severity).toBe('string');
      expect(typeof e.message).toBe('string');
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    const end = events.find((e) => e.event === 'end');
    if (end === undefined) throw new Error(`no end event: ${r.stdout} ${r.stderr}`);
    return { ...r, events, end };
  };
  const refreshes = () => emulator.stats().tokenRequests.refresh_token;
  const version = async () => (await setup.alarmbox.store.getInstance()).version;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, clientSecret: CLIENT_SECRET });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    dir = await mkdtemp(join(tmpdir(), 'alarmbox-job-'));
    setup = await openRegistered(emulator, `sqlite:${join(dir, 'tokens.db')}`, generateKeySpec('j1'), {
      ALARMBOX_HTTP_TIMEOUT_MS: '1500',
    });
  });
  afterEach(async () => {
    for (const s of setup.secrets) allSecrets.add(s);
    await setup.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 0: refreshes and logs one JSON line per event; status shows the batch in the history', async () => {
    await setup.register();
    const r = await json([]);
    expect(r.code).toBe(0);
    expect(r.events.map((e) => e.event)).toEqual(['start', 'end']);
    expect(r.end).toMatchObject({
      severity: 'INFO',
      job: 'refresh-token',
      outcome: 'ok',
      code: 'refreshed',
      exitCode: 0,
      attempts: 1,
    });
    expect(r.end.durationMs).toEqual(expect.any(Number));
    expect(refreshes(), 'refreshes at AlarmBox').toEqual({ ok: 1 });

    const status = await runCli(['status', '--json'], setup.env);
    outputs.push(status.stdout);
    const report = JSON.parse(status.stdout) as {
      consecutiveFailures: number;
      lastBatchSuccessAt: string | null;
      history: { trigger: string; outcome: string; durationMs: number }[];
    };
    expect(report.consecutiveFailures).toBe(0);
    expect(report.lastBatchSuccessAt).not.toBeNull();
    expect(report.history[0]).toMatchObject({ trigger: 'batch', outcome: 'ok' });
  });

  it('retries a temporary failure with backoff and succeeds; a lasting one ends with exit 5 after the bounded retries', async () => {
    await setup.register();
    emulator.setFaults({ token: { status: 500, times: 1 } });
    const recovered = await json(['--retries=2', '--retry-delay=100ms']);
    expect(recovered.code).toBe(0);
    expect(recovered.events.map((e) => e.event)).toEqual(['start', 'retry', 'end']);
    const retry = recovered.events[1]!;
    expect(retry).toMatchObject({ severity: 'WARNING', reason: 'temporary', attempt: 1 });
    expect(retry.delayMs).toBeGreaterThanOrEqual(50);
    expect(retry.delayMs).toBeLessThanOrEqual(100);
    expect(recovered.end).toMatchObject({ outcome: 'ok', attempts: 2 });
    expect(refreshes(), 'refreshes at AlarmBox').toEqual({ ok: 1 });

    const before = await version();
    emulator.setFaults({ token: { status: 503 } });
    const failed = await json(['--retries=2', '--retry-delay=50ms']);
    expect(failed.code).toBe(5);
    expect(failed.events.filter((e) => e.event === 'retry')).toHaveLength(2);
    expect(failed.end).toMatchObject({
      severity: 'ERROR',
      outcome: 'temporary',
      reason: 'temporary',
      action: 'retry_later',
      exitCode: 5,
      attempts: 3,
    });
    expect(failed.end.message).toContain('APIエラー: 503');
    expect(emulator.stats().faultsInjected.token, 'token faults injected').toBe(4);
    expect(await version()).toBe(before);

    // The time budget bounds the retries: a pause that would end past it is not taken.
    const budget = await json(['--retries=5', '--retry-delay=2s', '--timeout=1s']);
    expect(budget.code).toBe(5);
    expect(budget.end).toMatchObject({ attempts: 1, reason: 'temporary' });
    expect(budget.end.message).toContain('時間の上限');
    emulator.setFaults({});

    const status = JSON.parse((await runCli(['status', '--json'], setup.env)).stdout) as {
      consecutiveFailures: number;
      history: { trigger: string; outcome: string; message: string | null }[];
    };
    expect(status.consecutiveFailures).toBe(4);
    expect(status.history[0]).toMatchObject({ trigger: 'batch', outcome: 'temporary' });
    expect(status.history[0]?.message).toContain('503');
    outputs.push(JSON.stringify(status));
  });

  it('exit 4: re-authorization required, logged with its reason, not retried, no secret', async () => {
    await setup.register();
    emulator.reset(); // AlarmBox forgot every token: the stored refresh token is dead
    const r = await json(['--retries=2', '--retry-delay=50ms']);
    expect(r.code).toBe(4);
    expect(r.events.some((e) => e.event === 'retry')).toBe(false);
    expect(r.end).toMatchObject({
      severity: 'ERROR',
      reason: 'reauthorization_required',
      action: 'reauthorize',
      exitCode: 4,
    });
    expect(r.end.message).toContain('alarmbox authorize-url');
    const text = await cli([]);
    expect(text.code).toBe(4);
    expect(text.stdout).toContain('トークンを更新中...');
    expect(text.stderr).toContain('リフレッシュトークンが無効');
  });

  it('exit 3: nothing registered', async () => {
    const r = await json([]);
    expect(r.code).toBe(3);
    expect(r.end).toMatchObject({ reason: 'not_registered', action: 'register', exitCode: 3 });
    expect(r.end.message).toContain('save-token');
  });

  it('exit 2: wrong client secret (not retried), and a run that cannot start is still one JSON line', async () => {
    await setup.register();
    const wrong = await json(['--retries=2'], { ALARMBOX_CLIENT_SECRET: 'wrong-secret-value-123' });
    expect(wrong.code).toBe(2);
    expect(wrong.end).toMatchObject({ reason: 'client_configuration', action: 'fix_configuration' });
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-secret-value-123');

    const unmigrated = await json([], { DATABASE_URL: `sqlite:${join(dir, 'empty.db')}` });
    expect(unmigrated.code).toBe(2);
    expect(unmigrated.events).toHaveLength(1);
    expect(unmigrated.end).toMatchObject({ severity: 'ERROR', reason: 'configuration', exitCode: 2 });
    expect(unmigrated.end.message).toContain('alarmbox migrate');

    const badOption = await cli(['--retries', 'many']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('--retries');
  });

  it('two executions never overlap: while a live execution holds the refresh lease, another waits, then exits 5 having done nothing', async () => {
    await setup.register();
    // This test process is alive: its lease is waited for, never taken over.
    const lease = await new LockManager(setup.alarmbox.database, {
      name: TokenService.LOCK_NAME,
      leaseMs: 30_000,
    }).acquire({ waitMs: 0 });
    try {
      const started = performance.now();
      const r = await json(['--retries=0'], { ALARMBOX_LOCK_WAIT_MS: '1000' });
      expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(r.code).toBe(5);
      expect(r.end).toMatchObject({ outcome: 'lock_timeout', action: 'retry_later', exitCode: 5 });
      expect(r.end.message).toContain(lease.owner);
      const text = await cli(['--retries=0'], { ALARMBOX_LOCK_WAIT_MS: '1000' });
      expect(text.code).toBe(5);
      expect(text.stderr).toContain(TokenService.LOCK_NAME);
      expect(refreshes(), 'refreshes at AlarmBox').toEqual({});
    } finally {
      await lease.release();
    }
  });

  it('an execution that waited for another one runs once that one is done', async () => {
    await setup.register();
    const lease = await new LockManager(setup.alarmbox.database, {
      name: TokenService.LOCK_NAME,
      leaseMs: 30_000,
    }).acquire({ waitMs: 0 });
    const waiting = json([], { ALARMBOX_LOCK_WAIT_MS: '20000' });
    await new Promise((r) => setTimeout(r, 1_500));
    await lease.release();
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.end).toMatchObject({ outcome: 'ok', code: 'refreshed', exitCode: 0 });
    expect(refreshes(), 'refreshes at AlarmBox').toEqual({ ok: 1 });
  });

  it('--skip-if-fresh: a second execution of the same tick (a duplicate trigger) does nothing', async () => {
    await setup.register();
    expect((await json(['--skip-if-fresh=1h'])).end).toMatchObject({ outcome: 'skipped', code: 'fresh' });
    expect(refreshes(), 'refreshes at AlarmBox').toEqual({});
    await setup.alarmbox.database.db
      .updateTable('hansha_alarmbox_tokens')
      .set({ updated_at: new Date(Date.now() - 2 * 3_600_000).toISOString() })
      .execute();
    expect((await json(['--skip-if-fresh=1h'])).end).toMatchObject({ outcome: 'ok', code: 'refreshed' });
    const again = await cli(['--skip-if-fresh', '1h']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('更新済みのため');
    expect(refreshes(), 'refreshes at AlarmBox').toEqual({ ok: 1 });
  });

  it('SIGTERM while waiting to retry: exits at once with 5 and gives the lease back', async () => {
    await setup.register();
    emulator.setFaults({ token: { status: 503 } });
    const job = new CliProcess(
      ['refresh-token', '--log-format=json', '--retries=3', '--retry-delay=20s'],
      setup.env,
    );
    try {
      await job.waitFor((events) => events.some((e: LogEvent) => e.event === 'retry'));
      const sentAt = performance.now();
      job.signal('SIGTERM');
      const result = await job.exited(5_000);
      outputs.push(result.stdout, result.stderr);
      expect(performance.now() - sentAt).toBeLessThan(3_000);
      expect(result.code).toBe(5);
      const end = logEvents(result.stdout).find((e) => e.event === 'end');
      expect(end).toMatchObject({ reason: 'temporary', attempts: 1 });
      expect(end?.message).toContain('停止の要求');
      expect(await setup.alarmbox.database.db.selectFrom(LOCKS_TABLE).selectAll().execute()).toEqual([]);
    } finally {
      job.kill();
      emulator.setFaults({});
    }
  });

  it('no output above holds a token, a code or the client secret', () => {
    expect(outputs.length).toBeGreaterThan(20);
    expect(allSecrets.size).toBeGreaterThan(10);
    expectNoSecrets(outputs, allSecrets);
  });
});

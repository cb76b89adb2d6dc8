// `alarmbox status --json` as a probe runs it: the CLI bundle as a child process on every database, against the
// emulator over HTTP. Each health state gives its exit code (0, 3, 4, 5) with the JSON on stdout and the same
// keys every time, a database that never answers gives exit 5 within the bound, and no secret reaches the output.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { REFRESH_HISTORY_TABLE, TOKENS_TABLE } from '../../src/db/schema.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { emulatorEnv } from '../support/alarmbox.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from '../support/registered.ts';
import { type SilentListener, silentListener } from '../support/silent-listener.ts';

/** The keys `status --json` prints in every case (monitoring parses them). */
const KEYS = [
  'registered',
  'expiredAt',
  'secondsRemaining',
  'updatedAt',
  'scope',
  'lastRefreshAt',
  'lastRefreshOutcome',
  'lastError',
  'env',
  'baseUrl',
  'database',
  'databaseServer',
  'consecutiveFailures',
  'lastBatchSuccessAt',
  'history',
  'health',
  'exitCode',
];

interface StatusJson {
  readonly registered: boolean | null;
  readonly exitCode: number;
  readonly health: {
    readonly status: string;
    readonly ready: boolean;
    readonly reason: string | null;
    readonly checks: Record<
      string,
      { readonly status: string; readonly state: string; readonly message: string | null }
    >;
  };
}

/** The JSON on stdout, with its keys checked and the exit code it claims matched against the real one. */
function parsed(result: CliResult): StatusJson {
  const json = JSON.parse(result.stdout) as StatusJson;
  expect(Object.keys(json), 'the same keys in every case').toEqual(KEYS);
  expect(json.exitCode, 'the JSON names the exit code').toBe(result.code);
  return json;
}

describeEachDatabase('status --json as a probe', (fixture) => {
  let emulator: RunningEmulator;
  let setup: Registered;
  const outputs: string[] = [];
  const status = async (args: readonly string[] = []) => {
    const result = await runCli(['status', '--json', ...args], setup.env);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  /** A real refresh through the emulator that fails as `fault` makes it (row 1 records the reason). */
  const failedRefresh = async (fault: Parameters<RunningEmulator['setFaults']>[0]) => {
    emulator.setFaults(fault);
    await setup.alarmbox.tokens.refresh({ force: true }).catch(() => undefined);
    await setup.alarmbox.history.flush();
    emulator.setFaults({});
  };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    setup = await openRegistered(emulator, fixture.url, generateKeySpec('k1'));
  });
  afterAll(async () => {
    await setup?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    await setup.alarmbox.database.db.deleteFrom(TOKENS_TABLE).execute();
    await setup.alarmbox.database.db.deleteFrom(REFRESH_HISTORY_TABLE).execute();
  });
  afterEach(async () => {
    await setup.collect();
    expectNoSecrets(outputs.splice(0), setup.secrets);
  });

  it('nothing registered: exit 3, down, not_registered', async () => {
    const result = await status();
    expect(result.code).toBe(3);
    const json = parsed(result);
    expect(json.registered).toBe(false);
    expect(json.health).toMatchObject({ status: 'down', ready: false, reason: 'not_registered' });
  });

  it('a fresh pair: exit 0, ok', async () => {
    await setup.register();
    const result = await status();
    expect(result.code).toBe(0);
    expect(parsed(result).health).toMatchObject({ status: 'ok', ready: true, reason: null });
  });

  it('the last refresh failed temporarily, the token lives: exit 0, degraded', async () => {
    await setup.register();
    await failedRefresh({ token: { status: 503 } });
    const result = await status();
    expect(result.code).toBe(0);
    expect(parsed(result).health).toMatchObject({ status: 'degraded', ready: true, reason: null });
  });

  it('expired and the last refresh failed temporarily: exit 5', async () => {
    await setup.register();
    await failedRefresh({ token: { status: 503 } });
    await setup.alarmbox.store.markExpired();
    const result = await status();
    expect(result.code).toBe(5);
    expect(parsed(result).health).toMatchObject({ status: 'down', reason: 'temporary' });
  });

  it('the chain is dead (invalid_grant): exit 4 even while the access token lives', async () => {
    await setup.register();
    await failedRefresh({ token: { oauthError: { error: 'invalid_grant' } } });
    const result = await status();
    expect(result.code).toBe(4);
    const json = parsed(result);
    expect(json.health).toMatchObject({
      status: 'degraded',
      ready: true,
      reason: 'reauthorization_required',
    });
    expect(json.health.checks.lastRefresh?.message).toContain('alarmbox save-token');
  });

  it('the plain status shows the health and exits the same', async () => {
    await setup.register();
    await failedRefresh({ token: { oauthError: { error: 'invalid_grant' } } });
    const result = await runCli(['status'], setup.env);
    outputs.push(result.stdout, result.stderr);
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('状態:           要注意');
    expect(result.stdout).toContain('再認可してください');
  });
});

describe('status --json when nothing can be read', () => {
  let emulator: RunningEmulator;
  let listener: SilentListener;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
    listener = await silentListener();
  });
  afterAll(async () => {
    await listener?.close();
    await emulator?.close();
  });

  for (const scheme of ['postgres', 'mysql'] as const) {
    it(`a ${scheme} server that never answers: exit 5 within --timeout, JSON on stdout`, async () => {
      const env = emulatorEnv(
        emulator,
        `${scheme}://user:pa55word@127.0.0.1:${listener.port}/db`,
        generateKeySpec('k1'),
        // The pool's own limits are far beyond --timeout: the bound must come from the health check.
        { ALARMBOX_DB_CONNECT_TIMEOUT_MS: '4000', ALARMBOX_DB_QUERY_TIMEOUT_MS: '30000' },
      );
      const started = performance.now();
      const result = await runCli(['status', '--json', '--timeout', '1s'], env, { timeoutMs: 20_000 });
      const ms = performance.now() - started;
      expect(result.code).toBe(5);
      const json = parsed(result);
      expect(json.registered).toBeNull();
      expect(json.health).toMatchObject({ status: 'down', ready: false, reason: 'temporary' });
      expect(json.health.checks.database).toMatchObject({ status: 'fail', state: 'timeout' });
      expect(result.stderr).toContain('データベースが時間内に応答しませんでした');
      expect(result.stdout + result.stderr).not.toContain('pa55word');
      expect(result.stdout + result.stderr).not.toContain(emulator.options.clientSecret);
      // --timeout bounds the run's own connect attempt too: the process ends soon after its answer.
      expect(ms, 'the process ends within --timeout plus start-up').toBeLessThan(3_500);
    }, 25_000);
  }

  it('a configuration error: exit 2, the JSON still printed', async () => {
    const result = await runCli(['status', '--json'], { DATABASE_URL: 'oracle://x/y', ALARMBOX_ENV: 'dev' });
    expect(result.code).toBe(2);
    const json = parsed(result);
    expect(json.health).toMatchObject({ status: 'down', reason: 'configuration' });
    expect(result.stderr).toContain('DATABASE_URL の形式が正しくありません');
  });

  it('--timeout out of range: exit 2 and the fix', async () => {
    const result = await runCli(['status', '--json', '--timeout', '10ms'], { ALARMBOX_ENV: 'dev' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout は 100ms から 60s までで指定してください');
  });
});

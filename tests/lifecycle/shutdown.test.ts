// SIGTERM under load (issue 16 item 5) and the route's error answers (item 8), through a real app process: the
// recipes of docs/integration.md as tests/fixtures/draining-server.ts runs them, against the emulator.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { TOKENS_TABLE } from '../../src/db/schema.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { createAlarmbox } from '../../src/index.ts';
import { emulatorEnv } from '../support/alarmbox.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { NodeScript } from '../support/node-scripts.ts';
import { until } from '../support/until.ts';

let emulator: RunningEmulator;
let database: TestDatabase;
const keys = generateKeySpec('shutdown-test');

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  database = await createTestDatabase('sqlite');
});

afterAll(async () => {
  await emulator.close();
  await database.drop();
});

beforeEach(async () => {
  emulator.reset();
  const alarmbox = createAlarmbox({
    env: 'dev',
    databaseUrl: database.url,
    encryptionKeys: keys,
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
  });
  await alarmbox.migrate();
  await alarmbox.exchangeCode(emulator.issueAuthorizationCode());
  await alarmbox.close();
});

async function startApp(env: Record<string, string> = {}): Promise<{ app: NodeScript; url: string }> {
  const app = new NodeScript('draining-server', [], emulatorEnv(emulator, database.url, keys, env));
  const port = (await app.waitForLine('listening ')).split(' ')[1];
  return { app, url: `http://127.0.0.1:${port}` };
}

interface Answer {
  readonly status: number | 'socket error';
  readonly body?: Record<string, unknown>;
  readonly retryAfter?: string | null;
}

async function purchase(url: string, corporation: string): Promise<Answer> {
  try {
    const res = await fetch(`${url}/purchase?corporation=${corporation}`, { method: 'POST' });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      retryAfter: res.headers.get('retry-after'),
    };
  } catch {
    return { status: 'socket error' };
  }
}

/** 40 concurrent purchases, SIGTERM once AlarmBox (slow) has all of them in hand. */
async function sigtermUnderLoad(env: Record<string, string> = {}) {
  const { app, url } = await startApp(env);
  emulator.setFaults({ api: { delayMs: 800 } });
  const corporations = Array.from({ length: 40 }, (_, i) => String(1_000_000_000_001 + i));
  const answers = Promise.all(corporations.map((c) => purchase(url, c)));
  await until(() => emulator.stats().faultsInjected.api >= 40, 10_000);
  app.child.kill('SIGTERM');
  const [result, got] = await Promise.all([app.exited(20_000), answers]);
  // Every purchase AlarmBox completed, by the emulator's count.
  await until(() => (emulator.stats().apiRequests.ok ?? 0) >= 40, 10_000);
  return { result, got, completed: emulator.stats().apiRequests.ok ?? 0 };
}

describe('SIGTERM with 40 purchases in flight', () => {
  it('the draining recipe: every client gets its answer, every completed purchase is reported, exit 0', async () => {
    const { result, got, completed } = await sigtermUnderLoad();
    expect(result.code).toBe(0);
    expect(completed).toBe(40);
    expect(got.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(got.map((a) => a.body?.id)).size).toBe(40);
  }, 60_000);

  it('the snippet README had before (close() then exit at once) loses the answers of completed purchases', async () => {
    const { got, completed } = await sigtermUnderLoad({ SHUTDOWN_RECIPE: 'close-and-exit' });
    expect(completed).toBe(40);
    const lost = got.filter((a) => a.status !== 200).length;
    expect(lost).toBeGreaterThan(0);
  }, 60_000);
});

describe('the route example maps each reason to an answer', () => {
  it('temporary: 503 with Retry-After (AlarmBox refused a purchase with 429 and Retry-After: 7)', async () => {
    const { app, url } = await startApp();
    emulator.setFaults({ api: { status: 429, retryAfter: 7, times: 1 } });
    expect(await purchase(url, '1000000000001')).toEqual({
      status: 503,
      body: { error: 'temporary' },
      retryAfter: '7',
    });
    // A 5xx after a purchase was sent: its outcome is unknown, so the caller is told not to retry.
    emulator.setFaults({ api: { status: 502, times: 1 } });
    expect(await purchase(url, '1000000000001')).toMatchObject({
      status: 502,
      body: { error: 'outcome_unknown', retry: false },
    });
    // The request itself is wrong (a corporation number is 13 digits): 400, nothing sent.
    expect(await purchase(url, '12')).toMatchObject({ status: 400, body: { error: 'usage' } });
    app.child.kill('SIGTERM');
    expect((await app.exited()).code).toBe(0);
  }, 30_000);

  it('reauthorization_required and not_registered: 503 with the re-authorization notice', async () => {
    const { app, url } = await startApp();
    // AlarmBox forgot every grant: the stored refresh token is dead once the access token is expired.
    const wired = createToolkit({ env: 'dev', databaseUrl: database.url, encryptionKeys: keys });
    await wired.store.markExpired();
    emulator.reset();
    expect(await purchase(url, '1000000000001')).toMatchObject({
      status: 503,
      body: { error: 'reauthorization_required', notice: 'AlarmBox の再連携が必要です' },
    });
    await wired.database.db.deleteFrom(TOKENS_TABLE).execute();
    await wired.close();
    expect(await purchase(url, '1000000000001')).toMatchObject({
      status: 503,
      body: { error: 'not_registered', notice: 'AlarmBox の再連携が必要です' },
    });
    app.child.kill('SIGTERM');
    expect((await app.exited()).code).toBe(0);
  }, 30_000);
});

describe('docs/integration.md', () => {
  const fixture = readFileSync(new URL('../fixtures/draining-server.ts', import.meta.url), 'utf8');
  it.each(['error-response', 'shutdown'])('shows the region %s of the tested fixture verbatim', (name) => {
    const region = new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}`).exec(fixture)?.[1];
    expect(region).toBeDefined();
    const docs = readFileSync(new URL('../../docs/integration.md', import.meta.url), 'utf8');
    expect(docs).toContain((region ?? '').trim());
  });
});

// Unbounded input: an endless body from AlarmBox (token endpoint or API) is a temporary error (exit 5), read
// no further than 1 MiB; every duration setting is checked against what Node can honour (exit 2, Japanese).
import { mkdtempSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import { AlarmboxApiUnavailableError } from '../../src/api/errors.ts';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { HUGE_BODY_BYTES } from '../../src/emulator/faults.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { MAX_RESPONSE_BYTES } from '../../src/http/body.ts';
import { useEmulatorWorld } from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { expectReason, expectReasonOf, rejectionOf } from '../support/rejections.ts';

describe('bodies past the 1 MiB limit (SQLite)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let env: Record<string, string>;
  const keys = generateKeySpec('b1');

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-bounds-')), 'bounds.db')}`,
      keys,
      alarmbox: { httpTimeoutMs: 20_000 },
    },
    (world) => {
      ({ emulator, alarmbox, env } = world);
    },
  );

  it('the emulator streams far more than the limit', () => {
    expect(HUGE_BODY_BYTES).toBeGreaterThan(500 * MAX_RESPONSE_BYTES);
  });

  it('token endpoint: a temporary error within a second, memory bounded, nothing stored changes', async () => {
    const before = (await alarmbox.store.getInstance()).version;
    emulator.setFaults({ token: { body: 'huge', times: 1 } });
    const heap = process.memoryUsage().rss;
    const started = Date.now();
    const e = await expectReason(
      alarmbox.tokens.refresh({ force: true }),
      'temporary',
      AlarmboxTokenExpiredError,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - heap).toBeLessThan(64 * 1024 * 1024);
    expect(e.message).toContain('上限');
    expect((await alarmbox.store.getInstance()).version).toBe(before);
  });

  it('API GET: a temporary error (AlarmboxApiUnavailableError) within seconds', async () => {
    emulator.setFaults({ api: { body: 'huge' } });
    const started = Date.now();
    const e = await rejectionOf(alarmbox.api.creditChecks.get(1));
    emulator.setFaults({});
    expect(Date.now() - started).toBeLessThan(15_000);
    expectReasonOf(e, 'temporary', AlarmboxApiUnavailableError);
  });

  it('CLI: access-token and credit-check exit 5 on a huge answer', async () => {
    await alarmbox.store.markExpired();
    emulator.setFaults({ token: { body: 'huge', times: 1 } });
    const token = await runCli(['access-token'], env);
    expect(token.code).toBe(5);
    expect(token.stderr).toContain('上限');
    emulator.setFaults({ api: { status: 503, body: 'huge' } });
    const api = await runCli(['credit-check', '--id', '1'], { ...env, ALARMBOX_HTTP_TIMEOUT_MS: '20000' });
    expect(api.code).toBe(5);
  });
});

describe('duration settings Node can honour', () => {
  it.each([
    ['ALARMBOX_HTTP_TIMEOUT_MS', '3000000000'],
    ['ALARMBOX_HTTP_TIMEOUT_MS', '600001'],
    ['ALARMBOX_LOCK_WAIT_MS', '2147483648'],
    ['ALARMBOX_FALLBACK_EXPIRES_IN', '99999999999'],
  ])('%s=%s is refused with a Japanese message naming the bound', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({}, { [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(variable);
    expect((error as ConfigError).message).toMatch(/以下/);
  });

  it('programmatic options are held to the same bounds', () => {
    expect(() => loadConfig({ httpTimeoutMs: 3_000_000_000 }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ lockWaitMs: Number.POSITIVE_INFINITY }, {})).toThrow(ConfigError);
    expect(loadConfig({}, { ALARMBOX_HTTP_TIMEOUT_MS: '600000' }).httpTimeoutMs).toBe(600_000);
  });

  it.each([
    [['status'], { ALARMBOX_HTTP_TIMEOUT_MS: '3000000000' }],
    [['refresh-token', '--retry-delay', '30d'], {}],
    [['worker', '--shutdown-grace', '999999999d'], {}],
  ])('CLI %j: exit 2', async (args, extra) => {
    const dir = await mkdtemp(join(tmpdir(), 'alarmbox-bounds-cli-'));
    const r = await runCli(args, {
      DATABASE_URL: `sqlite:${join(dir, 'x.db')}`,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('b2'),
      ...extra,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/以下/);
  });
});

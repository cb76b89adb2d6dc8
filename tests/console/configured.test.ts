// The console with the environment's configuration (no --emulator): which ways of connecting it offers
// follow ALARMBOX_REDIRECT_URI, a missing client id is explained, and the read-only call for the real
// AlarmBox shows scope and expiry but never the token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tryTokenInfo } from '../../src/apps/console/api-trial.ts';
import { type RunningConsole, startConsole } from '../../src/apps/console/index.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { registerToken } from '../support/alarmbox.ts';
import { closedPort } from '../support/closed-port.ts';
import { ConsoleBrowser, textOf } from '../support/console-browser.ts';
import { expectNoSecrets } from '../support/registered.ts';

let emulator: RunningEmulator;
let dir: string;
const consoles: RunningConsole[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, quiet: true, autoApprove: true });
  dir = mkdtempSync(join(tmpdir(), 'alarmbox-console-test-'));
});

afterAll(async () => {
  for (const c of consoles) await c.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(name: string, overrides: Record<string, string> = {}, port = 0): Promise<RunningConsole> {
  const running = await startConsole({
    port,
    alarmbox: {
      env: 'dev',
      databaseUrl: `sqlite:${join(dir, `${name}.db`)}`,
      encryptionKeys: generateKeySpec('test'),
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
      ...overrides,
    },
  });
  consoles.push(running);
  return running;
}

describe('console with the environment configuration', () => {
  it('says what is wrong when the tables are missing', async () => {
    const running = await open('unmigrated');
    const page = await new ConsoleBrowser(running).get('/');
    expect(page.status).toBe(200);
    expect(textOf(page.body)).toContain('alarmbox migrate');
  });

  it('with the OOB redirect URI (the default): only the paste form, and how to enable the loopback', async () => {
    const running = await open('oob');
    const text = textOf((await new ConsoleBrowser(running).get('/connect')).body);
    expect(text).toContain('認可コードを貼り付ける連携');
    expect(text).not.toContain('自動で戻る連携 AlarmBox');
    expect(text).toContain(`ALARMBOX_REDIRECT_URI=http://127.0.0.1:${running.port}/callback`);
  });

  it('with ALARMBOX_REDIRECT_URI set to the console callback: the loopback flow, with that exact URI', async () => {
    const port = await closedPort();
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const running = await open('loopback', { redirectUri }, port);
    await migrateToLatest(running.alarmbox.database);
    const browser = new ConsoleBrowser(running);
    const text = textOf((await browser.get('/connect')).body);
    expect(text).toContain('自動で戻る連携');
    expect(text).not.toContain('認可コードを貼り付ける連携');
    const start = await browser.post('/connect/start', {});
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.searchParams.get('redirect_uri')).toBe(redirectUri);
    const approved = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(approved.headers.get('location') ?? '');
    const hop = await browser.get(callback.pathname + callback.search);
    const target = /url=([^"]+)"/.exec(hop.body)?.[1] ?? '';
    expect(textOf((await browser.get(target)).body)).toContain('AlarmBox と連携しました');
    expect((await running.alarmbox.store.getInstance()).isRegistered).toBe(true);
  });

  it('without a client id: the connect page explains the configuration error', async () => {
    const running = await startConsole({
      port: 0,
      alarmbox: {
        env: 'dev',
        databaseUrl: `sqlite:${join(dir, 'noclient.db')}`,
        encryptionKeys: generateKeySpec('test'),
        baseUrl: emulator.url,
      },
    });
    consoles.push(running);
    const saved = { id: process.env.ALARMBOX_CLIENT_ID, info: process.env.ALARMBOX_INFO };
    delete process.env.ALARMBOX_CLIENT_ID;
    delete process.env.ALARMBOX_INFO;
    try {
      const text = textOf((await new ConsoleBrowser(running).get('/connect')).body);
      expect(text).toContain('連携を始められません');
      expect(text).toContain('ALARMBOX_CLIENT_ID');
    } finally {
      if (saved.id !== undefined) process.env.ALARMBOX_CLIENT_ID = saved.id;
      if (saved.info !== undefined) process.env.ALARMBOX_INFO = saved.info;
    }
  });

  it('the read-only call for the real AlarmBox shows the scope and the expiry, never the token', async () => {
    const running = await open('token-info');
    await migrateToLatest(running.alarmbox.database);
    const pair = await registerToken(running.alarmbox, emulator);
    const notice = await tryTokenInfo(running.alarmbox);
    expect(notice.kind).toBe('success');
    expect(notice.lines.join('\n')).toContain(
      'スコープ: read customer:delete customer:create credit_check:create',
    );
    expect(notice.lines.join('\n')).toMatch(/有効期限: 残り 2[34] 時間 \d+ 分/);
    expectNoSecrets([JSON.stringify(notice)], new Set([pair.access, pair.refresh]));
  });
});

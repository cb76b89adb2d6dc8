// docs/integration.md「アプリのテストで使う」 as written (between the #region markers; the docs test below checks
// that the page shows it verbatim): an app's Vitest suite with the emulator, a temporary SQLite file and a
// registered token, in one beforeAll. Imports differ only in where the package comes from (src/ here).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { type Alarmbox, createAlarmbox } from '../../src/index.ts';

// #region app-test-recipe
let emulator: RunningEmulator;
let alarmbox: Alarmbox;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'app-test-'));
  alarmbox = createAlarmbox({
    env: 'dev',
    databaseUrl: `sqlite:${join(dir, 'alarmbox.db')}`,
    encryptionKeys: `test1:${randomBytes(32).toString('base64')}`, // a throwaway key for a throwaway database
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
  });
  await alarmbox.migrate();
  // A registered token in one call: the code the consent page would show, then the real code exchange.
  await alarmbox.exchangeCode(emulator.issueAuthorizationCode());
});

afterAll(async () => {
  await alarmbox?.close();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('buys a credit check', async () => {
  const check = await alarmbox.api.creditChecks.create({ corporation_number: '1234567890123' });
  expect(check.result).toBeDefined();
});
// #endregion app-test-recipe

it('docs/integration.md shows the recipe verbatim', () => {
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  const region = /\/\/ #region app-test-recipe\n([\s\S]*?)\/\/ #endregion app-test-recipe/.exec(self)?.[1];
  const docs = readFileSync(new URL('../../docs/integration.md', import.meta.url), 'utf8');
  expect(region).toBeDefined();
  expect(docs).toContain((region ?? '').trim());
});

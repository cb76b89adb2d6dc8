// Item 4 of issue 16: the CLI reads `.env`, the library does not (apps and frameworks load it themselves), and
// the messages of a missing token or database say which database was used and where that setting came from.
// Local keys get unique ids, and no key is generated while the stored row needs one that is missing here.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createAlarmbox } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from '../support/authorize.ts';
import { cliBaseEnv, runCli, TEST_COMPILE_CACHE } from '../support/cli.ts';
import { fixturePath } from '../support/node-scripts.ts';

interface CallResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly digest?: string;
}

/** tests/fixtures/library-call.ts in `cwd` with exactly `env` (no `.env` is read by the library). */
function libraryCall(cwd: string, env: Record<string, string>): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [fixturePath('library-call.ts')],
      { cwd, env: { ...cliBaseEnv(), NODE_COMPILE_CACHE: TEST_COMPILE_CACHE, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('result '));
        if (line === undefined) reject(new Error(`no result (${error?.message}): ${stderr}`));
        else resolve(JSON.parse(line.slice('result '.length)) as CallResult);
      },
    );
  });
}

const folder = (name: string) => mkdtempSync(join(tmpdir(), `alarmbox-${name}-`));

let emulator: RunningEmulator;
let alarmboxEnv: Record<string, string>;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  alarmboxEnv = {
    ALARMBOX_BASE_URL: emulator.url,
    ALARMBOX_CLIENT_ID: emulator.options.clientId,
    ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
  };
});
afterAll(async () => {
  await emulator.close();
});

describe('.env: read by the CLI, not by the library', () => {
  it('the CLI uses DATABASE_URL of .env and says so; the library in the same folder names its default', async () => {
    const app = folder('dotenv');
    const database = join(app, 'data', 'tokens.db');
    const keys = generateKeySpec('k1');
    writeFileSync(
      join(app, '.env'),
      `DATABASE_URL=sqlite:${database}\nALARMBOX_ENV=dev\nALARMBOX_ENCRYPTION_KEYS=${keys}\n`,
    );
    expect((await runCli(['migrate'], alarmboxEnv, { cwd: app })).code).toBe(0);
    expect(existsSync(database)).toBe(true);
    const cli = await runCli(['access-token'], alarmboxEnv, { cwd: app });
    expect(cli.code).toBe(3);
    expect(cli.stderr).toContain(`sqlite ${database}`);
    expect(cli.stderr).toContain('設定元: .env の DATABASE_URL');

    // The app did not load .env: the library looks at the default, names it and why, and creates nothing.
    const library = await libraryCall(app, {
      ...alarmboxEnv,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: keys,
    });
    expect(library).toMatchObject({ ok: false, reason: 'configuration' });
    expect(library.message).toContain(`sqlite ${join(app, '.alarmbox', 'alarmbox.db')}`);
    expect(library.message).toContain('DATABASE_URL も databaseUrl も未設定のため既定値');
    expect(library.message).toContain('.env を読むのは CLI だけです');
    expect(existsSync(join(app, '.alarmbox'))).toBe(false);

    // Given the variable (as `node --env-file=.env` or the framework does), the library finds the same database.
    const loaded = await libraryCall(app, {
      ...alarmboxEnv,
      ALARMBOX_ENV: 'dev',
      ALARMBOX_ENCRYPTION_KEYS: keys,
      DATABASE_URL: `sqlite:${database}`,
    });
    expect(loaded).toMatchObject({ ok: false, reason: 'not_registered' });
    expect(loaded.message).toContain(`sqlite ${database} (設定元: 環境変数 DATABASE_URL)`);
  });

  it('migrations pending and the databaseUrl option: named with their source', async () => {
    const app = folder('pending');
    const database = join(app, 'empty.db');
    writeFileSync(database, '');
    const alarmbox = createAlarmbox({
      env: 'dev',
      databaseUrl: `sqlite:${database}`,
      encryptionKeys: generateKeySpec('k1'),
    });
    try {
      const error = await alarmbox.tokens.getValidAccessToken().catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: 'configuration' });
      expect((error as Error).message).toContain('テーブルがまだ作成されていません');
      expect((error as Error).message).toContain(
        `sqlite ${database} (設定元: createAlarmbox の databaseUrl オプション)`,
      );
    } finally {
      await alarmbox.close();
    }
  });
});

describe('generated local keys', () => {
  it('two generated keys never share an id', () => {
    const ids = [folder('k1'), folder('k2'), folder('k3')].map(
      (dir) => loadConfig({ dataDir: dir }, {}).keyRing().primary.id,
    );
    for (const id of ids) expect(id).toMatch(/^local-\d{8}-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a row sealed with a key missing here: no key is generated, the error says where it was expected', async () => {
    const registeredIn = folder('registered');
    const elsewhere = folder('standalone');
    const database = join(registeredIn, 'alarmbox.db');
    const registrar = createAlarmbox({
      env: 'local',
      databaseUrl: `sqlite:${database}`,
      dataDir: join(registeredIn, '.alarmbox'),
      baseUrl: emulator.url,
      clientId: emulator.options.clientId,
      clientSecret: emulator.options.clientSecret,
    });
    await registrar.migrate();
    await registrar.exchangeCode(await obtainCode(emulator));
    await registrar.close();
    const keyId =
      readFileSync(join(registeredIn, '.alarmbox', 'encryption-keys'), 'utf8').split(':')[0] ?? '';
    expect(keyId).toMatch(/^local-/);
    expect(readFileSync(join(registeredIn, '.alarmbox', '.gitignore'), 'utf8')).toMatch(/^\*$/m);

    const env = { ...alarmboxEnv, ALARMBOX_ENV: 'local', DATABASE_URL: `sqlite:${database}` };
    // A server started from another folder (a Next standalone build): no key file there.
    const result = await libraryCall(elsewhere, env);
    expect(result).toMatchObject({ ok: false, reason: 'configuration' });
    expect(result.message).toContain(join(elsewhere, '.alarmbox', 'encryption-keys'));
    expect(result.message).toContain(`キー ID "${keyId}"`);
    expect(result.message).toContain('新しい鍵は作りません');
    expect(existsSync(join(elsewhere, '.alarmbox'))).toBe(false);
    // From the folder that holds the key the same call works.
    expect(await libraryCall(registeredIn, env)).toMatchObject({ ok: true });
  });
});

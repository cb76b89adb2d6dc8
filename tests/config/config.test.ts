import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c.env).toBe('local');
    expect(c.database).toMatchObject({ dialect: 'sqlite' });
    expect(c.baseUrl).toBe('https://api.alarmbox.jp');
    expect(c.redirectUri).toBe('urn:ietf:wg:oauth:2.0:oob');
    expect(c.scope).toBe('read customer:delete customer:create credit_check:create');
    expect(c.httpTimeoutMs).toBe(30_000);
  });

  it('options override the environment', () => {
    const c = loadConfig(
      { baseUrl: 'http://127.0.0.1:4010/' },
      { ALARMBOX_BASE_URL: 'https://example.invalid' },
    );
    expect(c.baseUrl).toBe('http://127.0.0.1:4010');
  });

  it('client credentials: variables, or ALARMBOX_INFO as JSON or as a mounted file', async () => {
    expect(loadConfig({}, { ALARMBOX_CLIENT_ID: 'id', ALARMBOX_CLIENT_SECRET: 's' }).credentials()).toEqual({
      clientId: 'id',
      clientSecret: 's',
    });
    const info = '{"client_id":"iid","client_secret":"isecret"}';
    expect(loadConfig({}, { ALARMBOX_INFO: info }).credentials()).toEqual({
      clientId: 'iid',
      clientSecret: 'isecret',
    });
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'alarmbox-info.json');
    await writeFile(file, info);
    expect(loadConfig({}, { ALARMBOX_INFO: file, ALARMBOX_CLIENT_ID: 'override' }).credentials()).toEqual({
      clientId: 'override',
      clientSecret: 'isecret',
    });
  });

  it('missing client id / secret name the variable, only when needed', () => {
    const c = loadConfig({}, {});
    expect(configError(() => c.credentials()).variable).toBe('ALARMBOX_CLIENT_ID');
    expect(configError(() => loadConfig({}, { ALARMBOX_CLIENT_ID: 'x' }).credentials()).variable).toBe(
      'ALARMBOX_CLIENT_SECRET',
    );
  });

  it('malformed ALARMBOX_INFO never echoes the secret', () => {
    const e = configError(() => loadConfig({}, { ALARMBOX_INFO: '{"client_secret": "sekrit-value",' }));
    expect(e.variable).toBe('ALARMBOX_INFO');
    expect(e.message).not.toContain('sekrit-value');
    expect(e.message).toContain('例:');
  });

  it('ALARMBOX_INFO naming a directory or an unreadable path: a configuration error with the cause', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-info-'));
    for (const path of ['.', dir]) {
      const e = configError(() => loadConfig({}, { ALARMBOX_INFO: path }).credentials());
      expect(e.variable).toBe('ALARMBOX_INFO');
      expect(e.message).toContain('通常のファイルではありません (ディレクトリ)');
      expect(e.message).toContain('例:');
    }
  });

  it('a local key file that cannot be read or created: a configuration error naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-keyfile-'));
    // A directory where the key file should be.
    await mkdir(join(dir, 'encryption-keys'));
    const e = configError(() => loadConfig({ dataDir: dir }, {}).keyRing());
    expect(e.variable).toBe('ALARMBOX_ENCRYPTION_KEYS');
    expect(e.message).toContain(join(dir, 'encryption-keys'));
    expect(e.message).toContain('通常のファイルではありません (ディレクトリ)');
  });

  it.each([
    [{ ALARMBOX_ENV: 'staging' }, 'ALARMBOX_ENV'],
    [{ ALARMBOX_BASE_URL: 'not a url' }, 'ALARMBOX_BASE_URL'],
    [{ ALARMBOX_BASE_URL: 'http://api.alarmbox.jp' }, 'ALARMBOX_BASE_URL'],
    [{ ALARMBOX_REDIRECT_URI: 'ftp://x' }, 'ALARMBOX_REDIRECT_URI'],
    [{ ALARMBOX_SCOPE: 'read "bad"' }, 'ALARMBOX_SCOPE'],
    [{ ALARMBOX_HTTP_TIMEOUT_MS: '-1' }, 'ALARMBOX_HTTP_TIMEOUT_MS'],
    [{ DATABASE_URL: 'oracle://x' }, 'DATABASE_URL'],
  ])('%j fails at start-up naming %s with an example', (env, variable) => {
    let error: unknown;
    try {
      loadConfig({}, env);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ reason: 'configuration' });
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).toContain('例');
  });

  it('local creates a 0600 key file once and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    const ring = loadConfig({ dataDir: dir }, {}).keyRing();
    const file = join(dir, 'encryption-keys');
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    const again = loadConfig({ dataDir: dir }, {}).keyRing();
    expect(again.primary.id).toBe(ring.primary.id);
    expect(await readFile(file, 'utf8')).toMatch(/^local-\d{8}-[0-9a-f]{8}:[A-Za-z0-9+/=]{44}\n$/);
  });

  it('dev and production refuse to start without a key, even beside a local key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
    loadConfig({ dataDir: dir }, {}).keyRing();
    for (const env of ['dev', 'production']) {
      const e = configError(() => loadConfig({ dataDir: dir }, { ALARMBOX_ENV: env }).keyRing());
      expect(e.variable).toBe('ALARMBOX_ENCRYPTION_KEYS');
      expect(e.message).toContain(`ALARMBOX_ENV=${env}`);
    }
  });

  it('production takes its key ring from ALARMBOX_ENCRYPTION_KEYS', () => {
    const spec = generateKeySpec('prod1');
    expect(
      loadConfig({}, { ALARMBOX_ENV: 'production', ALARMBOX_ENCRYPTION_KEYS: spec }).keyRing().primary.id,
    ).toBe('prod1');
  });
});

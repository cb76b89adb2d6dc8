// ALARMBOX_DB_QUERY_TIMEOUT_MS / ALARMBOX_DB_CONNECT_TIMEOUT_MS: defaults, accepted values, and values Node
// cannot honour or that make no sense refused with a Japanese message (exit 2 from the CLI).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { runCli } from '../support/cli.ts';

const VARIABLES = ['ALARMBOX_DB_QUERY_TIMEOUT_MS', 'ALARMBOX_DB_CONNECT_TIMEOUT_MS'] as const;

describe('database timeouts', () => {
  it('default to 10 s per query and 5 s per connection', () => {
    expect(loadConfig({}, {}).databaseTimeouts).toEqual({ queryTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
  });

  it('are read from the environment', () => {
    const config = loadConfig(
      {},
      { ALARMBOX_DB_QUERY_TIMEOUT_MS: '1500', ALARMBOX_DB_CONNECT_TIMEOUT_MS: ' 100 ' },
    );
    expect(config.databaseTimeouts).toEqual({ queryTimeoutMs: 1_500, connectTimeoutMs: 100 });
  });

  it('createAlarmbox({ databaseTimeouts }) wins over the environment, and is checked the same way', () => {
    const config = loadConfig(
      { databaseTimeouts: { queryTimeoutMs: 250 } },
      { ALARMBOX_DB_QUERY_TIMEOUT_MS: '9000', ALARMBOX_DB_CONNECT_TIMEOUT_MS: '700' },
    );
    expect(config.databaseTimeouts).toEqual({ queryTimeoutMs: 250, connectTimeoutMs: 700 });
    for (const bad of [99, 600_001, 1.5, Number.NaN]) {
      expect(() => loadConfig({ databaseTimeouts: { connectTimeoutMs: bad } }, {})).toThrow(
        /databaseTimeouts\.connectTimeoutMs は 100 から 600000 までの整数/,
      );
    }
  });

  for (const variable of VARIABLES) {
    it.each(['99', '600001', '3000000000', '0', '-5', '1.5', '10s', 'abc'])(
      `${variable}=%s is refused, naming the variable and the range`,
      (value) => {
        let thrown: unknown;
        try {
          loadConfig({}, { [variable]: value });
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ConfigError);
        const error = thrown as ConfigError;
        expect(error.variable).toBe(variable);
        expect(error.reason).toBe('configuration');
        expect(error.message).toContain(
          `${variable} は 100 から 600000 までの整数 (ミリ秒) で指定してください`,
        );
      },
    );
  }

  it('the CLI exits 2 with the message before touching the database', async () => {
    const result = await runCli(['status'], {
      DATABASE_URL: 'postgres://app@127.0.0.1:1/app',
      ALARMBOX_DB_QUERY_TIMEOUT_MS: '3000000000',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ALARMBOX_DB_QUERY_TIMEOUT_MS は 100 から 600000 までの整数');
    expect(result.stderr).not.toContain('データベースに接続できません');
  });
});

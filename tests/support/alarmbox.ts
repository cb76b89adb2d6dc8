// The toolkit wired to an emulator and a database, the way most tests need it.
import { type Alarmbox, createAlarmbox } from '../../src/alarmbox/create.ts';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import type { AlarmboxOptions } from '../../src/config/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from './authorize.ts';

/** The environment variables a child process (CLI, fixture) needs to talk to `emulator` and `databaseUrl`. */
export function emulatorEnv(
  emulator: RunningEmulator,
  databaseUrl: string,
  keys: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: keys,
    ALARMBOX_BASE_URL: emulator.url,
    ALARMBOX_CLIENT_ID: emulator.options.clientId,
    ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
    ...extra,
  };
}

/** The same configuration in-process. */
export function alarmboxFor(
  emulator: RunningEmulator,
  databaseUrl: string,
  keys: string,
  overrides: AlarmboxOptions = {},
): Alarmbox {
  return createAlarmbox({
    env: 'dev',
    databaseUrl,
    encryptionKeys: keys,
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
    ...overrides,
  });
}

/** Authorizes at the emulator and stores the pair, as `save-token` does. Returns the plaintext pair. */
export async function registerToken(
  alarmbox: Alarmbox,
  emulator: RunningEmulator,
): Promise<{ access: string; refresh: string }> {
  const received = await alarmbox.client.getTokenByCode(await obtainCode(emulator));
  await alarmbox.tokens.saveInitialToken(alarmbox.tokens.initialTokensFrom(received));
  return { access: received.response.access_token, refresh: received.response.refresh_token ?? '' };
}

/** Awaits `p` and returns the AlarmboxTokenExpiredError it must reject with. */
export async function refreshFailure(p: Promise<unknown>): Promise<AlarmboxTokenExpiredError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof AlarmboxTokenExpiredError) return error;
    throw error;
  }
  throw new Error('expected an AlarmboxTokenExpiredError');
}

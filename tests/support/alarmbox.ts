// The toolkit wired to an emulator and a database, the way most tests need it.

import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { AlarmboxOptions } from '../../src/config/index.ts';
import { createToolkit, type Toolkit } from '../../src/create.ts';
import { LOCKS_TABLE, migrateToLatest } from '../../src/db/index.ts';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
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
): Toolkit {
  return createToolkit({
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
  alarmbox: Toolkit,
  emulator: RunningEmulator,
): Promise<{ access: string; refresh: string }> {
  const received = await alarmbox.client.getTokenByCode(await obtainCode(emulator));
  await alarmbox.tokens.saveInitialToken(alarmbox.tokens.initialTokensFrom(received));
  return { access: received.response.access_token, refresh: received.response.refresh_token ?? '' };
}

/** The stored pair in plain text: what a failed or refused operation must leave exactly as it was. */
export interface StoredPair {
  readonly version: number;
  /** Empty while nothing is registered. */
  readonly access: string;
  readonly refresh: string;
  readonly expiredAt: number | undefined;
}

/** Reads the stored pair of `alarmbox` through its own store (decrypted). */
export async function storedPair(alarmbox: Pick<Toolkit, 'store'>): Promise<StoredPair> {
  const t = await alarmbox.store.getInstance();
  const registered = t.isRegistered;
  return {
    version: t.version,
    access: registered ? t.getDecryptedAccessToken() : '',
    refresh: registered ? t.getDecryptedRefreshToken() : '',
    expiredAt: t.expiredAt?.getTime(),
  };
}

export interface EmulatorWorld {
  readonly emulator: RunningEmulator;
  readonly alarmbox: Toolkit;
  /** The same configuration for a child process (CLI, fixture). */
  readonly env: Record<string, string>;
  readonly databaseUrl: string;
}

export interface EmulatorWorldOptions {
  /** A URL, or a function giving it once the file's earlier hooks ran (a describeEachDatabase fixture). */
  readonly databaseUrl: string | (() => string);
  readonly keys: string;
  readonly emulator?: EmulatorOptions;
  /** Passed to {@link alarmboxFor}; `httpTimeoutMs` also becomes the children's ALARMBOX_HTTP_TIMEOUT_MS. */
  readonly alarmbox?: AlarmboxOptions;
  /** More variables for the children. */
  readonly env?: Record<string, string>;
  /** Store the pair already expired, so the next read refreshes. */
  readonly expired?: boolean;
}

/**
 * The lifecycle most fault tests share: an emulator and a migrated database for the describe block (beforeAll),
 * then before each test a reset emulator, no lease left behind and a freshly registered pair. `use` receives the
 * world once it exists, so the tests keep plain variables.
 */
export function useEmulatorWorld(options: EmulatorWorldOptions, use: (world: EmulatorWorld) => void): void {
  let world: EmulatorWorld | undefined;
  beforeAll(async () => {
    const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, ...options.emulator });
    const databaseUrl = typeof options.databaseUrl === 'string' ? options.databaseUrl : options.databaseUrl();
    const timeout = options.alarmbox?.httpTimeoutMs;
    const env = emulatorEnv(emulator, databaseUrl, options.keys, {
      ...(timeout === undefined ? {} : { ALARMBOX_HTTP_TIMEOUT_MS: String(timeout) }),
      ...options.env,
    });
    const alarmbox = alarmboxFor(emulator, databaseUrl, options.keys, options.alarmbox);
    world = { emulator, alarmbox, env, databaseUrl };
    await migrateToLatest(alarmbox.database);
    use(world);
  });
  afterAll(async () => {
    await world?.alarmbox.close();
    await world?.emulator.close();
  });
  beforeEach(async () => {
    if (world === undefined) return;
    world.emulator.reset();
    await world.alarmbox.database.db.deleteFrom(LOCKS_TABLE).execute();
    await registerToken(world.alarmbox, world.emulator);
    if (options.expired === true) await world.alarmbox.store.markExpired();
  });
}

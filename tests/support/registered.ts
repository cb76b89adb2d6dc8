// A database with the tables migrated and (on request) a token pair registered through the emulator, plus
// the set of secret values that must never appear in any output of the tests that use it.
import type { Toolkit } from '../../src/create.ts';
import { toDbTime } from '../../src/db/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { alarmboxFor, emulatorEnv } from './alarmbox.ts';
import { obtainCode } from './authorize.ts';

export interface Registered {
  readonly alarmbox: Toolkit;
  /** The environment a child process (CLI, worker) needs for the same database, keys and emulator. */
  readonly env: Record<string, string>;
  /** Codes, tokens and the client secret seen so far. */
  readonly secrets: Set<string>;
  /** Runs the guide's step 6 through the library. */
  register(): Promise<void>;
  /** Adds the stored pair's plaintext tokens to {@link secrets}. */
  collect(): Promise<void>;
  /** Pretends the stored pair was written `ms` ago (it is no longer "fresh" for `--skip-if-fresh`). */
  age(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function openRegistered(
  emulator: RunningEmulator,
  databaseUrl: string,
  keys: string,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<Registered> {
  const env = emulatorEnv(emulator, databaseUrl, keys, { ALARMBOX_HTTP_TIMEOUT_MS: '5000', ...extraEnv });
  const alarmbox = alarmboxFor(emulator, databaseUrl, keys);
  await migrateToLatest(alarmbox.database);
  const secrets = new Set<string>([emulator.options.clientSecret]);
  const collect = async () => {
    const token = await alarmbox.store.getInstance();
    if (!token.isRegistered) return;
    try {
      secrets.add(token.getDecryptedAccessToken());
      secrets.add(token.getDecryptedRefreshToken());
    } catch {
      // a row under a key this ring lacks: nothing new to learn
    }
  };
  return {
    alarmbox,
    env,
    secrets,
    collect,
    async register() {
      const code = await obtainCode(emulator);
      secrets.add(code);
      const received = await alarmbox.client.getTokenByCode(code);
      await alarmbox.tokens.saveInitialToken(alarmbox.tokens.initialTokensFrom(received));
      await collect();
    },
    async age(ms: number) {
      await alarmbox.database.db
        .updateTable('hansha_alarmbox_tokens')
        .set({ updated_at: toDbTime(alarmbox.database.dialect, new Date(Date.now() - ms)) })
        .execute();
    },
    close: () => alarmbox.close(),
  };
}

/** Fails when any of `outputs` holds any of `secrets`. */
export function expectNoSecrets(outputs: readonly string[], secrets: ReadonlySet<string>): void {
  for (const output of outputs) {
    for (const secret of secrets) {
      if (secret.length >= 8 && output.includes(secret)) {
        throw new Error(`a secret (${secret.slice(0, 3)}…) appears in the output:\n${output.slice(0, 2000)}`);
      }
    }
  }
}

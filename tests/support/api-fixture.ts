// What the API client tests share: an emulator on 127.0.0.1, a real SQLite file with a registered token,
// and a record of every message the client produced, scanned for secrets when the file ends.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import type { AlarmboxApi, AlarmboxApiOptions, RetryEvent } from '../../src/api/client.ts';
import { createAlarmboxApi } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { obtainCode } from './authorize.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { expectNoSecrets, openRegistered, type Registered } from './registered.ts';
import { until } from './until.ts';

export interface ApiFixture {
  readonly emulator: RunningEmulator;
  readonly database: TestDatabase;
  readonly keys: string;
  readonly registered: Registered;
  /** Every error message, response body and retry event seen: must never hold a secret. */
  readonly outputs: string[];
  /** A client on the registered store; retries fast, so tests do not wait on real backoff. */
  api(
    settings?: Omit<AlarmboxApiOptions, 'tokens' | 'baseUrl'>,
  ): AlarmboxApi & { readonly retries: RetryEvent[] };
  /** Awaits `p`, which must reject with an error of this package; records what it says. */
  failure(p: Promise<unknown>): Promise<AlarmboxAPIError>;
  /** Emulator reset (tokens, counters, faults, clock) and a freshly registered token. */
  fresh(scope?: string): Promise<void>;
  /** Adds the stored tokens to the secrets, then scans every output. */
  scan(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The lifecycle every API test file shares: opens the fixture before its tests (handing it to `set`), gives
 * each test a fresh emulator and token, and at the end scans every output for secrets and closes.
 */
export function useApiFixture(set: (fixture: ApiFixture) => void, options: EmulatorOptions = {}): void {
  let fixture: ApiFixture | undefined;
  beforeAll(async () => {
    fixture = await openApiFixture(options);
    set(fixture);
  });
  afterAll(async () => {
    await fixture?.scan();
    await fixture?.close();
  });
  beforeEach(async () => {
    await fixture?.fresh();
  });
}

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 } as const;

async function openApiFixture(options: EmulatorOptions = {}): Promise<ApiFixture> {
  const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, ...options });
  const database = await createTestDatabase('sqlite');
  const keys = generateKeySpec('api-test');
  const registered = await openRegistered(emulator, database.url, keys);
  const outputs: string[] = [];
  return {
    emulator,
    database,
    keys,
    registered,
    outputs,
    api(settings = {}) {
      const retries: RetryEvent[] = [];
      const api = createAlarmboxApi({
        alarmbox: registered.alarmbox,
        timeoutMs: 5_000,
        ...settings,
        retry: { ...FAST_RETRY, ...settings.retry },
        onRetry: (event) => {
          retries.push(event);
          outputs.push(JSON.stringify(event));
          settings.onRetry?.(event);
        },
      });
      return Object.assign(api, { retries });
    },
    async failure(p) {
      try {
        await p;
      } catch (error) {
        if (!(error instanceof AlarmboxAPIError)) throw error;
        outputs.push(error.message, error.responseBody ?? '', JSON.stringify(error), String(error.stack));
        await registered.collect();
        return error;
      }
      throw new Error('expected the call to fail');
    },
    async fresh(scope) {
      emulator.reset();
      if (scope === undefined) {
        await registered.register();
      } else {
        // A token with a narrower scope, as a person who authorized with another ALARMBOX_SCOPE has.
        const code = await obtainCode(emulator, undefined, scope);
        registered.secrets.add(code);
        const received = await registered.alarmbox.client.getTokenByCode(code);
        await registered.alarmbox.tokens.saveInitialToken(
          registered.alarmbox.tokens.initialTokensFrom(received),
        );
        await registered.collect();
      }
    },
    async scan() {
      await registered.collect();
      expectNoSecrets(outputs, registered.secrets);
    },
    async close() {
      await registered.close();
      await emulator.close();
      await database.drop();
    },
  };
}

/** Requests the emulator's API routes answered, plus those an injected fault stopped before the route. */
export function apiArrivals(emulator: RunningEmulator): number {
  const stats = emulator.stats();
  return Object.values(stats.apiRequests).reduce((a, b) => a + b, 0);
}

/** Waits until `condition` holds (polling), for effects that happen after the client gave up. */
export function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  return until(condition, timeoutMs, 20);
}

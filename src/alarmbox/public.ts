// What an application gets from `createAlarmbox()`: the token manager, the API client, the one-call code exchange
// and `close()`. The toolkit's own wiring (create.ts) also carries the store, the database handle and the history
// writer for the CLI; they stay out of this object, so an app cannot come to depend on them.
import type { AlarmboxApi } from '../api/client.ts';
import type { AlarmboxOptions } from '../config/config.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { AlarmboxClient } from './client.ts';
import { saveTokenFromCode, validateCode } from './code-exchange.ts';
import { createAlarmbox as wireAlarmbox } from './create.ts';
import { shuttingDown } from './shutting-down.ts';
import type { TokenService } from './token-service.ts';
import type { AlarmboxToken } from './token-store.ts';

/** Options of {@link Alarmbox.exchangeCode}. */
export interface ExchangeCodeOptions {
  /**
   * The redirect URI that the authorization request used. Default: the configured one
   * (`ALARMBOX_REDIRECT_URI`, else `urn:ietf:wg:oauth:2.0:oob`).
   */
  readonly redirectUri?: string;
}

/**
 * The toolkit for an application: tokens that refresh themselves, the typed API client and the code exchange.
 *
 * @remarks
 * Create one per process with {@link createAlarmbox} and call {@link Alarmbox.close} on shutdown.
 */
export interface Alarmbox {
  /**
   * The guide's TokenService: `getValidAccessToken()`, `refresh({ force })`, `saveInitialToken(...)`.
   * Refreshes are serialized across processes through the database.
   */
  readonly tokens: TokenService;
  /** The token endpoint client (the guide's AlarmboxClient); created on first access, which needs the client credentials. */
  readonly client: AlarmboxClient;
  /** The typed AlarmBox API client (`api.creditChecks.create/get`, `api.request`); created on first access. */
  readonly api: AlarmboxApi;
  /**
   * Exchanges an authorization code for tokens and stores them encrypted (the guide's step 6) in one call.
   *
   * @param code - The authorization code the person got from AlarmBox (valid for 10 minutes, usable once).
   * @param options - The redirect URI when it differs from the configured one.
   * @returns The stored token's metadata (expiry, scope); the token itself stays encrypted.
   * @throws {@link AlarmboxTokenError} with `reason: 'usage'` for a malformed code, or the exchange's error
   *   (`reason: 'reauthorization_required'` for a spent or expired code).
   */
  exchangeCode(code: string, options?: ExchangeCodeOptions): Promise<AlarmboxToken>;
  /**
   * Creates or updates the toolkit's tables (the same as `alarmbox migrate`). Safe to run at every start.
   *
   * @returns The names of the migrations that ran now.
   */
  migrate(): Promise<readonly string[]>;
  /**
   * Shuts the instance down: from the call on, every method (`tokens.*`, `api.*`, `exchangeCode`, `migrate`)
   * rejects at once with an {@link AlarmboxError} of `reason: 'temporary'` and touches nothing; the refresh or code
   * exchange under way is saved first (AlarmBox may have rotated the pair already), then the database pool closes.
   *
   * @remarks
   * Call it once on shutdown, after the app's HTTP server has stopped accepting and finished its requests
   * (docs/integration.md「終了時に応答を失わない」): closing under requests fails them with the temporary error.
   */
  close(): Promise<void>;
}

/**
 * Wires the toolkit from the environment (`ALARMBOX_*`, `DATABASE_URL`); `options` override it.
 *
 * @remarks
 * Nothing connects yet: the first query opens the database pool. Run `alarmbox migrate` (or
 * {@link Alarmbox.migrate}) once before the first token is saved.
 *
 * @param options - Settings that override the environment variables.
 * @returns The toolkit; close it with {@link Alarmbox.close}.
 * @throws {@link ConfigError} when a setting is missing or invalid.
 */
export function createAlarmbox(options: AlarmboxOptions = {}): Alarmbox {
  const wired = wireAlarmbox(options);
  return {
    tokens: wired.tokens,
    get client() {
      return wired.client;
    },
    get api() {
      return wired.api;
    },
    // One exchange of the instance: close() waits until its pair is saved (the code is spent once sent).
    exchangeCode: async (code, exchange = {}) => {
      const valid = validateCode(code);
      return wired.exchanges.run(
        () => saveTokenFromCode(wired, valid, exchange.redirectUri ?? wired.config.redirectUri),
        shuttingDown,
      );
    },
    migrate: async () => {
      if (wired.tokens.closed) throw shuttingDown();
      return (await migrateToLatest(wired.database)).applied;
    },
    close: () => wired.close(),
  };
}

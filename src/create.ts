// The assembly of the toolkit, above the token manager (alarmbox/) and the API client (api/): configuration,
// database, lock, TokenService, the token endpoint client and the API client, wired once. An application gets
// `Alarmbox`; the CLI, the console and the jobs get the same instance with its internals (`Toolkit`), which stay
// out of the application's object (its config holds the database URL with its password).

import { AlarmboxClient } from './alarmbox/client.ts';
import { saveTokenFromCode, validateCode } from './alarmbox/code-exchange.ts';
import { type AlarmboxHealth, checkHealth, type HealthOptions } from './alarmbox/health.ts';
import { type HistoryRecord, RefreshHistory } from './alarmbox/refresh-history.ts';
import {
  type RevocationDeps,
  type RevocationResult,
  type RevokeOptions,
  revokeStoredTokens,
} from './alarmbox/revoke.ts';
import { shuttingDown } from './alarmbox/shutting-down.ts';
import { type TokenEventListener, type TokenEventOptions, TokenEvents } from './alarmbox/token-events.ts';
import { TokenExchanges } from './alarmbox/token-exchanges.ts';
import { TokenService } from './alarmbox/token-service.ts';
import { type AlarmboxToken, AlarmboxTokenStore } from './alarmbox/token-store.ts';
import { AlarmboxApi, type AlarmboxApiOptions } from './api/client.ts';
import { type AlarmboxConfig, type AlarmboxOptions, loadConfig } from './config/index.ts';
import { openAppDatabase } from './db/app-database.ts';
import { type DatabaseHandle, openDatabase } from './db/connection.ts';
import { migrateToLatest } from './db/migrate.ts';
import { AlarmboxError } from './errors.ts';
import { LockManager } from './lock/index.ts';
import { countRefresh, prepareTelemetry } from './telemetry/telemetry.ts';

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
  /**
   * The typed AlarmBox API client (`api.creditChecks.create/get`, `api.request`), with the token cache on;
   * created on first access. For other settings use {@link createAlarmboxApi}.
   */
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
   * Listens to this instance's token events: `refreshed`, `refresh_failed` (with its `reason`),
   * `reauthorization_required` (once per episode) and `recovered` (docs/library.md「トークンのイベント」).
   *
   * @remarks
   * Events carry no token, code or secret. Listeners run after the caller got its token and are not awaited by
   * it: a slow listener delays nothing, and one that throws or rejects breaks nothing (its error becomes an
   * `AlarmboxSecondaryFailure` process warning). {@link Alarmbox.close} waits for deliveries under way, at most
   * the HTTP timeout.
   *
   * @param listener - Called with each {@link TokenEvent}.
   * @param options - `signal`: an AbortSignal that removes the listener.
   * @returns A function that removes the listener.
   */
  onTokenEvent(listener: TokenEventListener, options?: TokenEventOptions): () => void;
  /**
   * Says whether the app can get a valid access token, for a readiness probe or an uptime check
   * (docs/operations.md「プローブ」): reads row 1 and the refresh history, within `timeoutMs`.
   *
   * @remarks
   * Never calls AlarmBox, never refreshes, and never rejects for an unhealthy state (a database that does not
   * answer gives `status: 'down'` once `timeoutMs` has passed). The result holds no token and no secret, so it
   * can be returned as the body of a health route. `ready` is `status !== 'down'`: a token that is valid now
   * or can be refreshed without a person (docs/design.md「ヘルスチェックの ready」).
   *
   * @param options - The time bound (`timeoutMs`, default 3000).
   * @returns The overall status, the reason that decides it, the expiry and each check with a Japanese message.
   * @throws {@link AlarmboxError} with `reason: 'usage'` only for a `timeoutMs` out of range.
   */
  health(options?: HealthOptions): Promise<AlarmboxHealth>;
  /**
   * Shuts the instance down: from the call on, every method (`tokens.*`, `api.*`, `exchangeCode`, `migrate`)
   * rejects at once with an {@link AlarmboxError} of `reason: 'temporary'` and touches nothing; the refresh or code
   * exchange under way is saved first (AlarmBox may have rotated the pair already), waiting at most the HTTP
   * timeout plus 10 s, then pending history writes and token event deliveries (at most the HTTP timeout), then
   * the database pool closes.
   *
   * @remarks
   * Call it once on shutdown, after the app's HTTP server has stopped accepting and finished its requests
   * (docs/integration.md「終了時に応答を失わない」): closing under requests fails them with the temporary error.
   */
  close(): Promise<void>;
}

/** The same instance as the toolkit's own commands see it (not exported to applications). */
export interface Toolkit extends Alarmbox {
  readonly config: AlarmboxConfig;
  readonly store: AlarmboxTokenStore;
  /** Every refresh attempt of this process, recorded in `alarmbox_refresh_history` (no secrets). */
  readonly history: RefreshHistory;
  readonly database: DatabaseHandle;
  /** This instance's token exchanges (refreshes, code exchanges): `close()` waits for them. */
  readonly exchanges: TokenExchanges;
  /**
   * Ends the integration: revokes the stored pair at AlarmBox (RFC 7009) and deletes row 1, under the refresh
   * lease (src/alarmbox/revoke.ts). For `alarmbox revoke` and the console's 連携を解除.
   */
  revoke(options: RevokeOptions): Promise<RevocationResult>;
}

/** Each instance by both of its faces, for {@link createAlarmboxApi}'s `alarmbox` option. */
const toolkits = new WeakMap<Alarmbox, Toolkit>();

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
  const toolkit = createToolkit(options);
  const { tokens, exchangeCode, migrate, onTokenEvent, health, close } = toolkit;
  const app: Alarmbox = {
    tokens,
    get client() {
      return toolkit.client;
    },
    get api() {
      return toolkit.api;
    },
    exchangeCode,
    migrate,
    onTokenEvent,
    health,
    close,
  };
  toolkits.set(app, toolkit);
  return app;
}

/** {@link createAlarmbox} with the internals the CLI, the console and the jobs use. */
export function createToolkit(options: AlarmboxOptions = {}): Toolkit {
  const config = loadConfig(options);
  const database = databaseOf(config);
  const store = new AlarmboxTokenStore(database, config.keyRing);
  const history = new RefreshHistory(database);
  const exchanges = new TokenExchanges();
  const events = new TokenEvents();
  // Loads the OpenTelemetry API only if an SDK is registered (telemetry.ts); records nothing until it resolves.
  void prepareTelemetry();
  const getClient = lazyClient(config);
  const lock = refreshLease(database, config);
  const tokens = new TokenService({
    store,
    client: getClient,
    lock,
    lockWaitMs: config.lockWaitMs,
    fallbackExpiresIn: config.fallbackExpiresIn,
    // Every observer of the refresh attempts, side by side (history row, app events, metrics): none of them
    // may hold the caller up or fail it.
    onAttempt: (attempt) => {
      events.attempt(attempt);
      countRefresh(attempt);
      history.recorder(attempt);
    },
    onValidRead: events.read,
    onRegistered: events.registered,
    exchanges,
  });
  const record = (entry: HistoryRecord) => history.record(entry);
  const revocation: RevocationDeps = {
    store,
    client: getClient,
    lock,
    lockWaitMs: config.lockWaitMs,
    record,
  };
  let api: AlarmboxApi | undefined;
  const toolkit: Toolkit = {
    config,
    tokens,
    get client() {
      return getClient();
    },
    get api() {
      api ??= new AlarmboxApi(apiDefaults(toolkit));
      return api;
    },
    store,
    history,
    database,
    exchanges,
    // One exchange of the instance: close() waits until its pair is saved (the code is spent once sent).
    exchangeCode: async (code, exchange = {}) => {
      const valid = validateCode(code);
      return exchanges.run(
        () => saveTokenFromCode(toolkit, valid, exchange.redirectUri ?? config.redirectUri),
        shuttingDown,
      );
    },
    // One exchange of the instance, like a refresh: close() waits for the row to be deleted.
    revoke: (options) => exchanges.run(() => revokeStoredTokens(revocation, options), shuttingDown),
    migrate: async () => {
      if (tokens.closed) throw shuttingDown();
      return (await migrateToLatest(database)).applied;
    },
    onTokenEvent: (listener, subscription) => events.subscribe(listener, subscription),
    // In the entry chunk, not imported lazily: health.ts shares most of its modules with the entry, and a lazy
    // chunk made the bundler split those into a third file that the first getValidAccessToken() then loaded.
    health: (options) => checkHealth({ store, history, database, closed: () => tokens.closed }, options),
    close: async () => {
      // AlarmBox may have rotated the pair already: closing the pool under the save would lose it.
      await tokens.close(config.httpTimeoutMs + 10_000);
      await history.flush();
      // A notification of the last refresh (a webhook) should leave before the process does, within a bound.
      await events.idle(config.httpTimeoutMs);
      await database.close();
    },
  };
  toolkits.set(toolkit, toolkit);
  return toolkit;
}

/** The app's own pool or Kysely when it gave one (never closed by us), else a pool of our own. */
function databaseOf(config: AlarmboxConfig): DatabaseHandle {
  return config.appDatabase === undefined
    ? openDatabase(config.database, config.databaseTimeouts)
    : openAppDatabase(config.appDatabase, config.databaseTimeouts.queryTimeoutMs);
}

/** The token endpoint client, created on first use: reading a valid token needs no client secret. */
function lazyClient(config: AlarmboxConfig): () => AlarmboxClient {
  let client: AlarmboxClient | undefined;
  return () => {
    client ??= new AlarmboxClient({
      baseUrl: config.baseUrl,
      ...config.credentials(),
      redirectUri: config.redirectUri,
      timeoutMs: config.httpTimeoutMs,
      fetch: config.fetch,
    });
    return client;
  };
}

/**
 * The lease of row 1 (TokenService.LOCK_NAME), for refreshes and the revocation. docs/design.md: it outlives three
 * HTTP timeouts, so a live holder never loses it mid-refresh (a revocation is two requests, each within one).
 * Waiters mostly learn of a peer's refresh by watching the row; the lease poll only matters when the holder failed.
 */
function refreshLease(database: DatabaseHandle, config: AlarmboxConfig): LockManager {
  return new LockManager(database, {
    name: TokenService.LOCK_NAME,
    leaseMs: 3 * config.httpTimeoutMs,
    purpose: 'トークンを更新中',
    // A waiter ends at its first look after the peer's save: half the default pause keeps what every app
    // instance adds to AlarmBox's answer small, for a few more reads of row 1 during a refresh.
    pollMs: 25,
  });
}

/** What the API client takes from an instance: its TokenService, base URL, HTTP timeout and fetch. */
function apiDefaults({ tokens, config }: Toolkit): AlarmboxApiOptions {
  return { tokens, baseUrl: config.baseUrl, timeoutMs: config.httpTimeoutMs, fetch: config.fetch };
}

/**
 * Creates the typed AlarmBox API client (`api.creditChecks.create/get`, `api.request`) with settings of its own.
 *
 * @param options - Either `alarmbox` (from {@link createAlarmbox}: its tokens, base URL, HTTP timeout and fetch
 *   are used) plus settings, or `tokens` and `baseUrl` themselves plus settings.
 * @returns A client; it holds no connection of its own.
 */
export function createAlarmboxApi(
  options:
    | AlarmboxApiOptions
    | (Omit<AlarmboxApiOptions, 'tokens' | 'baseUrl'> & { readonly alarmbox: Alarmbox }),
): AlarmboxApi {
  if (!('alarmbox' in options)) return new AlarmboxApi(options);
  const { alarmbox, ...settings } = options;
  const toolkit = toolkits.get(alarmbox);
  if (toolkit === undefined) {
    throw new AlarmboxError(
      'createAlarmboxApi の alarmbox には createAlarmbox() の戻り値を指定してください。',
      {
        reason: 'configuration',
      },
    );
  }
  const defaults = apiDefaults(toolkit);
  return new AlarmboxApi({ ...defaults, ...settings, tokens: defaults.tokens, baseUrl: defaults.baseUrl });
}

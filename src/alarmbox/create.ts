import { type AlarmboxApi, createAlarmboxApi } from '../api/index.ts';
import { type AlarmboxConfig, type AlarmboxOptions, loadConfig } from '../config/index.ts';
import { openAppDatabase } from '../db/app-database.ts';
import { type DatabaseHandle, openDatabase } from '../db/connection.ts';
import { LockManager } from '../lock/index.ts';
import { AlarmboxClient } from './client.ts';
import { RefreshHistory } from './refresh-history.ts';
import { TokenExchanges } from './token-exchanges.ts';
import { TokenService } from './token-service.ts';
import { AlarmboxTokenStore } from './token-store.ts';

export interface Alarmbox {
  readonly config: AlarmboxConfig;
  /** `getValidAccessToken()`, `refresh({ force })`, `saveInitialToken(...)` */
  readonly tokens: TokenService;
  /** The token endpoint client; created on first access, which needs the client credentials. */
  readonly client: AlarmboxClient;
  /**
   * The typed AlarmBox API client (`api.creditChecks.create/get`, `api.request`), with the token cache on;
   * created on first access. For other settings use `createAlarmboxApi({ alarmbox, ... })`.
   */
  readonly api: AlarmboxApi;
  readonly store: AlarmboxTokenStore;
  /** Every refresh attempt of this process, recorded in `alarmbox_refresh_history` (no secrets). */
  readonly history: RefreshHistory;
  readonly database: DatabaseHandle;
  /** This instance's token exchanges (refreshes, code exchanges): `close()` waits for them. */
  readonly exchanges: TokenExchanges;
  /**
   * From now on every call rejects at once with a `temporary` error (shutting-down.ts) and starts nothing; a wait
   * for a peer's lease ends. Then waits (at most the HTTP timeout plus 10 s) for the calls under way — a refresh
   * or a code exchange to be saved and its lease released —, for pending history writes, and closes the
   * database pool. Call it after the app's server has drained (docs/integration.md「終了時に応答を失わない」).
   */
  close(): Promise<void>;
}

/**
 * Wires the toolkit from the environment (`ALARMBOX_*`, `DATABASE_URL`); `options` override it.
 * Nothing is connected yet: the first query opens the pool. Run `alarmbox migrate` (or `migrateToLatest`)
 * once before use.
 */
export function createAlarmbox(options: AlarmboxOptions = {}): Alarmbox {
  const config = loadConfig(options);
  const database =
    config.appDatabase === undefined
      ? openDatabase(config.database, config.databaseTimeouts)
      : openAppDatabase(config.appDatabase, config.databaseTimeouts.queryTimeoutMs);
  const store = new AlarmboxTokenStore(database, config.keyRing);
  const history = new RefreshHistory(database);
  const exchanges = new TokenExchanges();
  let client: AlarmboxClient | undefined;
  const getClient = (): AlarmboxClient => {
    client ??= new AlarmboxClient({
      baseUrl: config.baseUrl,
      ...config.credentials(),
      redirectUri: config.redirectUri,
      timeoutMs: config.httpTimeoutMs,
      fetch: config.fetch,
    });
    return client;
  };
  const tokens = new TokenService({
    store,
    client: getClient,
    // docs/design.md: the lease outlives three HTTP timeouts, so a live holder never loses it mid-refresh. Waiters
    // mostly learn of a peer's refresh by watching the row; the lease poll only matters when the holder failed.
    lock: new LockManager(database, {
      name: TokenService.LOCK_NAME,
      leaseMs: 3 * config.httpTimeoutMs,
      purpose: 'トークンを更新中',
      // A waiter ends at its first look after the peer's save: half the default pause keeps what every app
      // instance adds to AlarmBox's answer small, for a few more reads of row 1 during a refresh.
      pollMs: 25,
    }),
    lockWaitMs: config.lockWaitMs,
    fallbackExpiresIn: config.fallbackExpiresIn,
    onAttempt: history.recorder,
    exchanges,
  });
  let api: AlarmboxApi | undefined;
  return {
    config,
    tokens,
    get client() {
      return getClient();
    },
    get api() {
      api ??= createAlarmboxApi({ alarmbox: { tokens, config } });
      return api;
    },
    store,
    history,
    database,
    exchanges,
    close: async () => {
      // AlarmBox may have rotated the pair already: closing the pool under the save would lose it.
      await tokens.close(config.httpTimeoutMs + 10_000);
      await history.flush();
      await database.close();
    },
  };
}

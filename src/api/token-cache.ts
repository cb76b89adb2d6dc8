// The in-process cache of the decrypted access token. Without it every API call reads row 1 and decrypts it
// (TokenService.getValidAccessToken); with it a call costs a field read and a clock comparison.
//
// A cached token can be stale in two ways, and both are bounded:
// - by time: it is kept only until the moment TokenService itself would start refreshing it (expiry minus
//   the margin of expiry.ts) and at most `revalidateMs`, so a rotation by another process is picked up
//   within that interval even if no call fails;
// - by the 401 rule: a call that gets 401 invalid_token drops the token (`invalidate`) and reads the store
//   again before anything else, so a stale token costs at most one rejected request;
// and one is not stale at all: a refresh by the same TokenService (alarmbox.tokens.refresh(), a
// getValidAccessToken() that refreshed) is followed at once through `lastChange`, so `alarmbox.api` never sends
// a token its own instance has replaced (with immediate rotation that token is already revoked).
import { expiryMarginMs } from '../alarmbox/expiry.ts';
import type { TokenChange, TokenService, ValidAccessToken } from '../alarmbox/token-service.ts';
import { AlarmboxError } from '../errors.ts';

/**
 * Where tokens come from: TokenService (reads row 1, refreshes through the lock when expiring). Its `lastChange`
 * (the newest token it has obtained or stored) is followed; without one, only time bounds the cache.
 */
export type TokenSource = Pick<TokenService, 'getValidToken'> & Partial<Pick<TokenService, 'lastChange'>>;

/** Settings of the API client's in-process access token cache. */
export interface TokenCacheOptions {
  /** Read the store again at least this often, in milliseconds. Default 30 000. */
  readonly revalidateMs?: number | undefined;
  /** Milliseconds since the epoch; replaceable so tests can move time instead of waiting. */
  readonly now?: (() => number) | undefined;
}

/** How long the API client reuses a cached access token before it asks the store again (ms). */
export const DEFAULT_REVALIDATE_MS = 30_000;

/** What the API client asks for tokens; implemented with and without a cache. */
export interface AccessTokens {
  /** Whether tokens are kept in memory between calls. */
  readonly cached: boolean;
  /** A valid access token: from memory while fresh, else from the source. */
  getValidAccessToken(): Promise<string>;
  /** Forgets the cached token if it is `token` (or whatever is cached, without an argument). */
  invalidate(token?: string): void;
}

interface Entry {
  readonly token: string;
  /** Settled once and handed out as is: the hot path allocates nothing. */
  readonly promise: Promise<string>;
  readonly freshUntil: number;
  /** The source's `lastChange.seq` when the token was taken: another number means the source has moved on. */
  readonly seq: number | undefined;
}

/** The cache, or with `false` (`tokenCache: false`) none: every call asks the source (one SELECT and one decrypt). */
export class AccessTokenCache implements AccessTokens {
  readonly cached: boolean;
  readonly #source: TokenSource;
  readonly #revalidateMs: number;
  readonly #now: () => number;
  #entry: Entry | undefined;
  /** Bumped by every invalidation: a load that began before it must not store what it read. */
  #generation = 0;
  #loading: { readonly generation: number; readonly promise: Promise<ValidAccessToken> } | undefined;
  /** The source's last change already taken in (so that an expired entry is not brought back from it). */
  #followed: number | undefined;

  constructor(source: TokenSource, options: TokenCacheOptions | false = {}) {
    this.cached = options !== false;
    const settings = options === false ? {} : options;
    const revalidateMs = settings.revalidateMs ?? DEFAULT_REVALIDATE_MS;
    if (!Number.isFinite(revalidateMs) || revalidateMs < 0) {
      throw new AlarmboxError(
        `tokenCache.revalidateMs は 0 以上のミリ秒で指定してください (例: ${DEFAULT_REVALIDATE_MS})。`,
        { reason: 'configuration' },
      );
    }
    this.#source = source;
    this.#revalidateMs = revalidateMs;
    this.#now = settings.now ?? Date.now;
    this.#followed = source.lastChange?.seq;
  }

  getValidAccessToken(): Promise<string> {
    if (!this.cached) return this.#source.getValidToken().then((t) => t.accessToken);
    const change = this.#source.lastChange;
    const entry = this.#entry;
    if (entry !== undefined && entry.seq === change?.seq && this.#now() < entry.freshUntil)
      return entry.promise;
    if (change !== undefined && change.seq !== this.#followed) {
      this.#follow(change);
      const followed = this.#entry;
      if (followed !== undefined && this.#now() < followed.freshUntil) return followed.promise;
    }
    return this.#load().then((t) => t.accessToken);
  }

  /** Takes the source's newest token in place of whatever is cached (or drops it when none is known). */
  #follow(change: TokenChange): void {
    this.#followed = change.seq;
    this.invalidate();
    if (change.token !== undefined) this.#remember(change.token, change.seq);
  }

  invalidate(token?: string): void {
    if (token !== undefined && this.#entry !== undefined && this.#entry.token !== token) return;
    this.#entry = undefined;
    this.#generation++;
  }

  /** Concurrent misses share one read of the store; a read from before an invalidation is not shared. */
  #load(): Promise<ValidAccessToken> {
    const generation = this.#generation;
    if (this.#loading?.generation === generation) return this.#loading.promise;
    const seq = this.#source.lastChange?.seq;
    const promise = this.#source.getValidToken().then((token) => {
      if (generation !== this.#generation) return token;
      const change = this.#source.lastChange;
      // The source changed while we read (this read's own refresh, or another caller's): its newest token wins
      // over a read that may have begun before it.
      if (change !== undefined && change.seq !== seq) this.#follow(change);
      else this.#remember(token, seq);
      return token;
    });
    const loading = { generation, promise };
    this.#loading = loading;
    const done = () => {
      if (this.#loading === loading) this.#loading = undefined;
    };
    promise.then(done, done);
    return promise;
  }

  #remember(token: ValidAccessToken, seq: number | undefined): void {
    // Never past the point where TokenService would refresh it (same margin: expiry.ts).
    if (token.expiredAt === null) return;
    const refreshFrom = token.expiredAt.getTime() - expiryMarginMs(token.expiredAt, token.issuedAt);
    const now = this.#now();
    const freshUntil = Math.min(now + this.#revalidateMs, refreshFrom);
    if (freshUntil <= now) return;
    this.#entry = {
      token: token.accessToken,
      promise: Promise.resolve(token.accessToken),
      freshUntil,
      seq,
    };
  }
}

// The guide's TokenService (lib/alarmbox/token_service.py), following docs/design.md「トークン更新の手順」.
import { EnvelopeTooLongError } from '../crypto/index.ts';
import { TOKENS_TABLE } from '../db/schema.ts';
import { messageOf, reasonOf } from '../errors.ts';
import type { FailureReason } from '../failure-reason.ts';
import type { Lease, LockManager } from '../lock/index.ts';
import { reportSecondaryFailure } from '../secondary-failure.ts';
import { noteExpiry, recordLockWait, traced } from '../telemetry/telemetry.ts';
import { withSecrets } from '../text/operation-secrets.ts';
import { redact } from '../text/redact.ts';
import type { AlarmboxClient } from './client.ts';
import {
  AlarmboxAPIError,
  AlarmboxTokenExpiredError,
  AlarmboxTokenNotFoundError,
  REAUTHORIZE_STEPS,
  tokenNotFoundMessage,
} from './errors.ts';
import { expiryFrom, isExpiring } from './expiry.ts';
import { shuttingDown } from './shutting-down.ts';
import { processTokenExchanges, TokenExchanges } from './token-exchanges.ts';
import { type TokenWarning, warningText } from './token-response.ts';
import type { AlarmboxToken, AlarmboxTokenStore, TokenPair } from './token-store.ts';
import { MAX_VERSION, TokenVersionError } from './token-version.ts';
import type { ReceivedTokens } from './types.ts';

/** A pair received and then lost: with immediate rotation the stored one is revoked already. */
const IF_IMMEDIATE = `immediate なら保存済みのトークンは失効しているため再認可が必要です (${REAUTHORIZE_STEPS})。`;

export interface TokenServiceOptions {
  readonly store: AlarmboxTokenStore;
  /** Created on first use: reading a valid token must not require the client secret to be configured. */
  readonly client: () => AlarmboxClient;
  /** The lease {@link TokenService.LOCK_NAME}. */
  readonly lock: LockManager;
  /** How long to wait for a peer's refresh before giving up with a temporary error. */
  readonly lockWaitMs: number;
  /** Seconds assumed when a token response has no `expires_in`. */
  readonly fallbackExpiresIn: number;
  /** Told about every refresh attempt this process makes (history, metrics). Its failures are ignored. */
  readonly onAttempt?: ((attempt: RefreshAttempt) => void | Promise<void>) | undefined;
  /** Told when a read of row 1 found a valid token (no refresh needed; token events). Its failures are ignored. */
  readonly onValidRead?: ((times: StoredPairTimes) => void) | undefined;
  /** Told when `saveInitialToken` stored a new pair (token events). Its failures are ignored. */
  readonly onRegistered?: ((times: StoredPairTimes) => void) | undefined;
  /**
   * The instance's token exchanges (its refreshes and `exchangeCode()`): {@link TokenService.close} closes the
   * gate and waits for them. Default: a gate of this service alone.
   */
  readonly exchanges?: TokenExchanges | undefined;
}

/**
 * The newest access token a {@link TokenService} has handed out or stored, numbered: a cache of the same
 * instance (the API client's) follows it instead of keeping a token this service has replaced.
 */
export interface TokenChange {
  /** Grows with every change; equal numbers mean the same token. */
  readonly seq: number;
  /** The token, or undefined when only "read the store again" is known (a new pair was registered). */
  readonly token: ValidAccessToken | undefined;
}

/** Who asked for a refresh: an app reading an expiring token, the scheduled job, or a person. */
export type RefreshTrigger = 'online' | 'batch' | 'manual';

/** Options of `TokenService.refresh`. */
export interface RefreshOptions {
  /** Spend the refresh token even if the access token is still valid (the batch). */
  readonly force?: boolean | undefined;
  readonly trigger?: RefreshTrigger | undefined;
  /**
   * Refresh only if the stored access token is still this one: the API rejected it (401 invalid_token), and
   * if a peer has already replaced it, the peer's token is the answer.
   */
  readonly ifAccessTokenIs?: string | undefined;
  /**
   * Refresh only if row 1 was not saved at or after this instant (the batch's schedule: a run that finds the
   * pair saved since its tick, by a peer run or an app's refresh, spends nothing). Checked before the lease and
   * again under it, so two runs of one tick rotate once.
   */
  readonly unlessSavedSince?: Date | undefined;
}

/** When the stored pair was saved and when its access token expires: what a hook learns of a pair, never the pair. */
export interface StoredPairTimes {
  readonly issuedAt: Date | null;
  readonly expiredAt: Date | null;
}

/** One refresh attempt, as `onAttempt` sees it. Never carries a token. */
export interface RefreshAttempt {
  readonly trigger: RefreshTrigger;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** `ok` when a new pair was stored, `skipped` when none was needed, else why it failed. */
  readonly outcome: 'ok' | 'skipped' | FailureReason;
  /** The redacted Japanese message of a failure. */
  readonly message?: string | undefined;
  /** After `ok` or `skipped`: when the pair now stored was saved and when its access token expires. */
  readonly issuedAt?: Date | null | undefined;
  readonly expiredAt?: Date | undefined;
}

/** The outcome of `TokenService.refresh`: the access token now valid and whether a request was made. */
export interface RefreshResult {
  readonly accessToken: string;
  readonly expiredAt: Date;
  /** False when no request was made: the token was still valid, or a peer had just refreshed it. */
  readonly refreshed: boolean;
  /** When the pair was stored (null if unknown): with `expiredAt` it gives the lifetime, hence the margin. */
  readonly issuedAt?: Date | null | undefined;
  /** The scope stored with the pair, when known. */
  readonly scope?: string | null | undefined;
  /** What was odd in AlarmBox's answer (the pair was stored anyway); empty or absent when nothing was. */
  readonly warnings?: readonly TokenWarning[] | undefined;
}

/**
 * A valid access token with what a caller needs to keep it for a while (the API client's in-process cache):
 * its expiry, when it was stored (the margin depends on the lifetime, expiry.ts) and its scope.
 */
export interface ValidAccessToken {
  readonly accessToken: string;
  readonly expiredAt: Date | null;
  readonly issuedAt: Date | null;
  readonly scope: string | null;
}

/** The first token pair to store, as `saveInitialToken` takes it (see `initialTokensFrom`). */
export interface InitialTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** access_token の有効期限 (秒) */
  readonly expiresIn: number;
  readonly scope?: string | undefined;
  /** When the code exchange was sent; defaults to now. */
  readonly requestedAt?: Date | undefined;
  /** What was odd in AlarmBox's answer: kept with the row for `status` and `doctor`. */
  readonly warnings?: readonly TokenWarning[] | undefined;
}

/** AlarmBox API のトークンを管理するサービス */
export class TokenService {
  /** ロック名 (競合防止用) */
  static readonly LOCK_NAME = 'alarmbox-token-refresh';

  readonly #options: TokenServiceOptions;
  /** One refresh at a time per process: concurrent callers share it instead of queueing on the lock. */
  #inflight: Promise<RefreshResult> | undefined;
  /** This service's token exchanges: {@link close} stops new ones and waits for the open ones. */
  readonly #exchanges: TokenExchanges;
  /** Every public call under way (never closed: it only counts), so that close() lets them end before the pool. */
  readonly #calls = new TokenExchanges();
  /** Aborted by close(): a wait for a peer's lease ends at once (its reason: {@link stopping}). */
  readonly #stop = new AbortController();
  #closed = false;
  #lastChange: TokenChange = { seq: 0, token: undefined };
  /** The read of row 1 under way, shared by the callers that arrive meanwhile. */
  #reading: Promise<{ valid: ValidAccessToken } | { expiring: AlarmboxToken }> | undefined;

  /** Not registered, naming the database looked in (the CLI and an app may read different settings). */
  #notFound(): AlarmboxTokenNotFoundError {
    return new AlarmboxTokenNotFoundError(tokenNotFoundMessage(this.#options.store.describeDatabase()));
  }

  constructor(options: TokenServiceOptions) {
    this.#options = options;
    this.#exchanges = options.exchanges ?? new TokenExchanges();
  }

  /** True once {@link TokenService.close} has begun: every call rejects with a `temporary` error, touching nothing. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The newest token this service has obtained (any refresh, through any caller) or stored (a new pair).
   * The API client's cache of the same instance follows it (`alarmbox.api` after `alarmbox.tokens.refresh()`).
   */
  get lastChange(): TokenChange {
    return this.#lastChange;
  }

  /**
   * Admits one public call, or throws the shutting-down error. The steps of a code exchange under way are
   * admitted after close() too: the code is spent, its pair must be saved (close waits for it).
   */
  #enter(): () => void {
    if (this.#closed && !this.#exchanges.inside()) throw shuttingDown();
    // `begin` of a gate that is never closed always returns its `end`.
    return this.#calls.begin() ?? (() => undefined);
  }

  #changed(token: ValidAccessToken | undefined): void {
    this.#lastChange = { seq: this.#lastChange.seq + 1, token };
    if (token !== undefined) noteExpiry(token.expiredAt);
  }

  /**
   * 有効な access_token を取得. 期限切れ (または 5 分以内に切れる) の場合は自動で更新する.
   * @throws AlarmboxTokenNotFoundError トークンが未設定
   * @throws AlarmboxTokenExpiredError トークン更新に失敗 (`reason` で再認可が必要か一時的かを区別)
   */
  async getValidAccessToken(): Promise<string> {
    return (await this.getValidToken()).accessToken;
  }

  /** {@link TokenService.getValidAccessToken} with the token's expiry, issue time and scope (for callers that cache it). */
  getValidToken(): Promise<ValidAccessToken> {
    let end: () => void;
    try {
      end = this.#enter();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#getValidToken().finally(end);
  }

  async #getValidToken(): Promise<ValidAccessToken> {
    // Callers arriving while row 1 is being read share that read and its decryption: a burst of requests
    // (an app at start-up, a page firing many calls) costs one query, not one each. The read began before
    // they called, which is no staler than a read that had finished just before: a token taken from it is
    // as good as any (and a 401 afterwards is the API client's rule to handle).
    this.#reading ??= this.#readValid().finally(() => {
      this.#reading = undefined;
    });
    const read = await this.#reading;
    if ('valid' in read) return read.valid;
    // The expiring row just read is where the refresh starts: no second read before the lease.
    const r = await this.#refreshShared({ trigger: 'online' }, read.expiring);
    return {
      accessToken: r.accessToken,
      expiredAt: r.expiredAt,
      issuedAt: r.issuedAt ?? null,
      scope: r.scope ?? null,
    };
  }

  /** Row 1 decrypted when it is not expiring; the row itself when it is (a refresh is due). */
  async #readValid(): Promise<{ valid: ValidAccessToken } | { expiring: AlarmboxToken }> {
    // A span per read of row 1 (a query); the API client's answers from memory have none (docs/design.md「OpenTelemetry」).
    const token = await traced('alarmbox.token.read', {}, () => this.#options.store.getInstance());
    if (!token.isRegistered) throw this.#notFound();
    noteExpiry(token.expiredAt);
    if (isExpiring(token.expiredAt, token.updatedAt)) return { expiring: token };
    tell(this.#options.onValidRead, { issuedAt: token.updatedAt, expiredAt: token.expiredAt });
    return {
      valid: {
        accessToken: token.getDecryptedAccessToken(),
        expiredAt: token.expiredAt,
        issuedAt: token.updatedAt,
        scope: token.scope,
      },
    };
  }

  /**
   * Refreshes through the lock. Without `force` only an expiring token is refreshed; with it (the batch)
   * the refresh token is used even if the access token is still valid, unless a peer just did so.
   */
  refresh(options: RefreshOptions = {}): Promise<RefreshResult> {
    let end: () => void;
    try {
      end = this.#enter();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#refreshShared(options, undefined).finally(end);
  }

  /** `seen`: row 1 as the caller has just read it, if it has. */
  #refreshShared(options: RefreshOptions, seen: AlarmboxToken | undefined): Promise<RefreshResult> {
    // One operation of known secrets (operation-secrets.ts): the refresh token sent and the pair received stay
    // out of every message of the attempt, its history row and `last_error`, the save's failure included.
    this.#inflight ??= withSecrets([], () => this.#attempt(options, seen)).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #attempt(options: RefreshOptions, seen: AlarmboxToken | undefined): Promise<RefreshResult> {
    const trigger = options.trigger ?? 'manual';
    // The attempt's span: the lease wait, the token request and the save are its children (telemetry.ts).
    return traced('alarmbox.token.refresh', { 'alarmbox.refresh.trigger': trigger }, async (span) => {
      try {
        const result = await this.#attemptReported(options, seen);
        span.set('alarmbox.refresh.outcome', result.refreshed ? 'ok' : 'skipped');
        return result;
      } catch (error) {
        span.set('alarmbox.refresh.outcome', reasonOf(error));
        throw error;
      }
    });
  }

  async #attemptReported(options: RefreshOptions, seen: AlarmboxToken | undefined): Promise<RefreshResult> {
    const startedAt = new Date();
    const report = (
      outcome: RefreshAttempt['outcome'],
      message?: string,
      stored?: Pick<RefreshAttempt, 'issuedAt' | 'expiredAt'>,
    ) => {
      const attempt: RefreshAttempt = {
        trigger: options.trigger ?? 'manual',
        startedAt,
        durationMs: Date.now() - startedAt.getTime(),
        outcome,
        message,
        ...stored,
      };
      return Promise.resolve()
        .then(() => this.#options.onAttempt?.(attempt))
        .catch((error: unknown) => reportSecondaryFailure('更新の記録', error));
    };
    try {
      const result = await this.#refreshOnce(options, seen);
      this.#changed({
        accessToken: result.accessToken,
        expiredAt: result.expiredAt,
        issuedAt: result.issuedAt ?? null,
        scope: result.scope ?? null,
      });
      await report(result.refreshed ? 'ok' : 'skipped', warningText(result.warnings ?? []), {
        issuedAt: result.issuedAt,
        expiredAt: result.expiredAt,
      });
      return result;
    } catch (error) {
      await report(reasonOf(error), redact(messageOf(error)));
      throw error;
    }
  }

  /**
   * Stops new token requests of this service and waits, at most `boundMs`, for the one under way to be saved
   * or known lost (its lease released). For shutdown: `Alarmbox.close()`.
   */
  async close(boundMs: number): Promise<boolean> {
    this.#closed = true;
    this.#exchanges.close();
    this.#stop.abort(stopping());
    const [exchanged, called] = await Promise.all([
      this.#exchanges.idleWithin(boundMs),
      this.#calls.idleWithin(boundMs),
    ]);
    return exchanged && called;
  }

  /**
   * Checks, storing nothing, that {@link TokenService.saveInitialToken} can store a pair now (key ring,
   * database, migrations, a rolled-back write of row 1). The code exchange calls it before it spends the code.
   * @throws the error the save would meet (`configuration`, `temporary`, …)
   */
  async prepareSave(): Promise<void> {
    const end = this.#enter();
    try {
      await this.#options.store.checkInitialSave();
    } finally {
      end();
    }
  }

  /** 初回認証後のトークンを保存 */
  async saveInitialToken(tokens: InitialTokens): Promise<AlarmboxToken> {
    const end = this.#enter();
    try {
      const saved = await this.#saveInitial(tokens);
      // A new registration: whatever a cache of this instance holds is another pair's token.
      this.#changed(undefined);
      tell(this.#options.onRegistered, { issuedAt: saved.updatedAt, expiredAt: saved.expiredAt });
      noteExpiry(saved.expiredAt);
      return saved;
    } finally {
      end();
    }
  }

  #saveInitial(tokens: InitialTokens): Promise<AlarmboxToken> {
    const warning = warningText(tokens.warnings ?? []);
    if (warning !== undefined) reportWarning(warning);
    return traced('alarmbox.token.save', { 'alarmbox.save.kind': 'initial' }, () =>
      this.#saveInitialRow(tokens, warning),
    );
  }

  #saveInitialRow(tokens: InitialTokens, warning: string | undefined): Promise<AlarmboxToken> {
    return this.#options.store.saveInitial({
      // No usable access token arrived: store the refresh token with an access token already expired, so that
      // the first read refreshes.
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiredAt: expiryFrom(
        tokens.requestedAt ?? new Date(),
        tokens.accessToken === '' ? 0 : tokens.expiresIn,
      ),
      scope: tokens.scope,
      warning,
    });
  }

  /** Turns a code exchange's answer into what {@link TokenService.saveInitialToken} stores. */
  initialTokensFrom(received: ReceivedTokens): InitialTokens {
    const r = received.response;
    if (r.refresh_token === undefined) {
      throw new AlarmboxAPIError(
        'AlarmBox の応答に refresh_token がありません。このままでは自動更新できないため保存しませんでした。AlarmBox のアプリ設定を確認してください。',
        { statusCode: 200, reason: 'unexpected' },
      );
    }
    return {
      accessToken: r.access_token,
      refreshToken: r.refresh_token,
      expiresIn: r.expires_in ?? this.#options.fallbackExpiresIn,
      scope: r.scope,
      requestedAt: received.requestedAt,
      warnings: received.warnings,
    };
  }

  async #refreshOnce(
    options: RefreshOptions,
    seenByCaller: AlarmboxToken | undefined,
  ): Promise<RefreshResult> {
    const { ifAccessTokenIs, unlessSavedSince } = options;
    const force = options.force ?? false;
    const seen = seenByCaller ?? (await this.#options.store.getInstance());
    if (!seen.isRegistered) throw this.#notFound();
    /** Whether `current` already answers this request, so that no refresh token needs to be spent. */
    const answered = (current: AlarmboxToken): boolean => {
      if (
        unlessSavedSince !== undefined &&
        current.updatedAt !== null &&
        current.updatedAt >= unlessSavedSince
      )
        return true;
      if (ifAccessTokenIs !== undefined) return current.getDecryptedAccessToken() !== ifAccessTokenIs;
      // A forced refresh yields only to a peer's new pair (a save bumps `version`; a corrupted one, -1, is no
      // peer's); a lazy one to any token that is not expiring.
      return force ? current.version > seen.version : !isExpiring(current.expiredAt, current.updatedAt);
    };
    if ((ifAccessTokenIs !== undefined || unlessSavedSince !== undefined || !force) && answered(seen))
      return unchanged(seen);
    // A refresh is due: its save is a compare-and-set on `version`, so a counter that cannot be compared stops
    // it here, before anything is sent (a valid token is still read above without it).
    this.#assertVersion(seen);

    const waited = await this.#leaseOrPeer(answered);
    if ('peer' in waited) return unchanged(waited.peer);
    const { lease } = waited;
    // From here until the lease is released, shutdown waits for us (token-exchanges.ts).
    const ends = [this.#exchanges.begin(), processTokenExchanges.begin()];
    try {
      if (ends.includes(undefined)) throw stopping();
      // ロック取得後、再度チェック (他のプロセスが更新済みの可能性)
      const current = await this.#options.store.getInstance();
      if (!current.isRegistered) throw this.#notFound();
      if (answered(current)) return unchanged(current);
      this.#assertVersion(current);
      return await this.#refreshWith(current);
    } finally {
      // Unreleased, the lease only delays the next refresh until it expires; the outcome above stands.
      await lease.release().catch((error: unknown) => reportSecondaryFailure('更新のリースの解放', error));
      for (const end of ends) end?.();
    }
  }

  /**
   * Takes the lease, or learns that a peer has stored the pair we were about to fetch, whichever comes first:
   * between its tries for the lease, the lock's wait loop looks at row 1, so a waiter finds the peer's pair
   * and ends, instead of every waiting process taking the lease in turn, after the peer released it, only to
   * find the work done.
   */
  async #leaseOrPeer(
    answered: (current: AlarmboxToken) => boolean,
  ): Promise<{ lease: Lease } | { peer: AlarmboxToken }> {
    const { lock, store, lockWaitMs } = this.#options;
    const started = performance.now();
    const waitedFor = () => (performance.now() - started) / 1000;
    try {
      const waited = await lock.acquireUnless(
        async () => {
          const current = await store.getInstance();
          return current.isRegistered && answered(current) ? current : undefined;
        },
        { waitMs: lockWaitMs, signal: this.#stop.signal },
      );
      recordLockWait(waitedFor(), 'lease' in waited ? 'acquired' : 'peer');
      return 'lease' in waited ? waited : { peer: waited.settled };
    } catch (error) {
      const failure = AlarmboxTokenExpiredError.fromRefreshFailure(error);
      recordLockWait(waitedFor(), failure.reason);
      throw failure;
    }
  }

  /** @throws AlarmboxTokenExpiredError (`stored_data_invalid`) when row 1's `version` cannot be compared */
  #assertVersion(token: AlarmboxToken): void {
    if (token.version >= 0) return;
    throw AlarmboxTokenExpiredError.fromRefreshFailure(
      new TokenVersionError(
        `${this.#options.store.describeRow()} の列 version (保存のたびに 1 増える、更新の比較に使う番号) の値が壊れています ` +
          `(0 以上 ${MAX_VERSION} 以下の整数ではありません)。AlarmBox には何も送っていないため、保存済みのトークンはそのまま使えます。` +
          `UPDATE ${TOKENS_TABLE} SET version = 1 WHERE id = 1 を実行してから再実行してください (alarmbox save-token で登録し直しても直ります)。` +
          'version を書き換える処理 (手作業の UPDATE、ほかのツール) がないかも確認してください。',
      ),
    );
  }

  /**
   * The `version` compare-and-set failed and no peer saved a pair: the counter was corrupted or changed
   * under us. AlarmBox has issued `pair` (with immediate rotation the stored refresh token is already dead),
   * so it is saved over exactly the pair now stored, with a sound `version`, before anything else is said;
   * then the refresh fails with `stored_data_invalid`, whether the pair could be kept or not.
   */
  async #keepIssued(
    pair: TokenPair,
    current: AlarmboxToken,
    after: AlarmboxToken,
    savedAt: Date,
  ): Promise<never> {
    const store = this.#options.store;
    const version = Math.max(current.version, after.version) + 1;
    const seen = after.version >= 0 ? `${after.version}` : '壊れた値';
    const kept = await store.saveOver(pair, after, version, savedAt).catch(() => false);
    const where = store.describeRow();
    const message = kept
      ? `AlarmBox から新しいトークンを受け取りましたが、保存の比較 (列 version) が合いませんでした。${where} の version が、` +
        `読んだときの ${current.version} から別のプロセスの保存なしに ${seen} に変わっています (トークンは変わっていません)。` +
        `受け取ったトークンは失わないよう保存し、version を ${version} に直しました。次の更新はそのまま成功します。` +
        `このパッケージ以外に ${TOKENS_TABLE} を書き換える処理 (手作業の UPDATE、バックアップからの復元など) がないか確認してください。`
      : `AlarmBox から新しいトークンを受け取りましたが、${where} が保存の直前に別の何かに書き換えられ (version ${seen})、保存できませんでした。` +
        'AlarmBox はトークンをローテーションした可能性があり、受け取ったトークンは失われました。' +
        'ローテーション方式が on_use なら、保存済みのトークンで次の更新が成功します。' +
        IF_IMMEDIATE +
        `${TOKENS_TABLE} を書き換える処理がないか確認してください。`;
    const failure = AlarmboxTokenExpiredError.fromRefreshFailure(new TokenVersionError(message));
    await store.recordFailure(failure.reason, failure.message).catch(() => undefined);
    throw failure;
  }

  async #refreshWith(current: AlarmboxToken): Promise<RefreshResult> {
    const store = this.#options.store;
    let received: ReceivedTokens;
    // A stop that arrived while row 1 was re-read: nothing is sent yet, so nothing can be lost.
    if (this.#exchanges.closed || processTokenExchanges.closed) throw stopping();
    try {
      received = await this.#options.client().refreshToken(current.getDecryptedRefreshToken());
    } catch (error) {
      if (error instanceof AlarmboxAPIError && error.oauthError === 'invalid_grant') {
        // A peer whose lease we outlived may have spent the token and saved the new pair: that is success.
        const after = await store.getInstance();
        if (after.isRegistered && isPeerSave(after, current)) return unchanged(after);
      }
      const failure = AlarmboxTokenExpiredError.fromRefreshFailure(error);
      await store.recordFailure(failure.reason, failure.message).catch(() => undefined);
      throw failure;
    }

    const warnings = received.warnings ?? [];
    const pair = refreshedPair(received, current, this.#options.fallbackExpiresIn);
    if (pair.warning !== undefined) reportWarning(pair.warning);
    let saved: boolean;
    const savedAt = new Date();
    try {
      saved = await traced('alarmbox.token.save', { 'alarmbox.save.kind': 'refreshed' }, () =>
        store.saveRefreshed(pair, current.version, savedAt),
      );
    } catch (error) {
      const failure =
        error instanceof EnvelopeTooLongError
          ? // Not a database failure: the pair cannot be stored at all (a token longer than the column).
            AlarmboxTokenExpiredError.fromRefreshFailure(error)
          : new AlarmboxTokenExpiredError(
              `トークンの更新に失敗しました: AlarmBox から新しいトークンを受け取りましたが、データベースに保存できませんでした (${error instanceof Error ? redact(error.message) : '原因不明'})。` +
                'ローテーション方式が on_use なら、保存済みのリフレッシュトークンで次回の更新が成功し自動で復旧します。' +
                IF_IMMEDIATE,
              { reason: 'temporary', cause: error },
            );
      // The row is only worth a note when the database works. After a database failure, another write to
      // the same row would wait out the same lock or busy timeout (MariaDB: 50 s) before the caller hears of
      // it; the refresh history still records the attempt.
      if (error instanceof EnvelopeTooLongError) {
        await store.recordFailure(failure.reason, failure.message).catch(() => undefined);
      }
      throw failure;
    }
    if (!saved) {
      const after = await store.getInstance();
      if (!after.isRegistered) throw this.#notFound();
      // Our lease ran out while AlarmBox answered and a peer stored a newer pair: theirs is the one to use.
      if (isPeerSave(after, current, pair)) return unchanged(after);
      // Anything else is no peer: keep what AlarmBox issued, then say that the row was tampered with.
      if (!holdsPair(after, pair)) await this.#keepIssued(pair, current, after, savedAt);
    }
    if (pair.accessToken === '') {
      throw new AlarmboxTokenExpiredError(
        `トークンの更新に失敗しました: ${warnings.find((w) => w.code === 'access_token_unusable')?.message ?? ''}しばらくしてから再実行してください。`,
        { reason: 'temporary', statusCode: 200 },
      );
    }
    return {
      accessToken: pair.accessToken,
      expiredAt: pair.expiredAt,
      refreshed: true,
      issuedAt: savedAt,
      scope: pair.scope ?? null,
      warnings,
    };
  }
}

/** The pair to store from a refresh response, with what the response left out taken from the stored one. */
function refreshedPair(
  received: ReceivedTokens,
  current: AlarmboxToken,
  fallbackExpiresIn: number,
): TokenPair {
  const r = received.response;
  return {
    accessToken: r.access_token,
    // Keep the old refresh token only if the response omits one (RFC 6749 §6: "MAY issue a new").
    refreshToken: r.refresh_token ?? current.getDecryptedRefreshToken(),
    // Without a usable access token the pair is stored already expired: the next read refreshes again.
    expiredAt:
      r.access_token === ''
        ? received.requestedAt
        : expiryFrom(received.requestedAt, r.expires_in ?? fallbackExpiresIn),
    scope: r.scope ?? current.scope ?? undefined,
    warning: warningText(received.warnings ?? []),
  };
}

/** Calls an observer hook; what it throws is a warning, never the caller's failure (the result stands). */
function tell(hook: ((times: StoredPairTimes) => void) | undefined, times: StoredPairTimes): void {
  try {
    hook?.(times);
  } catch (error) {
    reportSecondaryFailure('トークンの通知', error);
  }
}

/** Shutdown has begun (a signal, `close()`): no token request is started that could not be saved. */
function stopping(): AlarmboxTokenExpiredError {
  return new AlarmboxTokenExpiredError(
    'トークンの更新を始めませんでした: 終了処理中です (シグナルまたは close())。次の実行で更新します。',
    { reason: 'temporary' },
  );
}

/**
 * An odd answer that was stored anyway goes to the process's warnings (stderr unless the application
 * listens for `process.on('warning')`), besides the refresh history and row 1.
 */
function reportWarning(text: string): void {
  process.emitWarning(text, { code: 'ALARMBOX_TOKEN_RESPONSE' });
}

/** The pair of `token`, decrypted; undefined when it cannot be (a key this ring lacks). */
function pairOf(token: AlarmboxToken): { access: string; refresh: string } | undefined {
  try {
    return { access: token.getDecryptedAccessToken(), refresh: token.getDecryptedRefreshToken() };
  } catch {
    return undefined;
  }
}

/** Whether row 1 (`after`) holds exactly `pair`: our own save, whatever the compare-and-set reported. */
function holdsPair(after: AlarmboxToken, pair: TokenPair): boolean {
  const stored = pairOf(after);
  return (
    pair.accessToken !== '' && stored?.access === pair.accessToken && stored.refresh === pair.refreshToken
  );
}

/**
 * Whether `after` is a peer's save since `current` was read: a strictly newer `version` (every save bumps
 * it from a sound value; -1 never is) with tokens that are neither the ones we refreshed from nor the ones
 * AlarmBox just gave us (`ours`). A pair under a key this ring lacks counts as different: a peer with a newer
 * key ring. Anything else that moved the counter is not a peer, and proves nothing.
 */
function isPeerSave(after: AlarmboxToken, current: AlarmboxToken, ours?: TokenPair): boolean {
  if (!(after.version > current.version)) return false;
  const stored = pairOf(after);
  if (stored === undefined) return true;
  const was = pairOf(current);
  if (stored.access === was?.access && stored.refresh === was.refresh) return false;
  return ours === undefined || !holdsPair(after, ours);
}

function unchanged(token: AlarmboxToken): RefreshResult {
  return {
    accessToken: token.getDecryptedAccessToken(),
    expiredAt: token.expiredAt ?? new Date(0),
    refreshed: false,
    issuedAt: token.updatedAt,
    scope: token.scope,
  };
}

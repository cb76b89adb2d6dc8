// AlarmboxApi: typed calls to the AlarmBox API with the token handled for the caller.
//
// Rules (docs/design.md「AlarmBox について分かっていること」, issue 6):
// - Every call takes its token from TokenService, through the in-process cache (token-cache.ts).
// - 401 with `error="invalid_token"` (RFC 6750 §3.1): if the stored token already differs from the one that
//   failed, a peer rotated it: retry with the stored one. Otherwise force one refresh through the lock, which
//   re-checks under the lock that the stored token is still the failed one, and retry once. A second 401 is
//   an error for a person: never a loop.
// - 429 / 5xx: bounded retries with backoff and jitter, for GET only (retry.ts). A POST (a purchase) is sent
//   at most once per call whatever happens, except for the one 401 retry above.
// - A timeout on every request (http.ts); empty and non-JSON bodies are tolerated (response-body.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { shuttingDown } from '../alarmbox/shutting-down.ts';
import type { TokenService } from '../alarmbox/token-service.ts';
import { AlarmboxError } from '../errors.ts';
import { type FetchLike, outgoingFetch } from '../http/fetch.ts';
import { traced } from '../telemetry/telemetry.ts';
import { rememberSecrets, withSecrets } from '../text/operation-secrets.ts';
import { isInvalidTokenChallenge, parseBearerChallenge } from './bearer-challenge.ts';
import {
  checkCreateParams,
  checkCreditCheckId,
  parseCreditCheck,
  parseCreditCheckDetail,
} from './credit-checks.ts';
import {
  type EndpointOverrides,
  type EndpointTable,
  expandPath,
  type HttpMethod,
  isRelativePath,
  pathOnly,
  resolveEndpoints,
  scopeForPath,
  templateForPath,
} from './endpoints.ts';
import {
  AlarmboxApiBadRequestError,
  AlarmboxApiCallError,
  AlarmboxApiForbiddenError,
  AlarmboxApiInputError,
  AlarmboxApiNotFoundError,
  AlarmboxApiOutcomeUnknownError,
  AlarmboxApiResponseError,
  AlarmboxApiUnauthorizedError,
  AlarmboxApiUnavailableError,
  describeCall,
  MESSAGES,
} from './errors.ts';
import { type Exchange, exchange } from './http.ts';
import { errorDetails, summariseBody } from './response-body.ts';
import { decideRetry, parseRetryAfterMs, type RetryPolicy, resolveRetryPolicy } from './retry.ts';
import { AccessTokenCache, type AccessTokens, type TokenCacheOptions } from './token-cache.ts';
import type { CreateCreditCheckParams, CreditCheck, CreditCheckDetail, CreditCheckId } from './types.ts';

/**
 * Settings of the API client: where its tokens come from and go to, and how it calls.
 * `createAlarmboxApi({ alarmbox, ... })` fills `tokens`, `baseUrl`, `timeoutMs` and `fetch` from a toolkit instance.
 */
export interface AlarmboxApiOptions {
  /**
   * Supplies access tokens and forces the one refresh after a 401 (`alarmbox.tokens`). After its `close()`
   * every call refuses at once, a cached token notwithstanding.
   */
  readonly tokens: TokenService;
  /** e.g. `https://api.alarmbox.jp` (no trailing slash needed). */
  readonly baseUrl: string;
  /** Per request (connect, headers and body). Default: the toolkit's HTTP timeout (ALARMBOX_HTTP_TIMEOUT_MS). */
  readonly timeoutMs?: number | undefined;
  /** Corrections of the default paths and rows for other endpoints (endpoints.ts). */
  readonly endpoints?: EndpointOverrides | undefined;
  /** Retries of GET on 429 / 5xx. `{ maxAttempts: 1 }` turns them off. */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** The in-process token cache: on by default; `false` reads the store on every call. */
  readonly tokenCache?: boolean | TokenCacheOptions | undefined;
  /** Told before each automatic retry (for logs and metrics). Never given a token. */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  readonly userAgent?: string | undefined;
  /**
   * The app's own fetch, used for every API request; then HTTPS_PROXY / NO_PROXY are not applied
   * (docs/integration.md「プロキシと社内の CA」). Default: the package's, which honours them.
   */
  readonly fetch?: FetchLike | undefined;
}

/** Reported to `onRetry` when the client sends a failed API call again. */
export interface RetryEvent {
  /** Why the request is sent again: an HTTP status, or `invalid_token` for the 401 rule. */
  readonly cause: number | 'invalid_token';
  readonly method: HttpMethod;
  readonly path: string;
  /** The request that failed (1 = the first). */
  readonly attempt: number;
  readonly delayMs: number;
  /** For `invalid_token`: whether a refresh was needed (false: another process had already rotated it). */
  readonly refreshed?: boolean | undefined;
}

/** Options of every API call: cancellation. */
export interface CallOptions {
  /** Cancels the call (in addition to the timeout). A POST cancelled in flight reports an unknown outcome. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of `api.request`: how to check and convert the answer. */
export interface RequestOptions<T> extends CallOptions {
  /** Checks and converts the parsed JSON body (recommended: the other endpoints' shapes are undocumented). */
  readonly parse?: ((body: unknown) => T) | undefined;
}

/** Options of a call to a named endpoint of the endpoint table. */
export interface CallEndpointOptions<T> extends RequestOptions<T> {
  /** Values of the path's `{name}` placeholders. */
  readonly params?: Readonly<Record<string, string | number>> | undefined;
  readonly query?: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly body?: unknown;
}

/** Options of `creditChecks.get`. */
export interface GetCreditCheckOptions extends CallOptions {
  /** Ask for the report PDF too (`with_pdf=true`): `pdf_file_data`, base64. */
  readonly withPdf?: boolean | undefined;
}

/** The credit-check endpoints (`api.creditChecks`). */
export interface CreditChecksApi {
  /** 信用チェックを購入する (費用が発生します。自動では再送しません). AlarmBox answers 200 (older docs: 201). */
  create(params: CreateCreditCheckParams, options?: CallOptions): Promise<CreditCheck>;
  /** 購入済みの信用チェックを取得する. */
  get(id: CreditCheckId, options?: GetCreditCheckOptions): Promise<CreditCheckDetail>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'alarmbox-auth';

interface CallTarget {
  readonly method: HttpMethod;
  /** Path with its query, relative to the base URL. */
  readonly path: string;
  /** From the endpoint table, for the 403 message. */
  readonly scope: string | undefined;
}

/** An exchange and the number of requests the call took. */
type Answer = Exchange & { readonly attempts: number };

/**
 * The typed AlarmBox API client: `creditChecks.create/get` and `request` for any endpoint, with the bearer
 * token from a {@link TokenService}, one forced refresh after a 401, and retries of safe requests.
 */
export class AlarmboxApi {
  readonly creditChecks: CreditChecksApi;
  /** The endpoint table in force (defaults merged with the corrections given). */
  readonly endpoints: EndpointTable;
  /** The tokens calls use: `getValidAccessToken()` answers from memory while the cached token is fresh. */
  readonly tokens: AccessTokens;
  readonly #source: TokenService;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #onRetry: ((event: RetryEvent) => void) | undefined;
  readonly #userAgent: string;
  readonly #fetch: FetchLike;

  constructor(options: AlarmboxApiOptions) {
    this.#source = options.tokens;
    this.#base = new URL(options.baseUrl.replace(/\/+$/, ''));
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new AlarmboxError('timeoutMs は正のミリ秒で指定してください (例: 30000)。', {
        reason: 'configuration',
      });
    }
    this.#retry = resolveRetryPolicy(options.retry);
    this.#onRetry = options.onRetry;
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    // A malformed proxy variable is a ConfigError here, before any request.
    this.#fetch = outgoingFetch(this.#base, options.fetch).fetch;
    this.endpoints = resolveEndpoints(options.endpoints);
    this.tokens = new AccessTokenCache(options.tokens, options.tokenCache === true ? {} : options.tokenCache);
    this.creditChecks = {
      create: (params, callOptions) => operation(() => this.#createCreditCheck(params, callOptions)),
      get: (id, getOptions) => operation(() => this.#getCreditCheck(id, getOptions)),
    };
  }

  /**
   * Any AlarmBox API call: `path` is relative to the base URL (query allowed). The parsed JSON body is
   * returned (null for an empty one) as `T`, checked by `options.parse` when given.
   */
  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    options: RequestOptions<T> = {},
  ): Promise<T> {
    const target = { method, path, scope: scopeForPath(this.endpoints, method, path) };
    return operation(() => this.#json(target, body, options));
  }

  /** A call by the name of a row of the endpoint table (`call('getCreditCheck', { params: { id } })`). */
  async call<T = unknown>(name: string, options: CallEndpointOptions<T> = {}): Promise<T> {
    const spec = this.endpoints[name];
    if (spec === undefined) {
      throw new AlarmboxApiInputError(
        `エンドポイント "${name.slice(0, 64)}" は表にありません。createAlarmboxApi の endpoints に { method, path, scope } を追加してください。`,
      );
    }
    let path: string;
    try {
      path = expandPath(spec.path, options.params) + queryString(options.query);
    } catch (error) {
      throw new AlarmboxApiInputError(error instanceof Error ? error.message : String(error));
    }
    return operation(() =>
      this.#json({ method: spec.method, path, scope: spec.scope }, options.body, options),
    );
  }

  async #createCreditCheck(params: CreateCreditCheckParams, options: CallOptions = {}): Promise<CreditCheck> {
    const body = checkCreateParams(params);
    const spec = this.endpoints.createCreditCheck;
    const target = { method: spec.method, path: expandPath(spec.path), scope: spec.scope };
    const res = await this.#send(target, body, options);
    // 200 today; an older AlarmBox document says 201 Created. Both mean the purchase was made.
    if (res.status !== 200 && res.status !== 201) throw await this.#statusError(target, res);
    const parsed = res.body.kind === 'json' ? parseCreditCheck(res.body.json) : undefined;
    if (parsed?.ok !== true) throw unreadable(target, res, parsed?.problem);
    return parsed.value;
  }

  async #getCreditCheck(id: CreditCheckId, options: GetCreditCheckOptions = {}): Promise<CreditCheckDetail> {
    const spec = this.endpoints.getCreditCheck;
    const path =
      expandPath(spec.path, { id: checkCreditCheckId(id) }) +
      (options.withPdf === true ? queryString({ with_pdf: true }) : '');
    const target = { method: spec.method, path, scope: spec.scope };
    const res = await this.#send(target, undefined, options);
    if (res.status !== 200) throw await this.#statusError(target, res);
    const parsed = res.body.kind === 'json' ? parseCreditCheckDetail(res.body.json) : undefined;
    if (parsed?.ok !== true) throw unreadable(target, res, parsed?.problem);
    return parsed.value;
  }

  async #json<T>(target: CallTarget, body: unknown, options: RequestOptions<T>): Promise<T> {
    const res = await this.#send(target, body, options);
    if (res.status < 200 || res.status > 299) throw await this.#statusError(target, res);
    if (res.body.kind === 'empty') return options.parse === undefined ? (null as T) : options.parse(null);
    if (res.body.kind !== 'json') throw unreadable(target, res, undefined);
    if (options.parse === undefined) return res.body.json as T;
    try {
      return options.parse(res.body.json);
    } catch (error) {
      throw unreadable(target, res, error instanceof Error ? error.message : undefined);
    }
  }

  /**
   * Sends one call in a client span `alarmbox.api <METHOD> <path template>`: method, server, template, the final
   * status and the number of requests; never the query, an id or the token.
   */
  #send(target: CallTarget, body: unknown, options: CallOptions): Promise<Answer> {
    const template = templateForPath(this.endpoints, target.method, target.path);
    const attributes = {
      'http.request.method': target.method,
      'server.address': this.#base.hostname,
      'url.template': template,
    };
    return traced(
      `alarmbox.api ${target.method} ${template}`,
      attributes,
      async (span) => {
        const res = await this.#sendAttempts(target, body, options);
        span.set('http.response.status_code', res.status);
        span.set('alarmbox.api.attempts', res.attempts);
        if (res.status >= 400) span.fail(String(res.status));
        return res;
      },
      'client',
    );
  }

  /** Sends one call: the token, the 401 rule and (GET only) the retries. Answers any status it ends with. */
  async #sendAttempts(target: CallTarget, body: unknown, options: CallOptions): Promise<Answer> {
    const url = this.#urlOf(target.path);
    // After close(): nothing is sent, not even with a token still cached (a purchase must not start now).
    if (this.#source.closed) throw shuttingDown();
    const call = describeCall(target.method, target.path);
    const bare = pathOnly(target.path);
    let accessToken = await this.tokens.getValidAccessToken();
    let renewedAfter401 = false;
    for (let attempt = 1; ; ) {
      // Whatever AlarmBox echoes of the token (a body, a challenge) is replaced in every error of this call.
      rememberSecrets(accessToken);
      const res = await exchange({
        method: target.method,
        url,
        call,
        path: bare,
        accessToken,
        body,
        timeoutMs: this.#timeoutMs,
        signal: options.signal,
        userAgent: this.#userAgent,
        attempt,
        fetch: this.#fetch,
      });

      if (res.status === 401) {
        accessToken = await this.#tokenAfter401(target, attempt, res, accessToken, renewedAfter401);
        renewedAfter401 = true;
        continue;
      }

      // RFC 9110 §9.2.2: only GET is repeated. A POST that got 429 / 5xx is reported, never resent.
      if (target.method === 'GET') {
        const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'));
        const decision = decideRetry(attempt, res.status, retryAfterMs, this.#retry);
        if (decision.retry) {
          this.#onRetry?.({
            cause: res.status,
            method: target.method,
            path: bare,
            attempt,
            delayMs: decision.delayMs,
          });
          await sleep(decision.delayMs, undefined, { signal: options.signal });
          attempt++;
          // Cheap with the cache; and if another process rotated the token meanwhile, the new one is used.
          accessToken = await this.tokens.getValidAccessToken();
          continue;
        }
      }
      return { ...res, attempts: attempt };
    }
  }

  /** The URL of a path under the configured base; anything else is refused before a token is read. */
  #urlOf(path: string): URL {
    if (!isRelativePath(path)) {
      throw new AlarmboxApiInputError(
        `パスは / で始めてください (例: /ps/v1/credit_checks)。別のホストには送信しません。指定値: ${path.slice(0, 64)}`,
      );
    }
    const url = new URL(this.#base.href.replace(/\/+$/, '') + path);
    // The token goes to the configured AlarmBox only (RFC 6750 §5.3), whatever the path contains.
    if (url.origin !== this.#base.origin) {
      throw new AlarmboxApiInputError('パスが ALARMBOX_BASE_URL 以外の場所を指しています。送信しません。');
    }
    return url;
  }

  /**
   * A 401 answer: the token to send the call again with, or the error that ends it. Only `invalid_token`
   * (RFC 6750 §3.1) is renewed, and only once per call.
   */
  async #tokenAfter401(
    target: CallTarget,
    attempt: number,
    res: Exchange,
    accessToken: string,
    renewedAlready: boolean,
  ): Promise<string> {
    const challenge = parseBearerChallenge(res.headers.get('www-authenticate'));
    const call = describeCall(target.method, target.path);
    const base = { method: target.method, path: pathOnly(target.path), statusCode: 401 } as const;
    if (!isInvalidTokenChallenge(challenge)) {
      throw new AlarmboxApiCallError(MESSAGES.unauthorizedOther(call, challenge?.error), {
        ...base,
        responseBody: res.body.text,
        reason: 'unexpected',
      });
    }
    if (renewedAlready) {
      throw new AlarmboxApiUnauthorizedError(MESSAGES.unauthorizedAgain(call, challenge?.errorDescription), {
        ...base,
        oauthError: 'invalid_token',
        reason: 'reauthorization_required',
      });
    }
    // A 401 comes from Doorkeeper's before_action, before the controller runs: the request did nothing at
    // AlarmBox, so sending it once more — even a POST, even a purchase — cannot do anything twice.
    const renewed = await this.#renewAfterInvalidToken(accessToken);
    this.#onRetry?.({
      cause: 'invalid_token',
      method: target.method,
      path: base.path,
      attempt,
      delayMs: 0,
      refreshed: renewed.refreshed,
    });
    return renewed.accessToken;
  }

  /**
   * The 401 rule. The cached token is dropped and the store read again: a different token there means another
   * process (or this one) already rotated it, and it is the answer. Otherwise one forced refresh, which
   * TokenService performs under the lock only if the stored token is still the one that failed — so N
   * processes hitting the same 401 spend the refresh token once.
   */
  async #renewAfterInvalidToken(failed: string): Promise<{ accessToken: string; refreshed: boolean }> {
    this.tokens.invalidate(failed);
    // From the store, past the cache, which must not hand the failed token back while we decide. TokenService
    // may answer from a read of row 1 already under way, which can still show the failed token: then the
    // forced refresh below reads row 1 anew and returns a peer's newer token without the lock or a request.
    const stored = await this.#source.getValidToken();
    if (stored.accessToken !== failed) return { accessToken: stored.accessToken, refreshed: false };
    const result = await this.#source.refresh({ force: true, ifAccessTokenIs: failed, trigger: 'online' });
    // A concurrent call of this process may have cached the failed token meanwhile (the store still held it).
    this.tokens.invalidate(failed);
    return { accessToken: result.accessToken, refreshed: result.refreshed };
  }

  async #statusError(target: CallTarget, res: Answer): Promise<AlarmboxApiCallError> {
    const call = describeCall(target.method, target.path);
    const path = pathOnly(target.path);
    const summary = summariseBody(res.body);
    const base = { method: target.method, path, statusCode: res.status, responseBody: res.body.text };
    const retryAfterMs = parseRetryAfterMs(res.headers.get('retry-after'));
    const retryAfter =
      retryAfterMs === undefined ? '' : `、Retry-After: ${Math.ceil(retryAfterMs / 1000)} 秒`;
    const status = res.status;
    if (status === 400) {
      return new AlarmboxApiBadRequestError(MESSAGES.badRequest(call, summary), {
        ...base,
        reason: 'usage',
        details: errorDetails(res.body),
      });
    }
    if (status === 403) {
      // Doorkeeper answers a token without the scope with 403 and an empty body (docs/design.md「AlarmBox について分かっていること」).
      const granted = await this.#source
        .getValidToken()
        .then((t) => t.scope ?? undefined)
        .catch(() => undefined);
      const grantedList = granted?.split(/\s+/) ?? [];
      const missing = target.scope === undefined || !grantedList.includes(target.scope);
      return new AlarmboxApiForbiddenError(MESSAGES.forbidden(call, target.scope, granted, summary), {
        ...base,
        // A missing scope needs a new authorization; a viewing period that ended does not.
        reason: missing ? 'reauthorization_required' : 'unexpected',
        requiredScope: target.scope,
        grantedScope: granted,
      });
    }
    if (status === 404)
      return new AlarmboxApiNotFoundError(MESSAGES.notFound(call, summary), { ...base, reason: 'usage' });
    if (status === 429 || status >= 500) {
      if (target.method === 'GET' || status === 429) {
        // 429 means the request was refused before being processed (RFC 6585 §4), even for a POST.
        const message =
          target.method === 'GET'
            ? MESSAGES.unavailable(call, status, res.attempts, summary, retryAfter)
            : MESSAGES.rejectedPost(call, status, summary, retryAfter);
        return new AlarmboxApiUnavailableError(message, { ...base, attempts: res.attempts, retryAfterMs });
      }
      // A 5xx to a POST: the server (or a proxy) failed somewhere, possibly after the purchase was recorded.
      return new AlarmboxApiOutcomeUnknownError(
        MESSAGES.postUnknown(`APIエラー: ${status} (${call}): AlarmBox がエラーを返しました (${summary})`),
        base,
      );
    }
    const redirect =
      status >= 300 && status < 400
        ? 'リダイレクトは追跡しません (トークンを設定外の場所に送らないため)。ALARMBOX_BASE_URL を確認してください。'
        : '';
    return new AlarmboxApiCallError(MESSAGES.otherStatus(call, status, summary) + redirect, {
      ...base,
      reason: 'unexpected',
    });
  }
}

/**
 * Runs one API call as one operation of known secrets (operation-secrets.ts): the access tokens it sends, and
 * whatever a refresh it causes sends and receives, are replaced in every error it throws. Joins the
 * operation of a caller that already runs one.
 */
function operation<T>(run: () => Promise<T>): Promise<T> {
  return withSecrets([], run);
}

/** A 2xx whose body is not what the endpoint returns. For a POST the action has nevertheless happened. */
function unreadable(
  target: CallTarget,
  res: Exchange,
  problem: string | undefined,
): AlarmboxApiResponseError {
  const call = describeCall(target.method, target.path);
  const what = problem ?? summariseBody(res.body);
  const post = target.method !== 'GET';
  return new AlarmboxApiResponseError(
    MESSAGES.unreadable(call, res.status, what) +
      (post
        ? 'AlarmBox は成功を返しているため、処理 (購入) は完了しています。再実行せずに AlarmBox の管理画面で結果を確認してください。'
        : 'しばらくしてから再実行してください。解決しない場合は ALARMBOX_BASE_URL とエンドポイント表のパスを確認してください。'),
    {
      method: target.method,
      path: pathOnly(target.path),
      statusCode: res.status,
      responseBody: res.body.text,
      // A GET can simply be read again; a POST that succeeded must not be repeated.
      reason: post ? 'unexpected' : 'temporary',
      mayHaveBeenProcessed: post,
    },
  );
}

function queryString(query: Readonly<Record<string, string | number | boolean>> | undefined): string {
  if (query === undefined) return '';
  const entries = Object.entries(query).map(([k, v]) => [k, String(v)] as [string, string]);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

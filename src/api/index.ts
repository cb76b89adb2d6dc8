// The typed AlarmBox API client: `createAlarmboxApi(options)`, or `alarmbox.api` from createAlarmbox().
import type { FetchLike } from '../http/fetch.ts';
import {
  AlarmboxApi,
  type AlarmboxApiClientOptions,
  type AlarmboxApiSettings,
  type ApiTokenService,
} from './client.ts';

export {
  AlarmboxApi,
  type AlarmboxApiClientOptions,
  type AlarmboxApiSettings,
  type ApiTokenService,
  type CallEndpointOptions,
  type CallOptions,
  type CreditChecksApi,
  type GetCreditCheckOptions,
  type RequestOptions,
  type RetryEvent,
} from './client.ts';
export { decodeCreditCheckPdf } from './credit-checks.ts';
export {
  DEFAULT_ENDPOINTS,
  type DefaultEndpointName,
  type EndpointOverrides,
  type EndpointSpec,
  type EndpointTable,
  type HttpMethod,
} from './endpoints.ts';
export {
  AlarmboxApiBadRequestError,
  AlarmboxApiCallError,
  type AlarmboxApiCallErrorOptions,
  AlarmboxApiForbiddenError,
  AlarmboxApiInputError,
  AlarmboxApiNotFoundError,
  AlarmboxApiOutcomeUnknownError,
  AlarmboxApiResponseError,
  AlarmboxApiUnauthorizedError,
  AlarmboxApiUnavailableError,
} from './errors.ts';
export type { ApiErrorDetail } from './response-body.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
export {
  type AccessTokenSource,
  type AccessTokens,
  DEFAULT_REVALIDATE_MS,
  type TokenCacheOptions,
} from './token-cache.ts';
export type {
  CreateCreditCheckParams,
  CreditCheck,
  CreditCheckDetail,
  CreditCheckEnvelope,
  CreditCheckId,
  CreditCheckInfo,
  CreditCheckResult,
  CreditCheckTag,
  Deal,
  PurchaseReason,
} from './types.ts';

/**
 * Either an `alarmbox` from createAlarmbox() (its TokenService, base URL and HTTP timeout are used), or the
 * pieces themselves; plus the API settings (cache, retries, endpoint corrections).
 */
export type AlarmboxApiOptions =
  | (AlarmboxApiSettings & { readonly alarmbox: AlarmboxApiSource })
  | AlarmboxApiClientOptions;

/**
 * The part of a toolkit instance that the API client uses. Stated here, not imported from the toolkit, so that
 * the API client stays below `createAlarmbox()` (which builds one) instead of importing it back.
 */
export interface AlarmboxApiSource {
  /** Supplies access tokens and forces a refresh after a 401. */
  readonly tokens: ApiTokenService;
  readonly config: {
    /** e.g. `https://api.alarmbox.jp`. */
    readonly baseUrl: string;
    /** The default per-request timeout. */
    readonly httpTimeoutMs: number;
    /** The app's own fetch (createAlarmbox's `fetch` option), used unless the settings give another. */
    readonly fetch?: FetchLike | undefined;
  };
}

/**
 * Creates the typed AlarmBox API client (`api.creditChecks.create/get`, `api.request`).
 *
 * @param options - Either the `alarmbox` whose tokens and base URL to use, or the pieces themselves, plus settings.
 * @returns A client; it holds no connection of its own.
 */
export function createAlarmboxApi(options: AlarmboxApiOptions): AlarmboxApi {
  if ('alarmbox' in options) {
    const { alarmbox, ...settings } = options;
    return new AlarmboxApi({
      timeoutMs: alarmbox.config.httpTimeoutMs,
      fetch: alarmbox.config.fetch,
      ...settings,
      tokens: alarmbox.tokens,
      baseUrl: alarmbox.config.baseUrl,
    });
  }
  return new AlarmboxApi(options);
}

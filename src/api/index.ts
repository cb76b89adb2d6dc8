// The typed AlarmBox API client: `createAlarmboxApi(options)`, or `alarmbox.api` from createAlarmbox().
import type { Alarmbox } from '../alarmbox/create.ts';
import { AlarmboxApi, type AlarmboxApiClientOptions, type AlarmboxApiSettings } from './client.ts';

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
export { type AccessTokens, DEFAULT_REVALIDATE_MS, type TokenCacheOptions } from './token-cache.ts';
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
  | (AlarmboxApiSettings & { readonly alarmbox: Pick<Alarmbox, 'tokens' | 'config'> })
  | AlarmboxApiClientOptions;

export function createAlarmboxApi(options: AlarmboxApiOptions): AlarmboxApi {
  if ('alarmbox' in options) {
    const { alarmbox, ...settings } = options;
    return new AlarmboxApi({
      timeoutMs: alarmbox.config.httpTimeoutMs,
      ...settings,
      tokens: alarmbox.tokens,
      baseUrl: alarmbox.config.baseUrl,
    });
  }
  return new AlarmboxApi(options);
}

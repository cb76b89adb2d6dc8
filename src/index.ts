/**
 * alarmbox-auth: OAuth 2.0 token management for the AlarmBox API.
 *
 * @remarks
 * {@link createAlarmbox} is the way in. The guide's names ({@link TokenService}, {@link AlarmboxClient} and the
 * {@link AlarmboxAPIError} family) are exported for code ported from the guide. Every error the package throws is an
 * {@link AlarmboxError}: branch on its `reason` ({@link FAILURE_REASONS} says what each one means). The store, the database handle,
 * the lock and the history writer are internals and not exported.
 *
 * @packageDocumentation
 */
export { buildAuthorizeUrl } from './alarmbox/authorize-url.ts';
export { AlarmboxClient, type AlarmboxClientOptions } from './alarmbox/client.ts';
export {
  AlarmboxAPIError,
  type AlarmboxAPIErrorOptions,
  AlarmboxTokenError,
  AlarmboxTokenExpiredError,
  AlarmboxTokenNotFoundError,
} from './alarmbox/errors.ts';
export type {
  AlarmboxHealth,
  HealthCheck,
  HealthCheckStatus,
  HealthChecks,
  HealthOptions,
  HealthStatus,
} from './alarmbox/health.ts';
export type {
  ReauthorizationRequiredEvent,
  TokenEvent,
  TokenEventListener,
  TokenEventOptions,
  TokenRecoveredEvent,
  TokenRefreshedEvent,
  TokenRefreshFailedEvent,
} from './alarmbox/token-events.ts';
export {
  type InitialTokens,
  type RefreshOptions,
  type RefreshResult,
  type RefreshTrigger,
  type TokenChange,
  TokenService,
  type ValidAccessToken,
} from './alarmbox/token-service.ts';
export type { AlarmboxToken, RefreshOutcome } from './alarmbox/token-store.ts';
export type { ReceivedTokens, TokenResponse, TokenWarning, TokenWarningCode } from './alarmbox/types.ts';
export {
  AlarmboxApi,
  type AlarmboxApiOptions,
  type CallEndpointOptions,
  type CallOptions,
  type CreditChecksApi,
  type GetCreditCheckOptions,
  type RequestOptions,
  type RetryEvent,
} from './api/client.ts';
export { decodeCreditCheckPdf } from './api/credit-checks.ts';
export {
  DEFAULT_ENDPOINTS,
  type DefaultEndpointName,
  type EndpointOverrides,
  type EndpointSpec,
  type EndpointTable,
  type HttpMethod,
} from './api/endpoints.ts';
export { AlarmboxApiCallError, type AlarmboxApiCallErrorOptions } from './api/errors.ts';
export type { ApiErrorDetail } from './api/response-body.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './api/retry.ts';
export { type AccessTokens, DEFAULT_REVALIDATE_MS } from './api/token-cache.ts';
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
} from './api/types.ts';
export type { DatabaseTimeouts } from './config/database-timeouts.ts';
export { type AlarmboxEnv, type AlarmboxOptions, ConfigError } from './config/index.ts';
export {
  type Alarmbox,
  createAlarmbox,
  createAlarmboxApi,
  type ExchangeCodeOptions,
} from './create.ts';
export type {
  AlarmboxDatabase,
  AppKysely,
  AppMysqlConnection,
  AppMysqlPool,
  AppPostgresClient,
  AppPostgresPool,
} from './db/app-database.ts';
export type { DatabaseDialect } from './db/url.ts';
export { AlarmboxError, type AlarmboxErrorOptions } from './errors.ts';
export {
  FAILURE_REASONS,
  type FailureAction,
  type FailureReason,
  type FailureReasonInfo,
} from './failure-reason.ts';
export type { FetchLike } from './http/fetch.ts';

// alarmbox-auth: the library. `createAlarmbox()` is the way in; the guide's names are exported for porting.
export { buildAuthorizeUrl } from './alarmbox/authorize-url.ts';
export { AlarmboxClient, type AlarmboxClientOptions } from './alarmbox/client.ts';
export { type Alarmbox, createAlarmbox } from './alarmbox/create.ts';
export {
  AlarmboxAPIError,
  AlarmboxTokenError,
  AlarmboxTokenExpiredError,
  AlarmboxTokenNotFoundError,
} from './alarmbox/errors.ts';
export {
  DEFAULT_HISTORY_SIZE,
  RefreshHistory,
  type RefreshHistoryEntry,
  type RefreshHistorySummary,
} from './alarmbox/refresh-history.ts';
export { envelopeKeyId, type RekeyResult, rekeyStoredToken } from './alarmbox/rekey.ts';
export type { TokenWarning, TokenWarningCode } from './alarmbox/token-response.ts';
export {
  type InitialTokens,
  type RefreshResult,
  TokenService,
  type ValidAccessToken,
} from './alarmbox/token-service.ts';
export { AlarmboxToken, AlarmboxTokenStore, TOKEN_TABLE } from './alarmbox/token-store.ts';
export type {
  AuthorizationCodeRequest,
  ReceivedTokens,
  RefreshTokenRequest,
  TokenResponse,
} from './alarmbox/types.ts';
export {
  type AccessTokens,
  AlarmboxApi,
  AlarmboxApiBadRequestError,
  AlarmboxApiCallError,
  type AlarmboxApiClientOptions,
  AlarmboxApiForbiddenError,
  AlarmboxApiInputError,
  AlarmboxApiNotFoundError,
  type AlarmboxApiOptions,
  AlarmboxApiOutcomeUnknownError,
  AlarmboxApiResponseError,
  type AlarmboxApiSettings,
  AlarmboxApiUnauthorizedError,
  AlarmboxApiUnavailableError,
  type ApiErrorDetail,
  type CallEndpointOptions,
  type CallOptions,
  type CreateCreditCheckParams,
  type CreditCheck,
  type CreditCheckDetail,
  type CreditCheckEnvelope,
  type CreditCheckId,
  type CreditCheckInfo,
  type CreditCheckResult,
  type CreditChecksApi,
  type CreditCheckTag,
  createAlarmboxApi,
  DEFAULT_ENDPOINTS,
  DEFAULT_RETRY_POLICY,
  DEFAULT_REVALIDATE_MS,
  type Deal,
  decodeCreditCheckPdf,
  type EndpointOverrides,
  type EndpointSpec,
  type EndpointTable,
  type GetCreditCheckOptions,
  type HttpMethod,
  type PurchaseReason,
  type RequestOptions,
  type RetryEvent,
  type RetryPolicy,
  type TokenCacheOptions,
} from './api/index.ts';
export { type AlarmboxConfig, type AlarmboxOptions, ConfigError, loadConfig } from './config/index.ts';
export { DecryptionError, KeyRingFormatError } from './crypto/index.ts';
export { migrateToLatest } from './db/migrate.ts';
export { type DoctorCheck, type DoctorReport, runDoctor } from './doctor/doctor.ts';
export type { FailureReason } from './failure-reason.ts';
export {
  createJobLogger,
  type Job,
  type JobContext,
  type JobResult,
  type JobRunReport,
  REFRESH_TOKEN_SCHEDULE,
  refreshTokenJob,
  renderDeployManifest,
  runJob,
  startWorker,
} from './jobs/index.ts';

// Maps a failed `POST /oauth/revoke` (RFC 7009) to an AlarmboxAPIError with a reason. Doorkeeper answers 200 to
// every authenticated request, unknown tokens included (§2.2); what else it answers is 403 unauthorized_client
// for a client it cannot authenticate (revoke.unauthorized), and a proxy in front may answer 5xx or 429 (§2.2.1).
import * as oauth from 'oauth4webapi';
import { AlarmboxAPIError } from './errors.ts';
import { toTokenEndpointError } from './token-endpoint-errors.ts';

interface RevocationErrorContext {
  readonly timeoutMs: number;
  /** The raw body, when one was read. */
  readonly body: string | undefined;
}

export function toRevocationError(error: unknown, ctx: RevocationErrorContext): AlarmboxAPIError {
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const params = error.cause.find((c) => c.parameters.error !== undefined)?.parameters;
    return fromStatus(error.status, params?.error, ctx, error);
  }
  if (error instanceof oauth.ResponseBodyError) return fromStatus(error.status, error.error, ctx, error);
  if (
    error instanceof oauth.OperationProcessingError &&
    error.code === oauth.RESPONSE_IS_NOT_CONFORM &&
    error.cause instanceof Response
  ) {
    return fromStatus(error.cause.status, undefined, ctx, error);
  }
  // Timeouts, refused connections, an endless body: the same words as for the token endpoint.
  return toTokenEndpointError(error, { grant: 'refresh_token', timeoutMs: ctx.timeoutMs, body: ctx.body });
}

function fromStatus(
  status: number,
  code: string | undefined,
  ctx: RevocationErrorContext,
  cause: unknown,
): AlarmboxAPIError {
  const label = code === undefined ? `${status}` : `${status} ${code}`;
  const base = { statusCode: status, responseBody: ctx.body, oauthError: code, cause };
  if (code === 'unauthorized_client' || code === 'invalid_client' || status === 401) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: トークンの失効 (POST /oauth/revoke) でクライアント認証に失敗しました。ALARMBOX_CLIENT_ID と ALARMBOX_CLIENT_SECRET を確認してください。`,
      { ...base, reason: 'client_configuration' },
    );
  }
  if (status === 429 || status === 408 || status >= 500) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: AlarmBox がトークンの失効 (POST /oauth/revoke) に一時的に応答できませんでした。`,
      { ...base, reason: 'temporary' },
    );
  }
  if (status === 404 || status === 405) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: 失効エンドポイント (POST /oauth/revoke) が見つかりません。ALARMBOX_BASE_URL を確認してください。`,
      { ...base, reason: 'configuration' },
    );
  }
  return new AlarmboxAPIError(`APIエラー: ${label}: トークンの失効 (POST /oauth/revoke) に失敗しました。`, {
    ...base,
    reason: 'unexpected',
  });
}

// Maps every way the token endpoint call can fail to the guide's AlarmboxAPIError, with a reason.
// Doorkeeper puts `WWW-Authenticate` on every token error, even 400s, and oauth4webapi reads that header
// before the body: a challenge error and a body error both carry the same OAuth `error` code.
import * as oauth from 'oauth4webapi';
import { ResponseTooLargeError } from '../http/body.ts';
import { OutgoingRequestError } from '../http/errors.ts';
import { clipText } from '../text/clip.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { AlarmboxAPIError } from './errors.ts';

export type TokenGrant = 'authorization_code' | 'refresh_token';

interface ErrorContext {
  readonly grant: TokenGrant;
  readonly timeoutMs: number;
  /** The raw body, read from a clone before oauth4webapi consumed the response. */
  readonly body: string | undefined;
}

const REAUTHORIZE =
  'alarmbox authorize-url で表示される URL から認可コードを取得し、alarmbox save-token --code <認可コード> を実行してください。';

/** The longest OAuth `error` code quoted in a message (RFC 6749's are at most 25 characters). */
const MAX_CODE_LENGTH = 64;

export function toTokenEndpointError(error: unknown, raw: ErrorContext): AlarmboxAPIError {
  if (error instanceof AlarmboxAPIError) return error;
  // The proxy or the certificate chain, already named in Japanese with the fix (src/http/fetch.ts).
  if (error instanceof OutgoingRequestError) {
    return new AlarmboxAPIError(error.message, { reason: error.reason, cause: error });
  }
  // Whatever the server sent is kept and quoted without its control characters (text/terminal-safe.ts).
  const ctx = { ...raw, body: raw.body === undefined ? undefined : terminalSafe(raw.body) };
  if (error instanceof ResponseTooLargeError) {
    // Read no further: a token response is a few hundred bytes, so this is a proxy or server fault.
    return new AlarmboxAPIError(
      `応答エラー: AlarmBox の応答本文が上限 (${error.limitBytes} バイト) を超えたため読み込みを中止しました。しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const params = error.cause.find((c) => c.parameters.error !== undefined)?.parameters;
    return fromOAuthError(params?.error ?? 'invalid_token', error.status, ctx, error);
  }
  if (error instanceof oauth.ResponseBodyError) return fromOAuthError(error.error, error.status, ctx, error);
  if (error instanceof oauth.OperationProcessingError) {
    if (error.code === oauth.RESPONSE_IS_NOT_CONFORM && error.cause instanceof Response) {
      return fromHttpStatus(error.cause.status, ctx, error);
    }
    // 200 with an HTML page, broken JSON or a JSON body without `access_token`: nothing usable arrived.
    return new AlarmboxAPIError(
      `JSONパースエラー: AlarmBox の応答がトークンの形式ではありません (${error.code ?? '不明'})`,
      {
        statusCode: 200,
        responseBody: ctx.body,
        reason: 'temporary',
        cause: error,
      },
    );
  }
  if (error instanceof oauth.UnsupportedOperationError) {
    return new AlarmboxAPIError(
      'AlarmBox が Bearer 以外の token_type を返しました。このツールは Bearer トークンにのみ対応しています。',
      {
        statusCode: 200,
        responseBody: ctx.body,
        reason: 'unexpected',
        cause: error,
      },
    );
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new AlarmboxAPIError(
      `タイムアウト: AlarmBox API に接続できません (${Math.round(ctx.timeoutMs / 1000)} 秒以内に応答がありませんでした)。しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  if (error instanceof TypeError) {
    // undici reports refused / reset / DNS failures as `TypeError: fetch failed` with the system error as cause.
    const code = systemErrorCode(error) ?? 'ネットワークエラー';
    return new AlarmboxAPIError(
      `接続エラー: AlarmBox API に接続できません (${code})。ALARMBOX_BASE_URL とネットワークを確認し、しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  return new AlarmboxAPIError('リクエストエラー: トークンエンドポイントの呼び出しに失敗しました。', {
    reason: 'unexpected',
    cause: error,
  });
}

function systemErrorCode(error: Error): string | undefined {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    cause = cause.cause;
  }
  return undefined;
}

function fromOAuthError(
  rawCode: string,
  status: number,
  ctx: ErrorContext,
  cause: unknown,
): AlarmboxAPIError {
  // Only RFC 6749's codes are matched below; any other is quoted, made one printable line and short.
  const code = clipText(terminalSafe(rawCode), MAX_CODE_LENGTH);
  const base = { statusCode: status, responseBody: ctx.body, oauthError: code, cause };
  // RFC 6749 §5.2 error codes; never match on error_description (AlarmBox may answer in Japanese).
  switch (code) {
    case 'invalid_client':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
      return new AlarmboxAPIError(
        `APIエラー: ${status} ${code}: クライアント認証に失敗しました。ALARMBOX_CLIENT_ID と ALARMBOX_CLIENT_SECRET が AlarmBox の API 管理画面の値と一致しているか確認してください。`,
        { ...base, reason: 'client_configuration' },
      );
    case 'invalid_grant':
      return ctx.grant === 'authorization_code'
        ? new AlarmboxAPIError(
            `APIエラー: ${status} invalid_grant: 認可コードが無効です (使用済み・発行から 10 分経過・別のリダイレクト URI 用・別クライアント用のいずれか)。${REAUTHORIZE}`,
            { ...base, reason: 'reauthorization_required' },
          )
        : new AlarmboxAPIError(
            `APIエラー: ${status} invalid_grant: リフレッシュトークンが無効です (使用済みか失効済み)。再認可が必要です: ${REAUTHORIZE}`,
            { ...base, reason: 'reauthorization_required' },
          );
    case 'invalid_scope':
      return new AlarmboxAPIError(
        `APIエラー: ${status} invalid_scope: 要求したスコープが許可されていません。ALARMBOX_SCOPE を AlarmBox に登録したアプリのスコープに合わせてください。`,
        { ...base, reason: 'configuration' },
      );
    case 'invalid_request':
      return new AlarmboxAPIError(
        `APIエラー: ${status} invalid_request: リクエストに必要なパラメータが不足しています。${ctx.grant === 'authorization_code' ? '認可コードとリダイレクト URI を確認してください。' : ''}`,
        { ...base, reason: ctx.grant === 'authorization_code' ? 'usage' : 'unexpected' },
      );
    default:
      return fromHttpStatus(status, ctx, cause, code);
  }
}

function fromHttpStatus(status: number, ctx: ErrorContext, cause: unknown, code?: string): AlarmboxAPIError {
  const label = code === undefined ? `${status}` : `${status} ${code}`;
  const base = { statusCode: status, responseBody: ctx.body, oauthError: code, cause };
  if (status === 429 || status === 408 || status >= 500) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: AlarmBox が一時的に応答できません。しばらくしてから再実行してください。`,
      {
        ...base,
        reason: 'temporary',
      },
    );
  }
  if (status === 401) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: クライアント認証に失敗しました。ALARMBOX_CLIENT_ID と ALARMBOX_CLIENT_SECRET を確認してください。`,
      { ...base, reason: 'client_configuration' },
    );
  }
  if (status === 404 || status === 405) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: トークンエンドポイントが見つかりません。ALARMBOX_BASE_URL (例: https://api.alarmbox.jp) を確認してください。`,
      { ...base, reason: 'configuration' },
    );
  }
  return new AlarmboxAPIError(`APIエラー: ${label}`, { ...base, reason: 'unexpected' });
}

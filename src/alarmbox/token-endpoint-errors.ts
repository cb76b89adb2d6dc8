// Names every way a call to Doorkeeper's token endpoint (RFC 6749 §3.2) or revocation endpoint (RFC 7009 §2)
// fails as the guide's AlarmboxAPIError with a reason: no answer (requestError), or an answer without what was
// asked for (tokenAnswerError, revocationAnswerError). The OAuth `error` code comes from the JSON body of a 4xx
// (RFC 6749 §5.2) or from `WWW-Authenticate` (RFC 6750 §3), which Doorkeeper puts on every token error, even 400s.

import { errorCode } from '../error-code.ts';
import { ResponseTooLargeError } from '../http/body.ts';
import { OutgoingRequestError } from '../http/errors.ts';
import { clipText } from '../text/clip.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { AlarmboxAPIError, REAUTHORIZE_STEPS } from './errors.ts';

export type TokenGrant = 'authorization_code' | 'refresh_token';

/** What the endpoint answered: the status, the headers and the body read within the size cap. */
export interface EndpointAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

const REAUTHORIZE = `${REAUTHORIZE_STEPS}。`;

/** The longest OAuth `error` code quoted in a message (RFC 6749's are at most 25 characters). */
const MAX_CODE_LENGTH = 64;

/** No answer to use: the request or the reading of its answer failed, whichever endpoint it was. */
export function requestError(error: unknown, timeoutMs: number): AlarmboxAPIError {
  // The proxy or the certificate chain, already named in Japanese with the fix (src/http/fetch.ts).
  if (error instanceof OutgoingRequestError) {
    return new AlarmboxAPIError(error.message, { reason: error.reason, cause: error });
  }
  if (error instanceof ResponseTooLargeError) {
    // Read no further: a token response is a few hundred bytes, so this is a proxy or server fault.
    return new AlarmboxAPIError(
      `応答エラー: AlarmBox の応答本文が上限 (${error.limitBytes} バイト) を超えたため読み込みを中止しました。しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new AlarmboxAPIError(
      `タイムアウト: AlarmBox API に接続できません (${Math.round(timeoutMs / 1000)} 秒以内に応答がありませんでした)。しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  if (error instanceof TypeError) {
    // undici reports refused / reset / DNS failures as `TypeError: fetch failed` with the system error as cause.
    return new AlarmboxAPIError(
      `接続エラー: AlarmBox API に接続できません (${errorCode(error) ?? 'ネットワークエラー'})。ALARMBOX_BASE_URL とネットワークを確認し、しばらくしてから再実行してください。`,
      { reason: 'temporary', cause: error },
    );
  }
  return new AlarmboxAPIError('リクエストエラー: トークンエンドポイントの呼び出しに失敗しました。', {
    reason: 'unexpected',
    cause: error,
  });
}

/** A token endpoint answer that carries no usable token: an OAuth error, another status, or an odd 2xx. */
export function tokenAnswerError(grant: TokenGrant, answer: EndpointAnswer): AlarmboxAPIError {
  // Whatever the server sent is kept and quoted without its control characters (text/terminal-safe.ts).
  const responseBody = terminalSafe(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    // A maintenance page, broken JSON, or JSON without a usable token: nothing was issued that could be kept.
    const isObject = typeof answer.json === 'object' && answer.json !== null && !Array.isArray(answer.json);
    const type = answer.headers.get('content-type') ?? 'なし';
    return new AlarmboxAPIError(
      isObject
        ? 'JSONパースエラー: AlarmBox の応答に使えるトークンがありません。'
        : `JSONパースエラー: AlarmBox の応答がトークンの形式ではありません (Content-Type: ${clipText(terminalSafe(type), MAX_CODE_LENGTH)})。`,
      { statusCode: answer.status, responseBody, reason: 'temporary' },
    );
  }
  const status = answer.status;
  const code = oauthErrorOf(answer);
  const base = { statusCode: status, responseBody, oauthError: code };
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
      return grant === 'authorization_code'
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
        `APIエラー: ${status} invalid_request: リクエストに必要なパラメータが不足しています。${grant === 'authorization_code' ? '認可コードとリダイレクト URI を確認してください。' : ''}`,
        { ...base, reason: grant === 'authorization_code' ? 'usage' : 'unexpected' },
      );
  }
  const label = code === undefined ? `${status}` : `${status} ${code}`;
  if (status === 429 || status === 408 || status >= 500) {
    return new AlarmboxAPIError(
      `APIエラー: ${label}: AlarmBox が一時的に応答できません。しばらくしてから再実行してください。`,
      { ...base, reason: 'temporary' },
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

/**
 * A revocation answered other than 200. Doorkeeper answers 200 to every authenticated request, unknown tokens
 * included (RFC 7009 §2.2); what else it answers is 403 unauthorized_client for a client it cannot authenticate
 * (revoke.unauthorized), and a proxy in front may answer 5xx or 429 (§2.2.1).
 */
export function revocationAnswerError(answer: EndpointAnswer): AlarmboxAPIError {
  const status = answer.status;
  const code = oauthErrorOf(answer);
  const label = code === undefined ? `${status}` : `${status} ${code}`;
  const base = { statusCode: status, responseBody: terminalSafe(answer.body), oauthError: code };
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

/**
 * The OAuth `error` code of a failed answer, made one printable short line (only RFC 6749's codes are matched;
 * any other is quoted): the challenge's first (RFC 6750 §3), else the JSON body's of a 4xx (RFC 6749 §5.2 says
 * 400, or 401 for client authentication). Doorkeeper sends the same code in both.
 */
function oauthErrorOf(answer: EndpointAnswer): string | undefined {
  let code = challengeError(answer.headers.get('www-authenticate'));
  if (code === undefined && answer.status >= 400 && answer.status < 500) {
    const error = (answer.json as { error?: unknown } | null | undefined)?.error;
    if (typeof error === 'string' && error !== '') code = error;
  }
  return code === undefined ? undefined : clipText(terminalSafe(code), MAX_CODE_LENGTH);
}

/** RFC 9110 §5.6.2 token, and an auth-param `name=token` or `name="quoted string"` (§11.2). */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const AUTH_PARAM = new RegExp(`(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\[\\s\\S])*)"|(${TOKEN}))`, 'g');

/** The first non-empty `error` auth-param of a `WWW-Authenticate` header, e.g. Doorkeeper's `Bearer … error="invalid_grant"`. */
function challengeError(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const [, name, quoted, plain] of header.matchAll(AUTH_PARAM)) {
    if (name?.toLowerCase() !== 'error') continue;
    const value = quoted === undefined ? plain : quoted.replace(/\\([\s\S])/g, '$1');
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

// The guide's exception family (lib/alarmbox/exceptions.py), with a machine-readable `reason`
// so that callers and the CLI's exit code can tell "re-authorize" from "retry later".
import { AlarmboxError } from '../errors.ts';
import type { FailureReason } from '../failure-reason.ts';
import { redact, scrub } from '../text/redact.ts';

/** What an {@link AlarmboxAPIError} carries besides its message. */
export interface AlarmboxAPIErrorOptions {
  readonly statusCode?: number | undefined;
  /** Stored redacted: tokens, codes and secrets never survive on an error object. */
  readonly responseBody?: string | undefined;
  readonly reason?: FailureReason | undefined;
  /** The OAuth 2.0 `error` code (RFC 6749 §5.2), e.g. `invalid_grant`, when the server sent one. */
  readonly oauthError?: string | undefined;
  readonly cause?: unknown;
}

/** AlarmBox API のエラー */
export class AlarmboxAPIError extends AlarmboxError {
  override readonly name: string = 'AlarmboxAPIError';
  readonly statusCode: number | undefined;
  readonly responseBody: string | undefined;
  readonly oauthError: string | undefined;

  constructor(message: string, options: AlarmboxAPIErrorOptions = {}) {
    // A message may quote another error's or AlarmBox's words. Every text passes through redact()/scrub(), which
    // also replace the secrets of the operation under way by value (operation-secrets.ts): an error is built where
    // its operation knows what it sent and received.
    super(scrub(message), { reason: options.reason ?? 'unexpected', cause: options.cause });
    this.statusCode = options.statusCode;
    this.responseBody = options.responseBody === undefined ? undefined : redact(options.responseBody);
    // The server's `error` field is outside text as much as its body.
    this.oauthError = options.oauthError === undefined ? undefined : scrub(options.oauthError);
  }
}

/** トークン関連のエラー */
export class AlarmboxTokenError extends AlarmboxAPIError {
  override readonly name: string = 'AlarmboxTokenError';
}

/**
 * How a person (re-)authorizes (the guide's steps 6 and 8), without a final 「。」: every message that asks for a new
 * authorization quotes this sentence.
 */
export const REAUTHORIZE_STEPS =
  'alarmbox authorize-url で表示される URL から認可コードを取得し、alarmbox save-token --code <認可コード> を実行してください';

const TOKEN_NOT_FOUND_MESSAGE = `トークンが未設定です。初回設定として、${REAUTHORIZE_STEPS}。`;

/**
 * The not-registered message naming the database that was looked in and where its setting came from: the CLI
 * reads `.env` and an app does not, so "registered with the CLI, not found by the app" is usually two databases.
 */
export function tokenNotFoundMessage(database: string): string {
  return `${TOKEN_NOT_FOUND_MESSAGE.replace('。', `: ${database}。`)}CLI で登録済みなら、CLI とアプリが同じデータベースを使っているか確認してください (.env を読むのは CLI だけです: README「環境変数」)。`;
}

/** トークンが未設定 */
export class AlarmboxTokenNotFoundError extends AlarmboxTokenError {
  override readonly name: string = 'AlarmboxTokenNotFoundError';
  constructor(message: string = TOKEN_NOT_FOUND_MESSAGE) {
    super(message, { reason: 'not_registered' });
  }
}

/** トークンの更新に失敗 (`reason` が再認可が必要か、後で再試行すればよいかを表す) */
export class AlarmboxTokenExpiredError extends AlarmboxTokenError {
  override readonly name: string = 'AlarmboxTokenExpiredError';

  /** Wraps a failure of the refresh the way the guide does: `トークンの更新に失敗しました: …`. */
  static fromRefreshFailure(error: unknown): AlarmboxTokenExpiredError {
    if (error instanceof AlarmboxTokenExpiredError) return error;
    const reasoned = error instanceof AlarmboxError ? error : undefined;
    const api = error instanceof AlarmboxAPIError ? error : undefined;
    return new AlarmboxTokenExpiredError(
      `トークンの更新に失敗しました: ${reasoned?.message ?? `予期しないエラー (${error instanceof Error ? error.name : typeof error})`}`,
      {
        reason: reasoned?.reason ?? 'unexpected',
        statusCode: api?.statusCode,
        responseBody: api?.responseBody,
        oauthError: api?.oauthError,
        cause: error,
      },
    );
  }
}

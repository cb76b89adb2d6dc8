// Typed errors of AlarmBox API calls, in the guide's AlarmboxAPIError family: each carries a `reason`
// (FailureReason) so the CLI's exit code and a caller's handling work as for the token errors, and a
// Japanese message naming the cause and the fix. Messages never hold a token (bodies pass through redact(),
// which also replaces the secrets of the call under way by value: text/operation-secrets.ts).
import { AlarmboxAPIError, type AlarmboxAPIErrorOptions, REAUTHORIZE_STEPS } from '../alarmbox/errors.ts';
import { redact, scrub } from '../text/redact.ts';
import { terminalSafe } from '../text/terminal-safe.ts';
import { type HttpMethod, pathOnly } from './endpoints.ts';
import type { ApiErrorDetail } from './response-body.ts';

export interface AlarmboxApiCallErrorOptions extends AlarmboxAPIErrorOptions {
  readonly method: HttpMethod;
  /** The path called, without its query. */
  readonly path: string;
  /**
   * True when AlarmBox may have carried the request out although no usable answer arrived (a POST that
   * timed out, lost its connection or got a 5xx). Repeating it could buy twice: check first.
   */
  readonly mayHaveBeenProcessed?: boolean | undefined;
  /** 400: what AlarmBox named as wrong (redacted, at most five). */
  readonly details?: readonly ApiErrorDetail[] | undefined;
  /** 403: the scope the endpoint table names for this call, if any row matched. */
  readonly requiredScope?: string | undefined;
  /** 403: the scope stored with the token, if known. */
  readonly grantedScope?: string | undefined;
  /** How many requests were sent (GETs are retried). */
  readonly attempts?: number | undefined;
  /** The last `Retry-After`, in milliseconds, when AlarmBox sent one. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * A call to the AlarmBox API (not the token endpoint) failed. Branch on `reason` (retry later, re-authorize…),
 * `statusCode` and `mayHaveBeenProcessed`; the subclass names (`AlarmboxApiForbiddenError`…) say the same for logs.
 */
export class AlarmboxApiCallError extends AlarmboxAPIError {
  override readonly name: string = 'AlarmboxApiCallError';
  readonly method: HttpMethod;
  readonly path: string;
  readonly mayHaveBeenProcessed: boolean;
  /** 400: what AlarmBox named as wrong (redacted, at most five); empty otherwise. */
  readonly details: readonly ApiErrorDetail[];
  /** 403: the scope the endpoint table names for this call, if any row matched. */
  readonly requiredScope: string | undefined;
  /** 403: the scope stored with the token, if known. */
  readonly grantedScope: string | undefined;
  /** How many requests were sent (GETs are retried). */
  readonly attempts: number;
  /** The last `Retry-After`, in milliseconds, when AlarmBox sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: AlarmboxApiCallErrorOptions) {
    // Messages quote AlarmBox's answer (bodies, challenges): no control character of it reaches a terminal.
    const body = options.responseBody;
    super(terminalSafe(redact(message)), {
      ...options,
      responseBody: body === undefined ? undefined : terminalSafe(body),
    });
    this.method = options.method;
    this.path = options.path;
    this.mayHaveBeenProcessed = options.mayHaveBeenProcessed ?? false;
    // Outside text like the body: through scrub() too, whoever built them (the secrets of the call included).
    this.details = (options.details ?? []).map((d) => ({
      ...(d.field === undefined ? {} : { field: terminalSafe(scrub(d.field)) }),
      message: terminalSafe(scrub(d.message)),
    }));
    this.requiredScope = options.requiredScope;
    this.grantedScope = options.grantedScope;
    this.attempts = options.attempts ?? 1;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 401 `invalid_token` again after the one refresh and retry the 401 rule allows: a person must look. */
export class AlarmboxApiUnauthorizedError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiUnauthorizedError';
}

/** 403: the token lacks the endpoint's scope, or the data is past its viewing period. */
export class AlarmboxApiForbiddenError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiForbiddenError';
}

/** 400: AlarmBox refused the request's content; nothing was purchased. */
export class AlarmboxApiBadRequestError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiBadRequestError';
}

/** 404: no such resource (an unknown id), or the path in the endpoint table is wrong. */
export class AlarmboxApiNotFoundError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiNotFoundError';
}

/** 429, 5xx, a timeout or a network failure after which retrying later is safe: `reason` is `temporary`. */
export class AlarmboxApiUnavailableError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiUnavailableError';
  constructor(message: string, options: AlarmboxApiCallErrorOptions) {
    super(message, { ...options, reason: options.reason ?? 'temporary' });
  }
}

/**
 * A POST with no usable answer: AlarmBox may or may not have carried it out. Never retried by this package
 * (a credit check costs money); `reason` is `unexpected` rather than `temporary` so that schedulers that
 * rerun "temporary" failures (exit code 5) do not repeat a purchase either.
 */
export class AlarmboxApiOutcomeUnknownError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiOutcomeUnknownError';
  constructor(message: string, options: AlarmboxApiCallErrorOptions) {
    super(message, { ...options, reason: 'unexpected', mayHaveBeenProcessed: true });
  }
}

/** A 2xx answer whose body is not what the endpoint returns (HTML from a proxy, broken or foreign JSON). */
export class AlarmboxApiResponseError extends AlarmboxApiCallError {
  override readonly name: string = 'AlarmboxApiResponseError';
}

/** The arguments of a call are wrong; nothing was sent (`reason` `usage`). */
export class AlarmboxApiInputError extends AlarmboxAPIError {
  override readonly name: string = 'AlarmboxApiInputError';
  constructor(message: string) {
    super(message, { reason: 'usage' });
  }
}

/** `POST /ps/v1/credit_checks`, for messages (the query is dropped: it is not needed to say what failed). */
export function describeCall(method: HttpMethod, path: string): string {
  return `${method} ${pathOnly(path)}`;
}

export const MESSAGES = {
  unauthorizedAgain: (call: string, description: string | undefined) =>
    `APIエラー: 401 (${call}): AlarmBox がアクセストークンを拒否しました (invalid_token${description === undefined ? '' : `: ${description}`})。` +
    'トークンを確認・更新して 1 回だけ再試行しましたが、新しいトークンも拒否されました。' +
    'AlarmBox 側でトークンが失効させられたか、ALARMBOX_BASE_URL がトークンを発行した環境と異なる可能性があります。' +
    `alarmbox status で状態を確認し、解決しない場合は再認可してください (${REAUTHORIZE_STEPS})。`,
  unauthorizedOther: (call: string, error: string | undefined) =>
    `APIエラー: 401 (${call}): AlarmBox が認証を拒否しました (${error === undefined ? 'WWW-Authenticate に Bearer のエラーなし' : `error="${error}"`})。` +
    'invalid_token ではないため、トークンの更新はしていません。ALARMBOX_BASE_URL が AlarmBox の API を指しているか確認してください。',
  forbidden: (call: string, required: string | undefined, granted: string | undefined, body: string) => {
    const head = `APIエラー: 403 (${call}): AlarmBox がこの操作を許可しませんでした (${body})。`;
    if (required === undefined) {
      return (
        `${head}アクセストークンに必要なスコープがない可能性があります (このパスはエンドポイント表にないため、必要なスコープは不明です)。` +
        `必要なスコープを ALARMBOX_SCOPE に加えて再認可してください (${REAUTHORIZE_STEPS})。`
      );
    }
    const grantedList = granted?.split(/\s+/) ?? [];
    if (grantedList.includes(required)) {
      return (
        `${head}保存済みトークンにはスコープ ${required} が付与されています。` +
        '閲覧期間 (有効期限) を過ぎたデータか、AlarmBox の契約でこの機能が使えない可能性があります。AlarmBox の管理画面で確認してください。'
      );
    }
    const suggested = [...new Set([...grantedList.filter((s) => s !== ''), required])].join(' ');
    return (
      `${head}アクセストークンにスコープ ${required} がない可能性があります` +
      `${granted === undefined ? '' : ` (保存済みトークンのスコープ: ${granted})`}。` +
      `ALARMBOX_SCOPE="${suggested}" を設定し、そのスコープで再認可してください (${REAUTHORIZE_STEPS})。` +
      'AlarmBox の API 管理画面でアプリにこのスコープが許可されているかも確認してください。'
    );
  },
  badRequest: (call: string, body: string) =>
    `APIエラー: 400 (${call}): AlarmBox がリクエストの内容を受け付けませんでした (${body})。指定した値を確認してください。`,
  notFound: (call: string, body: string) =>
    `APIエラー: 404 (${call}): 見つかりません (${body})。ID を確認してください。ID が正しい場合は、パスが変わった可能性があります (createAlarmboxApi の endpoints で修正できます)。`,
  unavailable: (call: string, status: number, attempts: number, body: string, retryAfter: string) =>
    `APIエラー: ${status} (${call}): AlarmBox が一時的に応答できません (${body}${retryAfter}、${attempts} 回試行)。しばらくしてから再実行してください。`,
  rejectedPost: (call: string, status: number, body: string, retryAfter: string) =>
    `APIエラー: ${status} (${call}): AlarmBox がリクエストを受け付けませんでした (${body}${retryAfter})。購入は行われていません。しばらくしてから再実行してください。`,
  postUnknown: (head: string) =>
    `${head}。購入が完了したかどうかは分かりません。費用の二重発生を避けるため、自動では再送していません。` +
    '再実行する前に AlarmBox の管理画面で購入履歴を確認してください。',
  otherStatus: (call: string, status: number, body: string) =>
    `APIエラー: ${status} (${call}): 想定していない応答です (${body})。`,
  timeout: (call: string, timeoutMs: number) =>
    `タイムアウト (${call}): AlarmBox API が ${Math.max(1, Math.round(timeoutMs / 1000))} 秒以内に応答しませんでした`,
  network: (call: string, code: string) =>
    `接続エラー (${call}): AlarmBox API との通信に失敗しました (${code})`,
  networkHint: 'ALARMBOX_BASE_URL とネットワークを確認し、しばらくしてから再実行してください。',
  unreadable: (call: string, status: number, body: string) =>
    `APIエラー: ${status} (${call}): AlarmBox の応答を解釈できません (${body})。`,
} as const;

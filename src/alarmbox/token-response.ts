// Reads a successful token response leniently. AlarmBox rotates the refresh token on every use: once it has
// answered 200, the old refresh token may already be revoked, so a usable new refresh token must be kept even
// when another field is odd. Each oddity becomes a warning (history, status, doctor, logs) instead of an error.
import { redact } from './redact.ts';
import type { TokenResponse, TokenWarning, TokenWarningCode } from './types.ts';

export type { TokenWarning, TokenWarningCode } from './types.ts';

/**
 * The longest lifetime believed: beyond it an `expires_in` is taken for a server fault and the fallback lifetime
 * is used (refreshing early is safe, refreshing late is not). Also keeps the expiry a valid Date.
 */
export const MAX_EXPIRES_IN_SECONDS = 366 * 86_400;

/** RFC 6749 Appendix A: tokens are VSCHAR (%x20-7E); a blank or non-ASCII value is not a token. */
const VSCHAR = /^[\x20-\x7E]+$/;

export function isUsableToken(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && VSCHAR.test(value);
}

const FALLBACK = '有効期限は ALARMBOX_FALLBACK_EXPIRES_IN (既定 86400 秒) で補いました。';

/**
 * The tokens of a 2xx JSON body, or undefined when it carries neither a usable access token nor a usable
 * refresh token (then nothing was issued that could be kept, and the caller reports the body as an error).
 */
export function readIssuedTokens(
  json: unknown,
  grant: 'authorization_code' | 'refresh_token',
): { response: TokenResponse; warnings: TokenWarning[] } | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const body = json as Record<string, unknown>;
  const access = isUsableToken(body.access_token) ? body.access_token : undefined;
  const refresh = isUsableToken(body.refresh_token) ? body.refresh_token : undefined;
  if (access === undefined && refresh === undefined) return undefined;

  const warnings: TokenWarning[] = [];
  const warn = (code: TokenWarningCode, message: string) => warnings.push({ code, message });
  if (access === undefined) {
    warn(
      'access_token_unusable',
      'AlarmBox の応答に使えるアクセストークンがありませんでした。新しいリフレッシュトークンは保存したので、次にアクセストークンが必要になったときに改めて更新します。',
    );
  }
  if (refresh === undefined) {
    const what = body.refresh_token === undefined ? 'がありませんでした' : 'が不正な値でした';
    warn(
      body.refresh_token === undefined ? 'refresh_token_missing' : 'refresh_token_unusable',
      grant === 'refresh_token'
        ? `AlarmBox の応答に refresh_token ${what}。保存済みのリフレッシュトークンを使い続けます。AlarmBox が使用済みのリフレッシュトークンを即時に失効させる設定 (immediate) なら次回の更新は失敗するため、再認可が必要です (alarmbox authorize-url → alarmbox save-token)。`
        : `AlarmBox の応答に refresh_token ${what}。`,
    );
  }

  const rawType = body.token_type;
  let tokenType = 'bearer';
  if (rawType === undefined || rawType === null || rawType === '') {
    warn(
      'token_type_missing',
      'AlarmBox の応答に token_type がありませんでした。Bearer トークンとして保存しました。',
    );
  } else if (typeof rawType !== 'string' || rawType.toLowerCase() !== 'bearer') {
    tokenType = typeof rawType === 'string' ? rawType.toLowerCase() : String(typeof rawType);
    warn(
      'token_type_not_bearer',
      `AlarmBox の応答の token_type が Bearer ではありませんでした (${describe(rawType)})。トークンは保存しました。API の呼び出しが 401 になる場合は AlarmBox のアプリ設定を確認してください。`,
    );
  }

  const rawExpires = body.expires_in;
  let expiresIn: number | undefined;
  if (rawExpires === undefined || rawExpires === null) {
    warn('expires_in_missing', `AlarmBox の応答に expires_in がありませんでした。${FALLBACK}`);
  } else if (
    typeof rawExpires !== 'number' ||
    !Number.isFinite(rawExpires) ||
    rawExpires <= 0 ||
    rawExpires > MAX_EXPIRES_IN_SECONDS
  ) {
    warn(
      'expires_in_invalid',
      `AlarmBox の応答の expires_in が不正な値でした (${describe(rawExpires)})。${FALLBACK}`,
    );
  } else {
    expiresIn = rawExpires;
  }

  const createdAt = body.created_at;
  return {
    response: {
      access_token: access ?? '',
      token_type: tokenType,
      ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
      ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
      ...(typeof createdAt === 'number' && Number.isFinite(createdAt) ? { created_at: createdAt } : {}),
    },
    warnings,
  };
}

/** A short, redacted description of an odd value (never the value of a token). */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const shown = redact(value).slice(0, 20);
    return `文字列 "${shown}${value.length > 20 ? '…' : ''}"`;
  }
  return value === null ? 'null' : typeof value;
}

/** One line for history and logs: `警告: …` for each warning. */
export function warningText(warnings: readonly TokenWarning[]): string | undefined {
  if (warnings.length === 0) return undefined;
  return warnings.map((w) => `警告 (${w.code}): ${w.message}`).join(' / ');
}

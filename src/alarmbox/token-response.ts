// Reads a successful token response leniently. AlarmBox rotates the refresh token on every use: once it has
// answered 200, the old refresh token may already be revoked, so a usable new refresh token must be kept even
// when another field is odd. Each oddity becomes a warning (history, status, doctor, logs) instead of an error.
import { TEXT_COLUMN_SIZES } from '../db/schema.ts';
import { clipText } from '../text/clip.ts';
import { redact } from '../text/redact.ts';
import { hasUnsafeCharacters, terminalSafe } from '../text/terminal-safe.ts';
import type { TokenResponse, TokenWarning, TokenWarningCode } from './types.ts';

export type { TokenWarning } from './types.ts';

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

  const scope = readScope(body.scope, grant, warn);
  const createdAt = body.created_at;
  return {
    response: {
      access_token: access ?? '',
      token_type: tokenType,
      ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
      ...(scope === undefined ? {} : { scope }),
      ...(typeof createdAt === 'number' && Number.isFinite(createdAt) ? { created_at: createdAt } : {}),
    },
    warnings,
  };
}

const SCOPE_HINT =
  'トークンは保存しました。API の呼び出しが 403 になる場合は docs/troubleshooting.md「AlarmBox の応答の scope が保存できる形ではなかった」を参照してください。';

/**
 * The scope to store, normalised to what its column can hold: RFC 6749 §3.3 makes it a string of
 * space-separated printable tokens, but whatever arrives must not stop the pair from being saved (a NUL is
 * refused by PostgreSQL, 900,000 characters by MariaDB in strict mode). Each change is a warning.
 */
function readScope(
  raw: unknown,
  grant: 'authorization_code' | 'refresh_token',
  warn: (code: TokenWarningCode, message: string) => void,
): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    // Some servers answer a list of scopes: the same scopes, written the RFC's way.
    text = raw.join(' ');
    warn(
      'scope_not_string',
      `AlarmBox の応答の scope が文字列ではなく配列でした。空白区切りの文字列にして保存しました。${SCOPE_HINT}`,
    );
  } else {
    warn(
      'scope_not_string',
      `AlarmBox の応答の scope が文字列ではありませんでした (${describe(raw)})。${grant === 'refresh_token' ? '保存済みのスコープを使い続けます' : 'スコープは不明として保存しました'}。${SCOPE_HINT}`,
    );
    return undefined;
  }
  if (hasUnsafeCharacters(text)) {
    // Tabs and line breaks separate scopes at most: a space. Any other control is written as a visible escape.
    text = terminalSafe(text.replace(/[\t\n\v\f\r]+/g, ' '));
    warn(
      'scope_control_characters',
      `AlarmBox の応答の scope に制御文字が含まれていました。見える形 (\\x00 など) に置き換えて保存しました。${SCOPE_HINT}`,
    );
  }
  const size = TEXT_COLUMN_SIZES.scope;
  if (text.length > size) {
    warn(
      'scope_too_long',
      `AlarmBox の応答の scope が長すぎました (${text.length} 文字)。保存できる ${size} 文字に収まる分だけ保存しました。${SCOPE_HINT}`,
    );
    text = fitScope(text, size);
  }
  return text;
}

/** The whole scopes (space-separated) that fit in `size` characters; a single longer one is cut. */
function fitScope(text: string, size: number): string {
  let kept = '';
  for (const item of text.split(' ')) {
    if (item === '') continue;
    const next = kept === '' ? item : `${kept} ${item}`;
    if (next.length > size) break;
    kept = next;
  }
  return kept === '' ? clipText(text, size) : kept;
}

/** A short, redacted description of an odd value (never the value of a token), safe to print. */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const shown = terminalSafe(clipText(redact(value), 21));
    return `文字列 "${shown}"`;
  }
  if (Array.isArray(value)) return '配列';
  return value === null ? 'null' : typeof value;
}

/** One line for history and logs: `警告: …` for each warning. */
export function warningText(warnings: readonly TokenWarning[]): string | undefined {
  if (warnings.length === 0) return undefined;
  return warnings.map((w) => `警告 (${w.code}): ${w.message}`).join(' / ');
}

// Response bodies and messages may echo tokens, codes or the client secret: scrub them before they are kept
// on an error object, logged or printed.

const SECRET_KEYS = [
  'access_token',
  'refresh_token',
  'code',
  'client_secret',
  'id_token',
  'token',
  'password',
];
const KEY_PATTERN = SECRET_KEYS.join('|');
/** `"access_token":"…"` in JSON */
const JSON_VALUE = new RegExp(`("(?:${KEY_PATTERN})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g');
/** `access_token=…` in forms, query strings and Doorkeeper's `/oauth/authorize/native?code=…` */
const FORM_VALUE = new RegExp(`(\\b(?:${KEY_PATTERN})=)[^&\\s"'<]+`, 'g');
/** `Bearer xxx` in echoed headers */
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/-]+=*/gi;
/** Doorkeeper's tokens and codes are 43 url-safe characters; anything that long and opaque is treated as one. */
const OPAQUE = /\b[A-Za-z0-9_-]{32,}\b/g;

export const REDACTED = '[REDACTED]';
const MAX_KEPT = 500;

/** Scrubs secrets out of `text` and bounds its length. */
export function redact(text: string): string {
  const scrubbed = scrub(text);
  return scrubbed.length > MAX_KEPT ? `${scrubbed.slice(0, MAX_KEPT)}…(${scrubbed.length} 文字)` : scrubbed;
}

/** Scrubs secrets out of `text`, keeping its length (for messages this package writes itself). */
export function scrub(text: string): string {
  return text
    .replace(JSON_VALUE, `$1"${REDACTED}"`)
    .replace(FORM_VALUE, `$1${REDACTED}`)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(OPAQUE, REDACTED);
}

/** Replaces each of the given exact values (tokens we hold in memory) wherever they appear. */
export function redactValues(text: string, values: readonly (string | undefined)[]): string {
  let out = text;
  for (const v of values) if (v !== undefined && v.length >= 8) out = out.split(v).join(REDACTED);
  return out;
}

/** `abcd…wxyz (43 文字)`: enough for a person to compare two tokens, not enough to use one. */
export function maskToken(token: string): string {
  if (token.length <= 12) return `${'*'.repeat(token.length)} (${token.length} 文字)`;
  return `${token.slice(0, 4)}…${token.slice(-4)} (${token.length} 文字)`;
}

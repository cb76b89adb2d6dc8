// Response bodies and messages may echo tokens, codes or the client secret: scrub them before they are kept
// on an error object, logged or printed. Two layers: the secrets of the operation under way, by value
// (operation-secrets.ts: whatever their length or shape), then patterns for what looks like a secret.
import { currentSecrets, REDACTED } from './operation-secrets.ts';

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
/** `"access_token":"…"` in JSON, also when the body was cut inside the value (a half-sent answer). */
const JSON_VALUE = new RegExp(`("(?:${KEY_PATTERN})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*(?:"|\\\\?$)`, 'g');
/** `access_token=…` in forms, query strings and Doorkeeper's `/oauth/authorize/native?code=…` */
const FORM_VALUE = new RegExp(`(\\b(?:${KEY_PATTERN})=)[^&\\s"'<]+`, 'g');
/** `Bearer xxx` in echoed headers */
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/-]+=*/gi;
/** Doorkeeper's tokens and codes are 43 url-safe characters; anything that long and opaque is treated as one. */
const OPAQUE = /\b[A-Za-z0-9_-]{32,}\b/g;

const MAX_KEPT = 500;

/** Scrubs secrets out of `text` and bounds its length (never inside a character). */
export function redact(text: string): string {
  const scrubbed = scrub(text);
  if (scrubbed.length <= MAX_KEPT) return scrubbed;
  // A cut between the two halves of a surrogate pair would leave half a character.
  const end = isHighSurrogate(scrubbed.charCodeAt(MAX_KEPT - 1)) ? MAX_KEPT - 1 : MAX_KEPT;
  return `${scrubbed.slice(0, end)}…(${scrubbed.length} 文字)`;
}

/**
 * Scrubs secrets out of `text` without bounding it (for messages this package writes itself): the known
 * secrets of the operation under way by value first, so that a secret is replaced whole before a pattern
 * could cut it, then the patterns.
 */
export function scrub(text: string): string {
  const known = currentSecrets();
  return scrubPatterns(known === undefined ? text : known.replaceIn(text));
}

function scrubPatterns(text: string): string {
  return text
    .replace(JSON_VALUE, `$1"${REDACTED}"`)
    .replace(FORM_VALUE, `$1${REDACTED}`)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(OPAQUE, REDACTED);
}

/** Below this length a token's ends are not shown: four plus four characters would be too much of it. */
const SHOW_ENDS_FROM = 32;

/** `abcd…wxyz (43 文字)`: enough for a person to compare two tokens, not enough to use one. */
export function maskToken(token: string): string {
  if (token.length < SHOW_ENDS_FROM)
    return `${'*'.repeat(Math.min(token.length, 12))} (${token.length} 文字)`;
  return `${token.slice(0, 4)}…${token.slice(-4)} (${token.length} 文字)`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

// Request parameters the way Rails builds `params`: the query string merged with a form or JSON body
// (the body wins, the last of repeated keys wins, as Rack does). Malformed input is a 400, never a crash.
import { HTTPException } from 'hono/http-exception';
import { oauthError, oauthErrorResponse } from './doorkeeper-errors.ts';

/** Bodies above this are refused with 413 before they are buffered. */
const MAX_BODY_BYTES = 1024 * 1024;

/** How much of an oversized body is read (and dropped) to deliver the 413 cleanly. */
const DISCARD_LIMIT_BYTES = 16 * MAX_BODY_BYTES;

export type Params = ReadonlyMap<string, string>;

/**
 * Input the emulator refuses outright, a malformed encoding (400) or an oversized body (413): the client's fault,
 * answered in the OAuth error shape so that OAuth clients can read it (a route may answer its own shape instead).
 */
function inputError(status: 400 | 413, message: string): HTTPException {
  const res =
    status === 413
      ? oauthErrorResponse({ error: 'invalid_request', description: 'The request body exceeds 1 MiB.' }, 413)
      : oauthErrorResponse(oauthError('invalid_request'));
  return new HTTPException(status, { res, message });
}

/** Query string + form/JSON body. Bodies of other media types are ignored, as Rails ignores them. */
export async function readRequestParams(request: Request): Promise<Params> {
  const params = parseQuery(request.url);
  const kind = bodyKind(request);
  if (kind === 'none') return params;
  const text = await readBodyText(request);
  const body = kind === 'json' ? jsonToParams(text) : parseFormEncoded(text);
  for (const [k, v] of body) params.set(k, v);
  return params;
}

/** The query string of a request URL, strictly decoded. */
export function parseQuery(url: string): Map<string, string> {
  const q = url.indexOf('?');
  return q === -1 ? new Map() : parseFormEncoded(url.slice(q + 1));
}

/** `application/x-www-form-urlencoded` (WHATWG): `+` is a space; invalid %-escapes or UTF-8 are a 400. */
export function parseFormEncoded(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    params.set(key, value);
  }
  return params;
}

/** A JSON body (the protected API): invalid UTF-8 or JSON is a 400, more than 1 MiB a 413. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await readBodyText(request);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw inputError(400, 'invalid JSON body');
  }
}

/** `application/json` or any `+json` type; a POST without Content-Type is form data (Rack's `form_data?`). */
function bodyKind(request: Request): 'form' | 'json' | 'none' {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === '' && request.method === 'POST') return 'form';
  return 'none';
}

/** The body as UTF-8 text, at most {@link MAX_BODY_BYTES}, counted while streaming (no Content-Length trust). */
export async function readBodyText(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw inputError(413, 'request body too large');
  if (request.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await discardRest(reader, total);
      throw inputError(413, 'request body too large');
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw inputError(400, 'request body is not valid UTF-8');
  }
}

/**
 * Reads and drops the rest of an oversized body, so that a client still uploading receives the 413
 * instead of a reset connection; beyond {@link DISCARD_LIMIT_BYTES} the stream is cancelled (and the
 * connection with it): nobody legitimate sends that much here.
 */
async function discardRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  alreadyRead: number,
): Promise<void> {
  let total = alreadyRead;
  while (total <= DISCARD_LIMIT_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    throw inputError(400, 'invalid %-encoding');
  }
}

/** Rails puts a JSON object's members into `params`; scalars become strings, anything else is absent. */
function jsonToParams(text: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw inputError(400, 'invalid JSON body');
  }
  const params = new Map<string, string>();
  if (!isJsonObject(parsed)) return params;
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') params.set(key, value);
    else if (typeof value === 'number' || typeof value === 'boolean') params.set(key, String(value));
  }
  return params;
}

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `text` parsed as a JSON object; undefined for anything else, invalid JSON included. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The parameter, or undefined when it is blank in Ruby's sense (absent, empty or whitespace only). */
export function presentParam(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return value === undefined || value.trim() === '' ? undefined : value;
}

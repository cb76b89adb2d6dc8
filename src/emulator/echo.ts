// The `echo` fault: an error answer that quotes the request back, as servers with debugging output in their
// answers do ("Couldn't find grant ShortCode…", a dump of `params`). The values appear without their names, so
// a client can keep them out of its messages only by knowing what it sent, not by recognising a pattern.
import { JSON_CONTENT_TYPE } from './doorkeeper-errors.ts';
import { parseFormEncoded, parseJsonObject, parseQuery, readBodyText } from './params.ts';

/** What the request carried: every parameter value and credential, and the raw body. */
export interface EchoedRequest {
  readonly values: readonly string[];
  readonly raw: string;
}

/** Reads `request` (a clone, when the handler still has to read the original). Never throws. */
export async function readEcho(request: Request): Promise<EchoedRequest> {
  const values: string[] = [];
  const authorization = request.headers.get('authorization') ?? '';
  const bearer = /^Bearer (.*)$/is.exec(authorization);
  if (bearer?.[1] !== undefined) values.push(bearer[1]);
  const basic = /^Basic (.*)$/s.exec(authorization);
  if (basic?.[1] !== undefined) values.push(...Buffer.from(basic[1], 'base64').toString('utf8').split(':'));
  try {
    values.push(...parseQuery(request.url).values());
  } catch {
    // A malformed query is echoed raw only.
  }
  let raw = '';
  try {
    raw = await readBodyText(request);
  } catch {
    return { values, raw };
  }
  const trimmed = raw.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      collectStrings(JSON.parse(trimmed) as unknown, values);
    } catch {
      // Broken JSON: echoed raw only.
    }
  } else {
    try {
      values.push(...parseFormEncoded(raw).values());
    } catch {
      // A malformed form: echoed raw only.
    }
  }
  return { values, raw };
}

/**
 * `response` with the request quoted in it when it is an error (400 or more): a JSON body (the original object,
 * or a new one) whose `error_description` lists the values and whose `request` is the raw body, and the
 * `WWW-Authenticate` challenge's `error_description` likewise. `inError`: the `error` code quotes them too (a
 * failing server in front of Doorkeeper, whose `error` is no OAuth code). Other answers pass unchanged.
 */
export async function withEcho(response: Response, echo: EchoedRequest, inError = false): Promise<Response> {
  if (response.status < 400) return response;
  // Not a JSON object (an HTML page, an empty body): replaced by a JSON error.
  const body = parseJsonObject(await response.text()) ?? {};
  const quoted = `received: ${echo.values.join(' ')}`;
  const previous = typeof body.error_description === 'string' ? `${body.error_description} ` : '';
  const code =
    typeof body.error === 'string' ? body.error : (DEFAULT_CODES[response.status] ?? 'server_error');
  const echoed = {
    ...body,
    error: inError ? `${code} (${quoted})` : code,
    error_description: `${previous}(${quoted})`,
    request: echo.raw,
  };
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.set('Content-Type', JSON_CONTENT_TYPE);
  const challenge = headers.get('www-authenticate');
  if (challenge !== null) {
    try {
      headers.set(
        'WWW-Authenticate',
        challenge.replace(/error_description="[^"]*"/, `error_description="${quoted.replaceAll('"', "'")}"`),
      );
    } catch {
      // A value that cannot be a header (non-Latin-1): the challenge stays as it was.
    }
  }
  return new Response(JSON.stringify(echoed), { status: response.status, headers });
}

/** The `error` of an echo whose answer had none. */
const DEFAULT_CODES: Readonly<Record<number, string>> = { 400: 'invalid_request', 401: 'invalid_token' };

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean') into.push(String(value));
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) collectStrings(v, into);
  }
}

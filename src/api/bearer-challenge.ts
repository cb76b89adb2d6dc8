// RFC 6750 §3: the `WWW-Authenticate: Bearer …` challenge of a protected resource. Doorkeeper answers a
// missing, expired, revoked or unknown token with 401, an empty body and
// `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token expired"`
// (docs/design.md「AlarmBox について分かっていること」): the header is the only place that says why.

import { terminalSafe } from '../text/terminal-safe.ts';

export interface BearerChallenge {
  /** RFC 6750 §3.1: `invalid_request`, `invalid_token`, `insufficient_scope`, or absent. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  /** `scope` of the challenge (§3), when the server names the scope it wants. */
  readonly scope: string | undefined;
}

/**
 * The parameters of the first Bearer challenge in `header` (RFC 9110 §11.6.1 auth-param: `name=token` or
 * `name="quoted"`), or undefined when there is none. Parameter names are case-insensitive.
 */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (header === null) return undefined;
  const start = /(?:^|,)\s*Bearer(?:\s+|$)/i.exec(header);
  if (start === null) return undefined;
  const params = new Map<string, string>();
  const rest = header.slice(start.index + start[0].length);
  const param = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(?:,|$)/y;
  for (let m = param.exec(rest); m !== null; m = param.exec(rest)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] === undefined ? (m[3] ?? '') : m[2].replace(/\\(.)/g, '$1');
    // Quoted in messages: a header may carry C1 controls (bytes 0x80–0x9F read as Latin-1).
    if (!params.has(name)) params.set(name, terminalSafe(value));
    // A following challenge (`, Basic realm=…`) starts with a token that has no `=`: the sticky regex stops.
  }
  return {
    error: params.get('error'),
    errorDescription: params.get('error_description'),
    scope: params.get('scope'),
  };
}

/** RFC 6750 §3.1 `invalid_token`: the token is expired, revoked or unknown; a new token may work. */
export function isInvalidTokenChallenge(challenge: BearerChallenge | undefined): boolean {
  return challenge?.error === 'invalid_token';
}

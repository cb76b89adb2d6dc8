// Doorkeeper::OAuth::Token and `doorkeeper_authorize!`: how protected resources (the API, /oauth/token/info) find
// the access token, the on_use rotation hook that runs on that lookup, and the API's refusals (RFC 6750 §3.1):
// 401 with an empty body and a Bearer challenge for a missing, unknown, revoked or expired token; 403 with an
// empty body for a token without the scope.
import type { Context } from 'hono';
import { INVALID_TOKEN_DESCRIPTIONS, type InvalidTokenReason, wwwAuthenticate } from './doorkeeper-errors.ts';
import { type Params, parseQuery } from './params.ts';
import type { EmulatorEnv, EmulatorState } from './state.ts';
import { type AccessTokenRecord, isAccessible, isExpired, isRevoked } from './store.ts';

/**
 * `access_token_methods` default order: `Authorization: Bearer …` (case-insensitive scheme),
 * then the `access_token` parameter, then `bearer_token` (RFC 6750 §2.1, §2.3).
 */
function bearerToken(authorization: string | undefined, params: Params): string | undefined {
  const header = /^Bearer (.*)$/is.exec(authorization ?? '');
  const token = header?.[1] ?? params.get('access_token') ?? params.get('bearer_token');
  return token === undefined || token.trim() === '' ? undefined : token;
}

/**
 * `OAuth::Token.authenticate`: looks the request's token up and, in on_use rotation, revokes the pair this token
 * was refreshed from (`revoke_previous_refresh_token!`): the lookup is the "first use" that retires the previous
 * pair. Doorkeeper does so on any lookup, even of an expired token, and only once: `previous_refresh_token` is
 * cleared. Synchronous, hence atomic.
 */
export function authenticateRequest(
  state: EmulatorState,
  c: Context<EmulatorEnv>,
): AccessTokenRecord | undefined {
  const token = bearerToken(c.req.header('authorization'), parseQuery(c.req.url));
  const record = token === undefined ? undefined : state.store.byToken(token);
  if (record === undefined) return undefined;
  if (record.previousRefreshToken !== '') {
    const previous = state.store.byRefreshToken(record.previousRefreshToken);
    if (previous !== undefined) state.store.revoke(previous, state.clock.nowMs());
    record.previousRefreshToken = '';
  }
  return record;
}

/** `InvalidTokenResponse.from_access_token`: revoked first, then expired, else unknown. */
function invalidTokenReason(record: AccessTokenRecord | undefined, nowMs: number): InvalidTokenReason {
  if (record === undefined) return 'unknown';
  if (isRevoked(record)) return 'revoked';
  if (isExpired(record, nowMs)) return 'expired';
  return 'unknown';
}

export type ApiAuthorization =
  | { readonly ok: true; readonly token: AccessTokenRecord }
  | {
      readonly ok: false;
      readonly outcome: 'invalid_token' | 'insufficient_scope';
      readonly response: Response;
    };

/** `doorkeeper_authorize! scope` for the protected API. */
export function authorizeApiRequest(
  state: EmulatorState,
  c: Context<EmulatorEnv>,
  scope: string,
): ApiAuthorization {
  const token = authenticateRequest(state, c);
  const nowMs = state.clock.nowMs();
  if (token === undefined || !isAccessible(token, nowMs)) {
    const description = INVALID_TOKEN_DESCRIPTIONS[invalidTokenReason(token, nowMs)];
    // `doorkeeper_render_error`: the ErrorResponse headers without Content-Type, then `head :unauthorized`.
    const challenge = { 'WWW-Authenticate': wwwAuthenticate('invalid_token', description) };
    return { ok: false, outcome: 'invalid_token', response: emptyAnswer(401, challenge) };
  }
  // ForbiddenTokenResponse drops the WWW-Authenticate header.
  if (!token.scopes.includes(scope)) {
    return { ok: false, outcome: 'insufficient_scope', response: emptyAnswer(403) };
  }
  return { ok: true, token };
}

function emptyAnswer(status: 401 | 403, headers: Record<string, string> = {}): Response {
  return new Response(null, {
    status,
    headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Length': '0', ...headers },
  });
}
